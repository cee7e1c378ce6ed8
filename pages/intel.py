"""Intel: indicators and techniques from reports, ATT&CK, the correlation graph and its explanations, feeds in the
warehouse, and matching events against them."""

import streamlit as st

from core.intel import service
from core.intel.attack.store import AttackStore
from core.intel.store import IntelStore
from core.intel.views import intel_report
from ui import common
from ui.intel import attack, feeds, graph, matching, report, techniques

wh = common.warehouse()
store = IntelStore(wh)
st.title("Threat intelligence")
st.caption(
    "Indicators and ATT&CK techniques from reports (defanged or not), ATT&CK itself, a correlation graph that "
    "explains why, feeds in the warehouse, and matching events against them."
)
run = common.number(common.linked().get("run"))
runs = store.match_runs()
if run is not None and run in set(runs["id"]):
    dataset = runs.loc[runs["id"] == run, "dataset"].iloc[0]
    st.session_state.update(intel_dataset=dataset, intel_show_run=run)
    common.from_investigation(f"match run {run} of {common.md_escape(dataset)}, shown on the Match tab")
report_tab, attack_tab, graph_tab, feeds_tab, match_tab = st.tabs(["Report", "ATT&CK", "Graph", "Feeds", "Match"])
indicators = technique_table = explanation = None
with attack_tab:
    release = attack.show(AttackStore(wh))
with report_tab:
    text = report.report_text()
    if text:
        indicators = report.show(store, text)
        st.subheader("ATT&CK techniques")
        technique_table = techniques.show(wh, text, indicators, release)
with graph_tab:
    explanation = graph.show(wh, release)
with feeds_tab:
    feeds.show(store)
with match_tab:
    dataset, hits = matching.show(store, wh.list_datasets())
common.report_button(
    lambda: intel_report(
        indicators, service.feed_ages(store), hits, dataset, techniques=technique_table, explanation=explanation
    ),
    "Threat intelligence",
    "intel_report",
)
