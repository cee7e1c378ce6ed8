"""The Investigations page's panels."""
