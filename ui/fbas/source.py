"""Where the FBAS page's network comes from: a shipped snapshot, an upload or a saved scenario."""

import streamlit as st

from core.fbas.model import Fbas, FbasFormatError, loads
from core.fbas.results import group_warnings
from core.fbas.snapshots import SNAPSHOTS
from core.fbas.store import ScenarioStore
from core.fbas.whatif import node_label, scenario_from_payload
from core.warehouse import Warehouse
from ui import common

EDITOR_PREFIXES = ("fbas_q_", "fbas_add_", "fbas_off_", "fbas_remove_")


def forget_editors() -> None:
    """Drop the what-if widgets' values: they belong to the previous network."""
    for key in [k for k in st.session_state if str(k).startswith(EDITOR_PREFIXES)]:
        del st.session_state[key]


def load_source(wh: Warehouse) -> Fbas | None:
    """The network the analyst chose (kept in the session with its edits), or None until there is one; a link from
    Investigations opens the saved scenario it names."""
    scenario = common.linked().get("scenario")
    if scenario is not None and scenario in {name for name, _ in ScenarioStore(wh).names("fbas")}:
        st.session_state.update(fbas_source_kind="Saved scenario", fbas_scenario=scenario)
        common.from_investigation(f"the saved scenario {common.md_escape(scenario)}")
    choice = st.radio("FBAS", ["Shipped snapshot", "Upload", "Saved scenario"], horizontal=True, key="fbas_source_kind")
    if choice == "Saved scenario":
        return _saved_scenario(wh)
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
        forget_editors()
        st.session_state.update(fbas_loaded_from=source_id, fbas_edits=[], fbas_label=label)
    return st.session_state["fbas_base"]


def _saved_scenario(wh: Warehouse) -> Fbas | None:
    store = ScenarioStore(wh)
    saved = store.names("fbas")
    if not saved:
        st.info("No saved scenarios yet: make a what-if edit below and save it.")
        return None
    labels = {name: f"{name} (saved {when:%Y-%m-%d %H:%M} UTC)" for name, when in saved}
    name = st.selectbox("Scenario", list(labels), format_func=labels.get, key="fbas_scenario")
    if st.session_state.get("fbas_loaded_from") != ("scenario", name):
        forget_editors()
        base, edits, source = scenario_from_payload(store.load("fbas", name))
        st.session_state.update(fbas_base=base, fbas_edits=edits, fbas_label=source)
        st.session_state["fbas_loaded_from"] = ("scenario", name)
    return st.session_state["fbas_base"]


def data_warnings(fbas: Fbas) -> None:
    """The input's data-quality warnings, counted by code, in an expander."""
    if not fbas.warnings:
        return
    groups = group_warnings(fbas.warnings)
    summary = ", ".join(f"{code} × {len(items)}" for code, items in groups)
    with st.expander(f"Data quality: {len(fbas.warnings)} warning(s) — {summary}", icon=":material/warning:"):
        for code, items in groups:
            st.markdown(f"**{code}** ({len(items)}): {common.md_escape(items[0].message)}")
            names = ", ".join(node_label(fbas, w.node) for w in items[:12] if w.node)
            st.caption(common.md_escape(names) + (" …" if len(items) > 12 else ""))
