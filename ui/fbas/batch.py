"""The FBAS page's batch analyses: the criticality sweep of the network shown, and snapshots compared over time.

Both run as parallel maps (`core.compute`: in this process, or on the Dask cluster the compute setting names) with
done, total and time left on the page and a Cancel button; a result is kept in the session for its input.
"""

from __future__ import annotations

import hashlib
import json

import streamlit as st

from core import compute
from core.fbas.batch import (
    MAX_SNAPSHOT_BYTES,
    MAX_SNAPSHOTS,
    SnapshotFile,
    compare_snapshots,
    criticality_sweep,
    snapshots_figure,
    snapshots_in_folder,
    sweep_figure,
)
from core.fbas.model import Fbas
from core.fbas.snapshots import FOLDER
from ui import common
from ui.background import ask_for_batch, run_batch
from ui.errors import guarded

BATCH_SECONDS = 600
GROUPINGS = {"Organization": "organization", "Country": "country", "ISP": "isp"}


@guarded
def panels(fbas: Fbas, network_key: str) -> None:
    """The two batch analyses, each in its own tab; `network_key` names the content of `fbas` (a kept sweep is
    shown again while it is unchanged)."""
    st.subheader("Batch analyses")
    st.caption(f"Where they run: {common.compute_line()}.", help=common.COMPUTE_HELP)
    sweep_tab, compare_tab = st.tabs(["Criticality sweep", "Compare snapshots"])
    with sweep_tab:
        _sweep(fbas, network_key)
    with compare_tab:
        _compare()


def _sweep(fbas: Fbas, network_key: str) -> None:
    st.caption(
        "Take each group offline in turn (its validators stop voting) and rank the groups by what breaks: the "
        "network halts, it can fork, or how few further nodes could then halt or split it."
    )
    label = st.radio("Take offline, one at a time, each", list(GROUPINGS), horizontal=True, key="fbas_sweep_by")
    grouping = GROUPINGS[label]
    signature = _digest([network_key, grouping])
    st.button("Run the sweep", key="fbas_sweep_run", icon=":material/play_arrow:", on_click=ask_for_batch,
              args=("fbas_sweep", signature))  # fmt: skip
    table = run_batch("fbas_sweep", signature, lambda p: criticality_sweep(fbas, grouping, handle=compute.client(),
                      progress=p), label="Sweeping…", limit_s=BATCH_SECONDS)  # fmt: skip
    if table is None:
        return
    worst = table.iloc[1]
    st.markdown(
        f"**Most critical {grouping}: {common.md_escape(worst['group'])}** — {common.md_escape(worst['breaks'])}."
    )
    st.plotly_chart(sweep_figure(table, grouping), key="fbas_sweep_chart")
    st.dataframe(table, hide_index=True, width="stretch", key="fbas_sweep_table")
    common.csv_button(lambda: table, f"fbas_criticality_{grouping}.csv", "fbas_sweep_csv")


def _compare() -> None:
    st.caption(
        "One scan per snapshot (organization level where a snapshot names organizations) in one table over time. "
        f"Up to {MAX_SNAPSHOTS} nodes files of up to {MAX_SNAPSHOT_BYTES // 2**20} MiB each."
    )
    source = st.radio("Snapshots", ["Shipped snapshots", "Uploads"], horizontal=True, key="fbas_compare_source")
    if source == "Uploads":
        uploads = st.file_uploader(
            "Nodes JSON files", type=["json"], accept_multiple_files=True, key="fbas_compare_files"
        )
        if not uploads:
            st.info("Upload two or more stellarbeat nodes exports (their dates come from the nodes' dateUpdated).")
            return
        if len(uploads) > MAX_SNAPSHOTS:
            st.error(f"{len(uploads):,} files were uploaded; compare at most {MAX_SNAPSHOTS}.", icon=":material/error:")
            return
        snapshots = [SnapshotFile(u.name, u.getvalue()) for u in uploads]
    else:
        snapshots = snapshots_in_folder(FOLDER)
    signature = _digest([[s.label, hashlib.sha256(s.nodes).hexdigest()] for s in snapshots])
    st.button("Compare", key="fbas_compare_run", icon=":material/play_arrow:", on_click=ask_for_batch,
              args=("fbas_compare", signature))  # fmt: skip
    table = run_batch("fbas_compare", signature, lambda p: compare_snapshots(snapshots, handle=compute.client(),
                      progress=p), label="Comparing…", limit_s=BATCH_SECONDS)  # fmt: skip
    if table is None:
        return
    st.plotly_chart(snapshots_figure(table), key="fbas_compare_chart")
    st.dataframe(table, hide_index=True, width="stretch", key="fbas_compare_table")
    common.csv_button(lambda: table, "fbas_snapshots.csv", "fbas_compare_csv")


def _digest(parts: object) -> str:
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()
