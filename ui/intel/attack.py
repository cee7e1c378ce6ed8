"""The ATT&CK tab: releases in the warehouse, search, an object's profile on the matrix, the group x technique
matrix, what changed between two releases, and Navigator layers."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.errors import CtasError
from core.intel.attack import releases
from core.intel.attack.diff import object_changes, relationship_changes
from core.intel.attack.navigator import layer_json
from core.intel.attack.store import AttackStore
from core.intel.attack.views import matrix_figure
from ui import common
from ui.background import run_cancellable

MAX_BUNDLE_UPLOAD = 100 * 2**20
KINDS = ["technique", "group", "software", "campaign", "mitigation", "tactic", "data source", "data component"]


def _load_panel(store: AttackStore) -> None:
    found = [b for b in releases.KNOWN_BUNDLES if releases.known_bundle_path(b)]
    cells = st.columns(max(1, len(found) + 1))
    for cell, bundle in zip(cells, found, strict=False):
        if cell.button(f"Load {bundle.name}", key=f"attack_load_{bundle.file_name}", icon=":material/download:"):
            st.session_state["attack_load_request"] = bundle.file_name
    request = st.session_state.get("attack_load_request")  # kept until the job ends: a rerun meanwhile rejoins it
    if request:
        bundle = next(b for b in found if b.file_name == request)
        with common.dropping("attack_load_request"):
            name = run_cancellable(
                "attack_load",
                request,
                lambda: releases.load_known_release(store, bundle),
                label=f"Loading ATT&CK {bundle.name}…",
                limit_s=120,
            )
        if name:
            st.session_state["attack_release"] = name
    with st.expander("Upload an ATT&CK STIX bundle (JSON or gzip)"):
        upload = st.file_uploader("Bundle", type=["json", "gz"], key="attack_upload")
        label = st.text_input("Release name (empty: domain and version or date)", key="attack_upload_name")
        if upload is not None and st.button("Store release", key="attack_upload_go"):
            if upload.size > MAX_BUNDLE_UPLOAD:
                st.error(f"The file is larger than {MAX_BUNDLE_UPLOAD // 2**20} MiB.", icon=":material/error:")
                return
            try:
                name = releases.load_release(store, upload.getvalue(), upload.name, label or None)
            except CtasError as exc:
                st.error(common.md_escape(exc), icon=":material/error:")
                return
            st.session_state["attack_release"] = name
            st.success(f"Stored release {common.md_escape(name)}.", icon=":material/check:")


def choose_release(store: AttackStore, key: str = "attack_release") -> str | None:
    """A release picker (newest load first); None when none is stored."""
    names = store.releases()["release"].tolist()
    if not names:
        return None
    if st.session_state.get(key) not in names:
        st.session_state[key] = names[0]
    return st.selectbox("ATT&CK release", names, key=key)


def _profile(store: AttackStore, release: str, attack_id: str) -> None:
    found = store.profile(release, attack_id)
    if found["object"].empty:
        st.info(f"{common.md_escape(attack_id)} is not in {common.md_escape(release)}.", icon=":material/info:")
        return
    item = found["object"].iloc[0]
    st.subheader(common.md_escape(f"{item['attack_id']} {item['name']} ({item['kind']})"))
    if item["aliases"] is not None and len(item["aliases"]):
        st.caption("Also known as: " + common.md_escape(", ".join(item["aliases"])))
    with st.expander("Description"):
        st.text(item["description"] or "")
    related = found["related"]
    st.dataframe(
        related,
        hide_index=True,
        width="stretch",
        column_config={"description": st.column_config.TextColumn("Procedure or note", width="large")},
    )
    techniques = related[(related["kind"] == "technique") & (related["relationship"] == "uses")]["attack_id"]
    if item["kind"] == "technique":
        techniques = pd.Series([item["attack_id"]])
    scores = dict.fromkeys(techniques.dropna(), 1.0)
    if scores:
        st.plotly_chart(
            matrix_figure(
                store.techniques(release), store.tactics(release), scores, title=f"{item['name']} on the ATT&CK matrix"
            ),
            width="stretch",
        )
        st.download_button(
            "Download Navigator layer",
            data=layer_json(f"CTAS: {item['name']}", sorted(scores), description=f"{item['attack_id']} in {release}"),
            file_name=f"{item['attack_id']}_layer.json",
            mime="application/json",
            icon=":material/download:",
            on_click="ignore",
            key="attack_profile_layer",
        )


def show(store: AttackStore) -> str | None:
    """The ATT&CK tab; returns the release shown."""
    _load_panel(store)
    release = choose_release(store)
    if release is None:
        st.info("No ATT&CK release is stored yet: load one above.", icon=":material/info:")
        return None
    browse, matrix, compare = st.tabs(["Browse", "Group × technique", "Compare releases"])
    with browse:
        left, right = st.columns([3, 2])
        text = left.text_input("Search ids, names, aliases and descriptions", key="attack_search", max_chars=200)
        kinds = right.multiselect("Kinds", KINDS, key="attack_kinds", placeholder="All kinds")
        hits = store.search(release, text, tuple(kinds))
        st.dataframe(hits.drop(columns=["stix_id"]), hide_index=True, width="stretch")
        ids = hits["attack_id"].dropna().tolist()
        chosen = st.selectbox("Open an object", ids, key="attack_open", index=None, placeholder="Choose one to open")
        if chosen:
            _profile(store, release, chosen)
    with matrix:
        table = store.group_technique_matrix(release)
        st.caption(f"{table.shape[0]:,} groups × {table.shape[1]:,} techniques they use directly.")
        counts = table.sum(axis=1).sort_values(ascending=False).rename("techniques").reset_index()
        st.dataframe(counts, hide_index=True, width="stretch", height=300)
        common.csv_button(lambda: table.astype(int).reset_index(), "group_technique_matrix.csv", "attack_matrix_csv")
    with compare:
        names = store.releases()["release"].tolist()
        if len(names) < 2:
            st.info("Store a second release to compare (for example an older bundle).", icon=":material/info:")
        else:
            left, right = st.columns(2)
            old = left.selectbox("Older", names, index=1, key="attack_old")
            new = right.selectbox("Newer", names, index=0, key="attack_new")
            changes = object_changes(store.objects(old), store.objects(new))
            st.dataframe(changes, hide_index=True, width="stretch")
            links = relationship_changes(store.relationship_pairs(old), store.relationship_pairs(new))
            st.dataframe(links, hide_index=True, width="stretch")
            common.csv_button(lambda: changes, "attack_changes.csv", "attack_changes_csv", "Download object changes")
    return release
