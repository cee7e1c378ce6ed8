"""The correlation graph: events, indicators, feeds, families, ATT&CK actors and techniques, and reports as typed
nodes; stored and inferred edges that keep their source (`store`, `build`); shortest explanations (`explain`)."""
