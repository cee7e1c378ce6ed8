"""FBAS topology: is a Stellar-style network safe and live, whom does it depend on, and what if something changes?"""

import hashlib
import json
import re

import streamlit as st

from core.fbas.graph import ring_layout, topology_figure
from core.fbas.model import Fbas, FbasFormatError, loads
from core.fbas.snapshots import SNAPSHOTS
from core.fbas.store import ScenarioStore
from core.fbas.whatif import (
    HEADLINES,
    apply_edits,
    diff_frame,
    headline,
    node_label,
    offline_nodes,
    scenario_from_payload,
    sets_frame,
    to_stellarbeat_json,
)
from core.report import Report
from ui import common
from ui.background import run_cancellable
from ui.fbas_analysis import MERGES, scan_for_page
from ui.fbas_whatif import what_if_panel

SHOWN_SETS = 200  # rows shown in the set tables; the CSV downloads hold every set
PAGE_SECONDS = 60  # the page's time limit for one analysis (each enumeration also has a step budget)
wh = common.warehouse()


@st.cache_data(max_entries=8, show_spinner=False)
def _sets(summary: dict | None) -> list[list[str]]:
    """The sets of a scan's set summary; none where the scan could not compute them."""
    return [] if summary is None else summary["sets"]


def _counted(summary: dict | None) -> str:
    if summary is None:
        return "too many to list; not computed for this grouping"
    if summary["count"] is None:
        return f"too many to list; the smallest have {summary['min']} (one shown)"
    return f"{summary['count']:,} in all, sizes {summary['min']}–{summary['max']}"


def _positions(nodes_json: str, organizations: str, top_tier: tuple[str, ...]) -> dict:
    """Node positions from the unedited FBAS, so nodes stay put while the analyst edits."""
    fbas = loads(nodes_json)
    fbas.organizations.update(json.loads(organizations))
    return ring_layout(fbas, frozenset(top_tier))


def _forget_editors() -> None:
    """Drop the what-if widgets' values: they belong to the previous network."""
    for key in [
        k for k in st.session_state if str(k).startswith(("fbas_q_", "fbas_add_", "fbas_off_", "fbas_remove_"))
    ]:
        del st.session_state[key]


def _load_source() -> Fbas | None:
    choice = st.radio("FBAS", ["Shipped snapshot", "Upload", "Saved scenario"], horizontal=True, key="fbas_source_kind")
    if choice == "Saved scenario":
        saved = ScenarioStore(wh).names("fbas")
        if not saved:
            st.info("No saved scenarios yet: make a what-if edit below and save it.")
            return None
        labels = {name: f"{name} (saved {when:%Y-%m-%d %H:%M} UTC)" for name, when in saved}
        name = st.selectbox("Scenario", list(labels), format_func=labels.get, key="fbas_scenario")
        if st.session_state.get("fbas_loaded_from") != ("scenario", name):
            _forget_editors()
            base, edits, source = scenario_from_payload(ScenarioStore(wh).load("fbas", name))
            st.session_state.update(fbas_base=base, fbas_edits=edits, fbas_label=source)
            st.session_state["fbas_loaded_from"] = ("scenario", name)
        return st.session_state["fbas_base"]
    if choice == "Shipped snapshot":
        snapshot = st.selectbox("Snapshot", SNAPSHOTS, format_func=lambda s: s.label, key="fbas_snapshot")
        source_id, (nodes, organizations) = snapshot.label, snapshot.read()
        label = snapshot.label
    else:
        left, right = st.columns(2)
        upload = left.file_uploader("Nodes JSON (stellarbeat or python-fbas)", type=["json"], key="fbas_nodes")
        orgs = right.file_uploader("Organizations JSON (optional)", type=["json"], key="fbas_orgs")
        if upload is None:
            st.info("Upload a stellarbeat nodes export, or python-fbas's {validators, qsets} format.")
            return None
        source_id = (upload.file_id, orgs.file_id if orgs else None)
        nodes, organizations = upload.getvalue(), orgs.getvalue() if orgs else None
        label = f"upload {upload.name}" + (f" + {orgs.name}" if orgs else "")
    if st.session_state.get("fbas_loaded_from") != source_id:
        try:
            st.session_state["fbas_base"] = loads(nodes, organizations)
        except FbasFormatError as exc:
            st.error(f"**This file cannot be read as an FBAS.** {common.md_escape(exc)}", icon=":material/error:")
            return None
        _forget_editors()
        st.session_state["fbas_loaded_from"] = source_id
        st.session_state["fbas_edits"] = []
        st.session_state["fbas_label"] = label
    return st.session_state["fbas_base"]


def _warnings(fbas: Fbas) -> None:
    if not fbas.warnings:
        return
    counts: dict[str, list] = {}
    for warning in fbas.warnings:
        counts.setdefault(warning.code, []).append(warning)
    summary = ", ".join(f"{code} × {len(items)}" for code, items in sorted(counts.items(), key=lambda kv: -len(kv[1])))
    with st.expander(f"Data quality: {len(fbas.warnings)} warning(s) — {summary}", icon=":material/warning:"):
        for code, items in sorted(counts.items()):
            st.markdown(f"**{code}** ({len(items)}): {common.md_escape(items[0].message)}")
            names = ", ".join(node_label(fbas, w.node) for w in items[:12] if w.node)
            st.caption(common.md_escape(names) + (" …" if len(items) > 12 else ""))


st.title("FBAS topology")
st.caption(
    "Quorum intersection (can the network fork?), blocking sets (who can halt it?), splitting sets (who can split "
    "it?), the top tier, and what-if edits — computed as stellarbeat.io's scanner does, checked against it."
)
base = _load_source()
if base is None:
    st.stop()
_warnings(base)
edits = st.session_state.get("fbas_edits", [])
current = apply_edits(base, edits)
controls = st.columns([3, 2])
merge_label = controls[0].radio("Group by", [*MERGES, "Other field"], horizontal=True, key="fbas_merge")
field = "homeDomain"
if merge_label == "Other field":
    field = controls[0].text_input("Node field", "homeDomain", key="fbas_field", help="Any top-level node field.")
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,63}", field):
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
missing_qset = "unconstrained" if unconstrained else "unsatisfiable"
organizations = json.dumps(sorted(base.organizations.items()))
current_organizations = json.dumps(sorted(current.organizations.items()))
inputs = (to_stellarbeat_json(base), organizations, parity, field, missing_qset)
edited = (to_stellarbeat_json(current), current_organizations, parity, field, missing_qset) if edits else inputs
signature = hashlib.sha256(json.dumps([inputs, edited]).encode()).hexdigest()
try:
    scans = run_cancellable(
        "fbas_scan",
        signature,
        lambda: (scan_for_page(*inputs), scan_for_page(*edited)),
        label="Analysing…",
        limit_s=PAGE_SECONDS,
    )
except FbasFormatError as exc:
    st.error(common.md_escape(exc))
    st.stop()
if scans is None:
    st.stop()
before, after = scans
if after["enumeration"] != "complete":
    st.warning(
        f"**This network has too many sets to list.** {common.md_escape(after['enumeration'])} Figures by "
        "node; the top tier is not known. Run `python -m core.fbas analyze FILE --timeout 600 --json` for a longer "
        "search.",
        icon=":material/timer_off:",
    )

now, then = headline(after, merge), headline(before, merge)
metrics = st.columns(len(HEADLINES))
for column, (field, label) in zip(metrics, HEADLINES, strict=True):
    changed = edits and now[field] != then[field]
    column.metric(
        label, now[field], delta=f"was {then[field]}" if changed else None, delta_color="off", delta_arrow="off"
    )
if edits:
    st.dataframe(diff_frame(then, now), hide_index=True, width="stretch")

result = after["results"][merge]
history = result["history_critical_set"]
if history["size"] is None:
    st.caption(f"History-critical set: not computed ({history['reason']}).")
else:
    names = common.md_escape(", ".join(node_label(current, k) for k in history["nodes"]))
    st.caption(
        f"History-critical set: {history['size']} validator(s) with working history archives ({names}) that, with "
        f"the {len(history['quorum']) - history['size']} whose archives report errors, form a quorum: if their "
        "archives failed too, the network could lose history."
    )
disjoint = result["disjoint_quorums"]
if disjoint:
    sides = [", ".join(node_label(current, k) if merge == "node" else k for k in side) for side in disjoint]
    st.error(
        "**No quorum intersection: the network can fork.** These two quorums share no "
        f"{merge_label.lower()}: ({common.md_escape(sides[0])}) and ({common.md_escape(sides[1])}).",
        icon=":material/call_split:",
    )
choices = {
    "nothing": [],
    **({"the two disjoint quorums": [[*disjoint[0], *disjoint[1]]]} if disjoint else {}),
    "a minimal quorum": _sets(result["minimal_quorums"]),
    "a minimal blocking set": _sets(result["minimal_blocking_sets"]),
    "a minimal splitting set": _sets(result["minimal_splitting_sets"]),
    **({"the history-critical set": [result["history_critical_set"]["groups"]]} if history["size"] else {}),
}
pick = st.columns([2, 1, 3])
kind = pick[0].selectbox("Highlight on the graph", list(choices), key="fbas_highlight")
index = pick[1].number_input("Which one", 1, max(len(choices[kind]), 1), 1, key="fbas_highlight_n") - 1
chosen = choices[kind][index] if choices[kind] else []
groups = set(chosen)
highlight = frozenset(k for k in current.validators if (current.group_of(k, merge) or k) in groups)
tier = frozenset(after["results"]["node"]["top_tier"] or ())
positions = _positions(
    to_stellarbeat_json(base), organizations, tuple(sorted(before["results"]["node"]["top_tier"] or ()))
)
positions = {**ring_layout(current, tier), **positions}  # nodes added by an edit get a place too
title = f"Trust graph: top tier of {len(tier)} on the inner ring" + (
    f"; {kind} ({len(chosen)} by {merge_label.lower()}) ringed red" if chosen else ""
)
offline = offline_nodes(edits)
if offline:
    title += f"; {len(offline)} offline node(s) crossed out"
figure = topology_figure(current, tier, highlight=highlight, positions=positions, title=title, offline=offline)
st.plotly_chart(figure, width="stretch", key="fbas_graph")

what_if_panel(base, current, wh)

tables = st.columns(2)
for column, field, title in (
    (tables[0], "minimal_blocking_sets", "Minimal blocking sets"),
    (tables[1], "minimal_splitting_sets", "Minimal splitting sets"),
):
    summary = result[field]
    frame = sets_frame(current, _sets(summary), merge)
    column.markdown(f"**{title}** — {_counted(summary)}")
    column.dataframe(frame.head(SHOWN_SETS), hide_index=True, width="stretch", height=300)
    with column:
        common.csv_button(lambda frame=frame: frame, f"{field}-{merge}.csv", f"fbas_csv_{field}", "Download CSV")


def _report() -> Report:
    report = Report("FBAS analysis", subtitle=f"{len(current.nodes)} nodes, grouped by {merge_label.lower()}")
    report.add_markdown(f"{len(edits)} what-if edit(s): " + ("; ".join(e.describe() for e in edits) or "none"))
    report.add_markdown(
        "Nodes without a quorum set: "
        + (
            "may join quorums (python-fbas's reading)."
            if unconstrained
            else "never in a quorum (stellarbeat's reading)."
        )
        + (" Nodes that are a quorum on their own were dropped first (stellarbeat parity)." if parity else "")
    )
    report.add_table(diff_frame(then, now), caption="Headline figures (before → after the edits)")
    report.add_figure(figure, caption="Trust graph")
    for field, title in (
        ("minimal_blocking_sets", "Minimal blocking sets"),
        ("minimal_splitting_sets", "Minimal splitting sets"),
    ):
        report.add_table(
            sets_frame(current, _sets(result[field]), merge), caption=f"{title}: {_counted(result[field])}"
        )
    return report


common.report_button(_report, "FBAS analysis", key="fbas_report")
