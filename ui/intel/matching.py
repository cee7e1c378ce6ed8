"""Match a warehouse dataset against every indicator: columns detected and editable, hits by feed and over time."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.intel import service
from core.intel.match import MATCH_TYPES
from core.intel.store import IntelStore
from core.intel.views import hit_summary, hits_by_source_figure, hits_over_time_figure
from core.warehouse import DatasetInfo
from ui import common
from ui.background import run_cancellable

MATCH_LIMIT_S = 600.0
_TIME_WORDS = ("time", "date", "timestamp", "ts")


def _time_column(dataset: DatasetInfo) -> str | None:
    names = [c.name for c in dataset.columns]
    return next((n for n in names if n.lower() in _TIME_WORDS or "time" in n.lower()), None)


def _geo_columns(dataset: DatasetInfo) -> tuple[str, str] | None:
    names = {c.name.lower(): c.name for c in dataset.columns}
    for lat, lon in (("latitude", "longitude"), ("lat", "lon"), ("lat", "lng")):
        if lat in names and lon in names:
            return names[lat], names[lon]
    return None


def show(store: IntelStore, datasets: list[DatasetInfo]) -> tuple[str | None, pd.DataFrame | None]:
    """The match panel; returns the dataset and hits it shows (for the report)."""
    if not datasets:
        st.info("The warehouse holds no dataset: upload events on the Data page.", icon=":material/info:")
        return None, None
    name = st.selectbox("Dataset", [d.name for d in datasets], key="intel_dataset")
    dataset = next(d for d in datasets if d.name == name)
    detected = service.suggest_columns(store, name)
    columns = [c.name for c in dataset.columns]
    chosen = st.multiselect("Columns to match", columns, default=list(detected), key=f"intel_cols_{name}")
    kinds = {}
    if chosen:
        cells = st.columns(min(4, len(chosen)))
        for k, column in enumerate(chosen):
            default = detected.get(column, "ipv4")
            kinds[column] = cells[k % len(cells)].selectbox(
                f"{column} holds", MATCH_TYPES, index=MATCH_TYPES.index(default), key=f"intel_kind_{name}_{column}"
            )
    time_options = [None, *columns]
    time_column = st.selectbox(
        "Event time",
        time_options,
        index=time_options.index(_time_column(dataset)),
        key=f"intel_time_{name}",
        format_func=lambda c: c or "(none)",
    )
    if st.button("Match", key="intel_match", icon=":material/search:", disabled=not kinds, type="primary"):
        st.session_state["intel_match_request"] = (name, tuple(kinds.items()), time_column)
    request = st.session_state.get("intel_match_request")
    if request and request[0] == name:
        result = run_cancellable(
            "intel_match",
            repr(request),
            lambda: service.match_dataset(
                store, name, dict(request[1]), time_column=request[2], geo=_geo_columns(dataset)
            ),
            label=f"Matching {name} against every indicator…",
            limit_s=MATCH_LIMIT_S,
        )
        st.session_state.pop("intel_match_request", None)
        if result is not None:
            st.session_state["intel_last_run"] = result.run_id
            st.session_state.pop("intel_show_run", None)  # a new run replaces the one a link showed
    runs = store.match_runs()
    runs = runs[runs["dataset"] == name]
    if runs.empty:
        return name, None
    shown = runs[runs["id"] == st.session_state.get("intel_show_run")]  # a run a link from Investigations named
    run = (shown if len(shown) else runs).iloc[0]
    hits = store.hits(int(run["id"]))
    st.success(
        f"Run {run['id']}: {int(run['events']):,} events, {len(hits):,} hits on "
        f"{hits['row_number'].nunique() if len(hits) else 0:,} events ({run['seconds']:.1f} s).",
        icon=":material/check:",
    )
    if hits.empty:
        return name, hits
    st.dataframe(hit_summary(hits), hide_index=True, width="stretch")
    st.plotly_chart(hits_by_source_figure(hits), width="stretch")
    st.plotly_chart(hits_over_time_figure(hits), width="stretch")
    common.csv_button(
        lambda: hits.drop(columns=["run_id"]), f"intel_hits_{name}.csv", "intel_hits_csv", "Download hits CSV"
    )
    return name, hits
