"""Panels of the Bitcoin network page."""
