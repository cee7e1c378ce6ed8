"""The FBAS page's what-if panel: take nodes offline, edit quorum sets (form or JSON), add or remove nodes,
undo, reset, download, save a scenario. Widgets only: the edits themselves are core.fbas.whatif's."""

import json

import streamlit as st

from core.cases import publish
from core.errors import CtasError
from core.fbas.model import Fbas, FbasFormatError, QuorumSet
from core.fbas.results import Scan
from core.fbas.signals import worse_signals
from core.fbas.store import ScenarioStore
from core.fbas.whatif import (
    AddNode,
    Offline,
    RemoveNodes,
    SetQuorumSet,
    apply_edits,
    node_label,
    organization_inner_set,
    organization_members,
    qset_from_json,
    scenario_payload,
    to_stellarbeat_json,
    validators_of,
)
from core.warehouse import Warehouse
from ui import common


def what_if_panel(fbas: Fbas, current: Fbas, wh: Warehouse, scans: tuple[Scan, Scan]) -> None:
    """The what-if controls; edits go to st.session_state["fbas_edits"], nothing is written until saved. Saving a
    scenario publishes what it makes worse (`scans`: before and after) to investigations."""
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
                saved = ScenarioStore(wh).save(
                    "fbas", name, scenario_payload(fbas, edits, st.session_state.get("fbas_label", ""))
                )
                publish(wh, worse_signals(saved, scans[0].results["organization"], scans[1].results["organization"]))
            except CtasError as exc:
                st.error(common.md_escape(exc), icon=":material/error:")
            else:
                st.success(
                    f"Saved the scenario {common.md_escape(name.strip())}: reopen it under FBAS → Saved scenario."
                )


def _qset_form(fbas: Fbas, current: Fbas, edits: list, key: str, qset: QuorumSet | None) -> None:
    """The quorum set as a form: top-level validators, each inner set (threshold, validators, or dropped), inner
    sets added per organization, and the top threshold. Sets nested deeper than one level are kept as they are."""
    token = f"{key}_{len(edits)}"
    choices = list(dict.fromkeys([*validators_of(current), *(qset.members() if qset else ())]))

    def label(k: str) -> str:
        return node_label(fbas, k)

    named = list(dict.fromkeys(qset.validators)) if qset else []
    members = st.multiselect("Validators (top level)", choices, default=named, format_func=label,
                             key=f"fbas_q_members_{token}")  # fmt: skip
    inner: list[dict] = []
    for i, child in enumerate(qset.inner if qset else ()):
        row = st.columns([1, 5, 1], vertical_alignment="bottom")
        chosen = row[1].multiselect(f"Inner set {i + 1}: validators", choices, default=list(child.validators),
                                    format_func=label, key=f"fbas_q_inner_members_{token}_{i}")  # fmt: skip
        most = max(len(chosen) + len(child.inner), 1)
        threshold = row[0].number_input(f"Inner set {i + 1}: threshold", 1, most, min(max(child.threshold, 1), most),
                                        key=f"fbas_q_inner_threshold_{token}_{i}_{most}")  # fmt: skip
        if not row[2].checkbox("Drop", key=f"fbas_q_inner_drop_{token}_{i}"):
            nested = [c.to_json() for c in child.inner]
            inner.append({"threshold": int(threshold), "validators": chosen, "innerQuorumSets": nested})
    organizations = organization_members(current)
    added = st.multiselect("Add an inner set per organization (a majority of its nodes)", sorted(organizations),
                           key=f"fbas_q_inner_add_{token}")  # fmt: skip
    inner += [organization_inner_set(organizations[org]).to_json() for org in added]
    most = max(len(members) + len(inner), 1)
    threshold = st.number_input(
        "Threshold (top level)",
        1,
        most,
        min(max(qset.threshold, 1), most) if qset else 1,
        key=f"fbas_q_threshold_{token}_{most}",
        help=f"Out of {len(members)} validators and {len(inner)} inner set(s).",
    )
    if st.button("Apply form", icon=":material/tune:", key="fbas_apply_form"):
        raw = {"threshold": int(threshold), "validators": members, "innerQuorumSets": inner}
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
