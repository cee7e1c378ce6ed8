"""Gi* hot spots over every window of a playback, at one or several resolutions at once, as a parallel map.

The dataset's events are exported once as Parquet partitioned by week (`EventStore.export_events`, in the folder the
cluster's workers share); each task reads only the weeks of its window there, indexes the events into H3 cells and
runs Gi*. Without a cluster the same tasks run in this process (`core.compute.parallel_map`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pyarrow.dataset as ds

from core.compute import BatchProgress, parallel_map
from core.geo.analysis import ThreatMapError
from core.geo.events import ColumnMapping
from core.geo.h3index import MAX_RESOLUTION, cell_to_string, index_points
from core.geo.hotspots import MAX_K, gi_star
from core.geo.store import EventStore
from core.warehouse import Warehouse
from core.warehouse.export import SHARED_ENV

if TYPE_CHECKING:
    from distributed import Client

WEEK = pd.Timedelta(days=7)
MAX_WINDOWS = 2_000
HOT, VERY_HOT = 2, 3  # Gi* bins: 95 % and 99 % confidence
# Consecutive windows per task: their weeks are read once, and a task is long enough (about 0.1 s on 250,000
# events) that scheduling it costs little beside it.
WINDOWS_PER_TASK = 6


@dataclass(frozen=True)
class WindowTask:
    """Gi* at one resolution in each window [start, end) of `windows` (consecutive windows of a playback), read from
    an export whose weeks count from `origin`."""

    folder: str
    origin: pd.Timestamp
    windows: tuple[tuple[pd.Timestamp, pd.Timestamp], ...]
    res: int
    k: int = 1
    fdr: bool = False
    categories: tuple[str, ...] = ()


def window_hotspots(task: WindowTask) -> list[dict]:
    """Each window's figures: events, cells, hot and cold spots (95 % confidence and more), the hottest cell, and
    the hot cells themselves (for the cells hot in many windows). The weeks the windows span are read once."""
    start, end = task.windows[0][0], task.windows[-1][1]
    first, last = (int((t - task.origin) // WEEK) for t in (start, end))
    where = (ds.field("week") >= first) & (ds.field("week") <= last)
    where &= (ds.field("time") >= start.to_datetime64()) & (ds.field("time") < end.to_datetime64())
    if task.categories:
        where &= ds.field("category").isin(list(task.categories))
    table = ds.dataset(Path(task.folder) / "data", format="parquet", partitioning="hive").to_table(
        columns=["lat", "lon", "time"], filter=where
    )
    cells = index_points(table["lat"].to_numpy(), table["lon"].to_numpy(), task.res).cells
    times = table["time"].to_numpy()
    return [
        _window_row(cells[(times >= a.to_datetime64()) & (times < b.to_datetime64())], a, b, task)
        for a, b in task.windows
    ]


def _window_row(cells: np.ndarray, start: pd.Timestamp, end: pd.Timestamp, task: WindowTask) -> dict:
    cells, counts = np.unique(cells[cells != 0], return_counts=True)
    row = {"window start": start, "window end": end, "resolution": task.res, "events": int(counts.sum()),
           "cells": len(cells)}  # fmt: skip
    if not len(cells):
        return {**row, "hot spots": 0, "hot spots (99 %)": 0, "cold spots": 0, "hottest cell": "", "hot cells": ()}
    spots = gi_star(cells, counts.astype(np.float64), k=task.k, fdr=task.fdr)
    hot = spots[spots["gi_bin"] >= HOT]
    hottest = "" if hot.empty else cell_to_string(int(hot.loc[hot["gi_z"].idxmax(), "cell"]))
    return {
        **row,
        "hot spots": len(hot),
        "hot spots (99 %)": int((spots["gi_bin"] == VERY_HOT).sum()),
        "cold spots": int((spots["gi_bin"] <= -HOT).sum()),
        "hottest cell": hottest,
        "hot cells": tuple(int(c) for c in hot["cell"]),
    }


def playback_windows(
    first: pd.Timestamp, last: pd.Timestamp, width: pd.Timedelta, step: pd.Timedelta = WEEK
) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """Every window of the playback: `width` long, moving by `step` from the day of `first` until one reaches
    past `last`."""
    if width <= pd.Timedelta(0) or step <= pd.Timedelta(0):
        raise ThreatMapError("The window and its step must be longer than zero.")
    start = first.floor("D")
    windows = [(start, start + width)]
    while windows[-1][1] <= last:
        start += step
        windows.append((start, start + width))
        if len(windows) > MAX_WINDOWS:
            raise ThreatMapError(f"The playback has more than {MAX_WINDOWS:,} windows: choose a longer step.")
    return windows


def batch_hotspots(
    warehouse: Warehouse,
    dataset: str,
    mapping: ColumnMapping,
    *,
    version: str,
    width: pd.Timedelta,
    resolutions: tuple[int, ...],
    k: int = 1,
    fdr: bool = False,
    categories: tuple[str, ...] = (),
    handle: Client | None = None,
    progress: BatchProgress | None = None,
) -> pd.DataFrame:
    """Gi* over every playback window at every resolution in `resolutions`: one row per window and resolution."""
    if mapping.time is None:
        raise ThreatMapError("Map a time column first: the playback's windows are periods of time.")
    if handle is not None and handle.cluster is None and not os.environ.get(SHARED_ENV, "").strip():
        raise ThreatMapError(
            f"On a cluster of other machines, set {SHARED_ENV} to a folder every worker sees at the same path: the "
            "events are exported there for the workers."
        )
    if not resolutions or any(not 0 <= r <= MAX_RESOLUTION for r in resolutions) or not 0 <= k <= MAX_K:
        raise ThreatMapError(f"Resolutions are from 0 to {MAX_RESOLUTION} and the neighbourhood from 0 to {MAX_K}.")
    store = EventStore(warehouse)
    span = store.time_span(dataset, mapping.time)
    if span is None:
        raise ThreatMapError(f"Column '{mapping.time}' holds no readable times.")
    origin = pd.Timestamp(span[0]).floor("D")
    roles = {role: column for role, column in mapping.roles().items() if role in ("lat", "lon", "time", "category")}
    folder = str(store.export_events(dataset, roles, origin.to_pydatetime(), version))
    windows = playback_windows(pd.Timestamp(span[0]), pd.Timestamp(span[1]), width)
    runs = [tuple(windows[i : i + WINDOWS_PER_TASK]) for i in range(0, len(windows), WINDOWS_PER_TASK)]
    tasks = [
        WindowTask(folder, origin, run, res, k, fdr, categories if mapping.category else ())
        for res in sorted(set(resolutions))
        for run in runs
    ]
    rows = parallel_map(window_hotspots, tasks, handle=handle, progress=progress, name="ctas-gi")
    return pd.DataFrame([row for task_rows in rows for row in task_rows])


def persistent_cells(table: pd.DataFrame) -> pd.DataFrame:
    """Cells by how many windows found them hot (95 % and more), most persistent first, per resolution."""
    rows = table[["resolution", "hot cells"]].explode("hot cells").dropna()
    if rows.empty:
        return pd.DataFrame(columns=["resolution", "cell", "hot in windows", "share of windows"])
    counted = rows.groupby(["resolution", "hot cells"]).size().rename("hot in windows").reset_index()
    windows = table.groupby("resolution").size()
    counted["share of windows"] = (counted["hot in windows"] / counted["resolution"].map(windows)).round(3)
    counted["cell"] = [cell_to_string(int(c)) for c in counted.pop("hot cells")]
    return counted.sort_values(["resolution", "hot in windows"], ascending=[True, False]).reset_index(drop=True)[
        ["resolution", "cell", "hot in windows", "share of windows"]
    ]


def batch_figure(table: pd.DataFrame) -> go.Figure:
    """Hot spots (95 % and more) in each window of the playback, one line per resolution."""
    figure = go.Figure()
    for res, rows in table.groupby("resolution"):
        figure.add_scatter(x=rows["window start"], y=rows["hot spots"], mode="lines+markers", name=f"resolution {res}")
    figure.update_layout(
        title="Gi* hot spots in each playback window", xaxis_title="window start", yaxis_title="hot cells (95 %+)",
        template="plotly_white", height=380, legend={"orientation": "h", "y": -0.2},
    )  # fmt: skip
    return figure
