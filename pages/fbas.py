"""FBAS topology: is a Stellar-style network safe and live, whom does it depend on, and what if something changes?"""

import hashlib
import json

import streamlit as st

from core.fbas.model import FbasFormatError
from core.fbas.scan import is_grouping
from core.fbas.whatif import apply_edits, to_stellarbeat_json
from ui import common
from ui.background import run_cancellable
from ui.fbas import batch, results
from ui.fbas.analysis import MAX_SCAN_SECONDS, MERGES, SCAN_SECONDS, scan_for_page
from ui.fbas.source import data_warnings, load_source
from ui.fbas.whatif import what_if_panel

READINGS = {
    "unconstrained": "Nodes without a quorum set: may join quorums (python-fbas's reading).",
    "unsatisfiable": "Nodes without a quorum set: never in a quorum (stellarbeat's reading).",
}
wh = common.warehouse()

st.title("FBAS topology")
st.caption(
    "Quorum intersection (can the network fork?), blocking sets (who can halt it?), splitting sets (who can split "
    "it?), the top tier, and what-if edits — computed as stellarbeat.io's scanner does, checked against it."
)
base = load_source(wh)
if base is None:
    st.stop()
data_warnings(base)
edits = st.session_state.get("fbas_edits", [])
current = apply_edits(base, edits)
controls = st.columns([3, 2])
merge_label = controls[0].radio("Group by", [*MERGES, "Other field"], horizontal=True, key="fbas_merge")
field = "homeDomain"
if merge_label == "Other field":
    field = controls[0].text_input("Node field", "homeDomain", key="fbas_field", help="Any top-level node field.")
    if not is_grouping(field):
        st.error("A field name is letters, digits and underscores, such as homeDomain.", icon=":material/error:")
        st.stop()
merge = MERGES.get(merge_label, field)
parity = controls[1].toggle(
    "stellarbeat parity",
    value=True,
    key="fbas_parity",
    help="Drop nodes that are a quorum on their own first, as stellarbeat's scanner does.",
)
unconstrained = controls[1].toggle(
    "Nodes without a quorum set may join quorums",
    value=False,
    key="fbas_unconstrained",
    help="Off: such a node is never in a quorum (stellarbeat's reading). On: it may sit in any quorum, though no "
    "quorum is made of such nodes alone (python-fbas's safer reading).",
)
seconds = controls[1].number_input(
    "Time for the analysis (s)",
    min_value=1,
    max_value=MAX_SCAN_SECONDS,
    value=SCAN_SECONDS,
    step=5,
    key="fbas_seconds",
    help="Each enumeration gets a share of this time; one that runs out falls back on its own (the smallest sets, "
    "the top tier from the quorum structure) and says so. Edits double it: both networks are analysed.",
)
missing_qset = "unconstrained" if unconstrained else "unsatisfiable"
inputs = (to_stellarbeat_json(base), json.dumps(sorted(base.organizations.items())), parity, field, missing_qset)
edited = inputs
if edits:
    edited = (to_stellarbeat_json(current), json.dumps(sorted(current.organizations.items())), *inputs[2:])
signature = hashlib.sha256(json.dumps([inputs, edited, seconds]).encode()).hexdigest()
try:
    scans = run_cancellable(
        "fbas_scan",
        signature,
        lambda: (scan_for_page(*inputs, seconds=seconds), scan_for_page(*edited, seconds=seconds)),
        label="Analysing…",
        limit_s=2 * seconds + 30,  # both scans, merging their sets by grouping, and margin
    )
except FbasFormatError as exc:
    st.error(common.md_escape(exc))
    st.stop()
if scans is None:
    st.stop()
view = results.View(base, current, edits, merge, merge_label)
result = scans[1].results[merge]
results.headlines(*scans, merge, edited=bool(edits))
results.findings(result, view)
figure = results.trust_graph(view, scans)
what_if_panel(base, current, wh, scans)
results.set_tables(result, view)
batch.panels(current, hashlib.sha256(json.dumps(edited[:2]).encode()).hexdigest())
reading = READINGS[missing_qset] + (
    " Nodes that are a quorum on their own were dropped first (stellarbeat parity)." if parity else ""
)
common.report_button(lambda: results.report(view, scans, reading, figure), "FBAS analysis", "fbas_report")
