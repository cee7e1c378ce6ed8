"""The FBAS page's what-if panel: take nodes offline, edit quorum sets (form or JSON), add or remove nodes,
undo, reset, download, save a scenario. Widgets only: the edits themselves are core.fbas.whatif's."""

import json

import streamlit as st

from core.fbas.model import Fbas, FbasFormatError
from core.fbas.whatif import (
    AddNode,
    Offline,
    RemoveNodes,
    SetQuorumSet,
    apply_edits,
    node_label,
    organization_members,
    qset_from_json,
    scenario_payload,
    to_stellarbeat_json,
    validators_of,
)
from core.warehouse import Warehouse, WarehouseError
from ui import common


def what_if_panel(fbas: Fbas, current: Fbas, wh: Warehouse) -> None:
    """The what-if controls; edits go to st.session_state["fbas_edits"], nothing is written until saved."""
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
            _qset_form(fbas, current, edits, key, qset)
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


def _qset_form(fbas: Fbas, current: Fbas, edits: list, key: str, qset) -> None:
    """Threshold and validators of the top level as a form; inner quorum sets are kept as they are."""
    token = f"{key}_{len(edits)}"
    left, right = st.columns([1, 4])
    named = list(dict.fromkeys(qset.validators)) if qset else []
    members = right.multiselect(
        "Validators (top level)",
        list(dict.fromkeys([*validators_of(current), *named])),  # members that are offline or unknown stay listed
        default=named,
        format_func=lambda k: node_label(fbas, k),
        key=f"fbas_q_members_{token}",
    )
    inner = len(qset.inner) if qset else 0
    threshold = left.number_input(
        "Threshold",
        1,
        max(len(members) + inner, 1),
        min(qset.threshold, max(len(members) + inner, 1)) if qset else 1,
        key=f"fbas_q_threshold_{token}",
        help=f"Out of {len(members)} validators and {inner} inner set(s).",
    )
    if st.button("Apply form", icon=":material/tune:", key="fbas_apply_form"):
        raw = {
            "threshold": int(threshold),
            "validators": members,
            "innerQuorumSets": [c.to_json() for c in qset.inner] if qset else [],
        }
        try:
            st.session_state["fbas_edits"] = [*edits, SetQuorumSet(key, qset_from_json(json.dumps(raw)))]
        except FbasFormatError as exc:
            st.error(common.md_escape(exc), icon=":material/error:")
        else:
            st.rerun()


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
