"""Streamlit helpers shared by every page: widgets only, no algorithms and no SQL."""
