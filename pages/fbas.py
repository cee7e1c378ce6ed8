"""FBAS topology: is a Stellar-style network safe and live, whom does it depend on, and what if something changes?"""

import json

import streamlit as st

from core.fbas.analysis import SearchLimitError
from core.fbas.graph import ring_layout, topology_figure
from core.fbas.model import Fbas, FbasFormatError, loads
from core.fbas.scan import faulty_nodes, scan
from core.fbas.snapshots import SNAPSHOTS
from core.fbas.whatif import (
    HEADLINES,
    AddNode,
    Offline,
    RemoveNodes,
    SetQuorumSet,
    apply_edits,
    diff_frame,
    headline,
    node_label,
    organization_members,
    qset_from_json,
    scenario_from_payload,
    scenario_payload,
    sets_frame,
    to_stellarbeat_json,
    validators_of,
)
from core.report import Report
from core.warehouse import WarehouseError
from ui import common

MERGES = {"Node": "node", "Organization": "organization", "Country": "country", "ISP": "isp"}
SHOWN_SETS = 200  # rows shown in the set tables; the CSV downloads hold every set
STEP_BUDGET = 10_000_000  # a few seconds of enumeration: the page's time limit
wh = common.warehouse()


@st.cache_data(max_entries=24, show_spinner=False)
def _scan(nodes_json: str, organizations: str, parity: bool) -> dict:
    """Every analysis for every grouping, cached per FBAS content (edits included)."""
    fbas = loads(nodes_json)
    fbas.organizations.update(json.loads(organizations))
    return scan(
        fbas,
        merges=list(MERGES.values()),
        faulty=faulty_nodes(fbas, "auto"),
        stellarbeat_parity=parity,
        max_sets=1_000_000,
        max_steps=STEP_BUDGET,
    )


@st.cache_data(max_entries=8, show_spinner=False)
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
        saved = wh.list_scenarios("fbas")
        if not saved:
            st.info("No saved scenarios yet: make a what-if edit below and save it.")
            return None
        labels = {name: f"{name} (saved {when:%Y-%m-%d %H:%M} UTC)" for name, when in saved}
        name = st.selectbox("Scenario", list(labels), format_func=labels.get, key="fbas_scenario")
        if st.session_state.get("fbas_loaded_from") != ("scenario", name):
            _forget_editors()
            base, edits, source = scenario_from_payload(wh.load_scenario("fbas", name))
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


def _what_if(fbas: Fbas, current: Fbas) -> None:
    edits = st.session_state["fbas_edits"]
    st.subheader("What if…")
    offline_tab, qset_tab, nodes_tab = st.tabs(["Take nodes offline", "Edit a quorum set", "Add or remove nodes"])
    with offline_tab:
        members = organization_members(current)
        orgs = st.multiselect(
            "Organizations",
            sorted(members),
            key="fbas_off_orgs",
            help="Every node of the organization stops validating.",
        )
        nodes = st.multiselect(
            "Nodes", validators_of(current), format_func=lambda k: node_label(fbas, k), key="fbas_off_nodes"
        )
        if st.button(
            "Take offline", icon=":material/power_off:", key="fbas_apply_offline", disabled=not (orgs or nodes)
        ):
            keys = tuple(sorted({k for org in orgs for k in members[org]} | set(nodes)))
            st.session_state["fbas_edits"] = [*edits, Offline(keys)]
            st.rerun()
    with qset_tab:
        key = st.selectbox("Node", validators_of(current), format_func=lambda k: node_label(fbas, k), key="fbas_q_node")
        if key is not None:
            qset = current.nodes[key].qset
            text = st.text_area(
                "Quorum set (JSON)",
                json.dumps(qset.to_json() if qset else None, indent=1),
                height=220,
                key=f"fbas_q_text_{key}_{len(edits)}",
            )
            if st.button("Apply quorum set", icon=":material/edit:", key="fbas_apply_qset"):
                try:
                    st.session_state["fbas_edits"] = [*edits, SetQuorumSet(key, qset_from_json(text))]
                except FbasFormatError as exc:
                    st.error(common.md_escape(exc), icon=":material/error:")
                else:
                    st.rerun()
    with nodes_tab:
        _add_or_remove(fbas, current, edits)
    cols = st.columns([2, 2, 3, 5])
    if cols[0].button("Undo", icon=":material/undo:", key="fbas_undo", disabled=not edits):
        st.session_state["fbas_edits"] = edits[:-1]
        st.rerun()
    if cols[1].button("Reset", icon=":material/restart_alt:", key="fbas_reset", disabled=not edits):
        st.session_state["fbas_edits"] = []
        st.rerun()
    cols[2].download_button(
        "Download edited FBAS",
        data=lambda: to_stellarbeat_json(current),
        file_name="fbas-edited.json",
        mime="application/json",
        icon=":material/download:",
        on_click="ignore",
        key="fbas_download",
    )
    if edits:
        cols[3].caption("Edits: " + common.md_escape("; ".join(edit.describe() for edit in edits)))
        save = st.columns([4, 2, 6])
        name = save[0].text_input("Scenario name", key="fbas_scenario_name", placeholder="e.g. LOBSTR offline")
        if save[1].button("Save scenario", icon=":material/save:", key="fbas_save"):
            try:
                wh.save_scenario("fbas", name, scenario_payload(fbas, edits, st.session_state.get("fbas_label", "")))
            except WarehouseError as exc:
                st.error(common.md_escape(exc), icon=":material/error:")
            else:
                st.success(
                    f"Saved the scenario {common.md_escape(name.strip())}: reopen it under FBAS → Saved scenario."
                )


def _add_or_remove(fbas: Fbas, current: Fbas, edits: list) -> None:
    left, right = st.columns(2)
    gone = left.multiselect(
        "Remove nodes", validators_of(current), format_func=lambda k: node_label(fbas, k), key="fbas_remove_nodes"
    )
    if left.button("Remove", icon=":material/delete:", key="fbas_apply_remove", disabled=not gone):
        st.session_state["fbas_edits"] = [*edits, RemoveNodes(tuple(gone))]
        st.rerun()
    key = right.text_input("New node's public key (or any unique name)", key="fbas_add_key")
    organization = right.text_input("Its organization (optional)", key="fbas_add_org")
    template = current.nodes[validators_of(current)[0]].qset if current.validators else None
    text = right.text_area(
        "Its quorum set (JSON)", json.dumps(template.to_json() if template else None), height=140, key="fbas_add_qset"
    )
    if right.button("Add node", icon=":material/add:", key="fbas_apply_add", disabled=not key.strip()):
        try:
            edit = AddNode(key.strip(), qset_from_json(text), organization.strip() or None)
            apply_edits(current, [edit])
        except FbasFormatError as exc:
            right.error(common.md_escape(exc), icon=":material/error:")
        else:
            st.session_state["fbas_edits"] = [*edits, edit]
            st.rerun()


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
merge_label = controls[0].radio("Group by", list(MERGES), horizontal=True, key="fbas_merge")
merge = MERGES[merge_label]
parity = controls[1].toggle(
    "stellarbeat parity",
    value=True,
    key="fbas_parity",
    help="Drop nodes that are a quorum on their own first, as stellarbeat's scanner does.",
)
organizations = json.dumps(sorted(base.organizations.items()))
current_organizations = json.dumps(sorted(current.organizations.items()))
with st.status("Analysing…", expanded=False) as status:
    try:
        before = _scan(to_stellarbeat_json(base), organizations, parity)
        after = _scan(to_stellarbeat_json(current), current_organizations, parity) if edits else before
    except FbasFormatError as exc:
        status.update(label="Analysis failed", state="error")
        st.error(common.md_escape(exc))
        st.stop()
    except SearchLimitError as exc:
        status.update(label="Analysis stopped at the page's time limit", state="error")
        st.error(
            f"**This network has too many sets to list on the page.** {common.md_escape(exc)} Run "
            "`python -m core.fbas analyze FILE --timeout 600 --json` for a longer search.",
            icon=":material/timer_off:",
        )
        st.stop()
    status.update(label=f"Analysed in {after['elapsed_ms']['total']:,.0f} ms", state="complete")

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
choices = {
    "nothing": [],
    "a minimal quorum": result["minimal_quorums"]["sets"],
    "a minimal blocking set": result["minimal_blocking_sets"]["sets"],
    "a minimal splitting set": result["minimal_splitting_sets"]["sets"],
}
pick = st.columns([2, 1, 3])
kind = pick[0].selectbox("Highlight on the graph", list(choices), key="fbas_highlight")
index = pick[1].number_input("Which one", 1, max(len(choices[kind]), 1), 1, key="fbas_highlight_n") - 1
chosen = choices[kind][index] if choices[kind] else []
groups = set(chosen)
highlight = frozenset(k for k in current.validators if (current.group_of(k, merge) or k) in groups)
tier = frozenset(after["results"]["node"]["top_tier"])
positions = _positions(to_stellarbeat_json(base), organizations, tuple(sorted(before["results"]["node"]["top_tier"])))
positions = {**ring_layout(current, tier), **positions}  # nodes added by an edit get a place too
title = f"Trust graph: top tier of {len(tier)} on the inner ring" + (
    f"; {kind} ({len(chosen)} by {merge_label.lower()}) ringed red" if chosen else ""
)
figure = topology_figure(current, tier, highlight=highlight, positions=positions, title=title)
st.plotly_chart(figure, width="stretch", key="fbas_graph")

_what_if(base, current)

tables = st.columns(2)
for column, field, title in (
    (tables[0], "minimal_blocking_sets", "Minimal blocking sets"),
    (tables[1], "minimal_splitting_sets", "Minimal splitting sets"),
):
    summary = result[field]
    frame = sets_frame(current, summary["sets"], merge)
    column.markdown(f"**{title}** — {summary['count']:,} in all, sizes {summary['min']}–{summary['max']}")
    column.dataframe(frame.head(SHOWN_SETS), hide_index=True, width="stretch", height=300)
    with column:
        common.csv_button(lambda frame=frame: frame, f"{field}-{merge}.csv", f"fbas_csv_{field}", "Download CSV")


def _report() -> Report:
    report = Report("FBAS analysis", subtitle=f"{len(current.nodes)} nodes, grouped by {merge_label.lower()}")
    report.add_markdown(f"{len(edits)} what-if edit(s): " + ("; ".join(e.describe() for e in edits) or "none"))
    report.add_table(diff_frame(then, now), caption="Headline figures (before → after the edits)")
    report.add_figure(figure, caption="Trust graph")
    report.add_table(
        sets_frame(current, result["minimal_blocking_sets"]["sets"], merge), caption="Minimal blocking sets"
    )
    report.add_table(
        sets_frame(current, result["minimal_splitting_sets"]["sets"], merge), caption="Minimal splitting sets"
    )
    return report


common.report_button(_report, "FBAS analysis", key="fbas_report")
