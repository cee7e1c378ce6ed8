"""The FBAS topology page's panels."""
