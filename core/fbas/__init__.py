"""FBAS analysis: Stellar-style federated Byzantine agreement systems (model, loaders, quorum analyses)."""
