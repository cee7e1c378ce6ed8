"""Intel: indicators from a report, the feeds that list them, and which events of a dataset match any feed."""

import streamlit as st

from core.intel import service
from core.intel.store import IntelStore
from core.intel.views import intel_report
from ui import common
from ui.intel import feeds, matching, report

wh = common.warehouse()
store = IntelStore(wh)
st.title("Threat intelligence")
st.caption("Indicators from reports (defanged or not), feeds in the warehouse, and matching events against them.")
report_tab, feeds_tab, match_tab = st.tabs(["Report", "Feeds", "Match"])
indicators = None
with report_tab:
    text = report.report_text()
    if text:
        indicators = report.show(store, text)
with feeds_tab:
    feeds.show(store)
with match_tab:
    dataset, hits = matching.show(store, wh.list_datasets())
common.report_button(
    lambda: intel_report(indicators, service.feed_ages(store), hits, dataset), "Threat intelligence", "intel_report"
)
