"""The Intel page's panels: a report's indicators, the feeds, and matching a dataset."""
