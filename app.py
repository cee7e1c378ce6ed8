"""CTAS entry point: page navigation and the shared sidebar."""

import streamlit as st

from ui import common, nav
from ui.errors import page_guard

st.set_page_config(page_title="CTAS", page_icon=":material/shield:", layout="wide")
page = nav.navigation()
common.sidebar(common.warehouse())
with page_guard():
    page.run()
