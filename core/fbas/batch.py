"""Batch analyses over many FBASs, as parallel maps (`core.compute.parallel_map`: here or on a Dask cluster).

- `compare_snapshots`: one scan per snapshot (a folder of them, or several uploads) into one table over time.
- `criticality_sweep`: take each organization, country or ISP offline in turn and rank them by what breaks: the
  network halts (no quorum among the rest), can fork (no quorum intersection), or how few further nodes could then
  halt or split it.

Each task is a module-level function of picklable values (file bytes, or the parsed network), so a worker process
can run it.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import plotly.graph_objects as go

from core.compute import BatchProgress, parallel_map
from core.fbas.analysis import SearchLimitError, compile_fbas, quorum_clusters
from core.fbas.model import Fbas, FbasFormatError, loads
from core.fbas.scan import faulty_nodes, scan
from core.fbas.sizes import has_quorum_intersection, smallest_blocking_set, smallest_splitting_set
from core.fbas.whatif import Offline, apply_edits

if TYPE_CHECKING:
    from distributed import Client

GROUPINGS = ("organization", "country", "isp")
MAX_SNAPSHOTS = 500
MAX_SNAPSHOT_BYTES = 32 * 2**20  # a nodes file with its organizations file
MAX_BATCH_BYTES = 512 * 2**20
SNAPSHOT_SECONDS = 30.0  # each snapshot's scan, as on the page
SMALLEST_SECONDS = 20.0  # a sweep's search for one smallest blocking set
DATE_IN_NAME = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


class BatchInputError(FbasFormatError):
    """A batch's input is refused (too many or too large snapshots, an unreadable folder)."""


@dataclass(frozen=True)
class SnapshotFile:
    """One snapshot to compare: a label (its file name), its nodes JSON and, if given, an organizations JSON."""

    label: str
    nodes: bytes
    organizations: bytes | None = None


def snapshots_in_folder(folder: str | Path) -> list[SnapshotFile]:
    """The `*nodes*.json` files of a folder (not its subfolders), each with the `organizations` file of the same
    name if there is one; the folder is listed, never globbed."""
    folder = Path(folder)
    try:
        if not folder.is_dir():
            raise BatchInputError(f"{folder.name or folder} is not a folder.")
        with os.scandir(folder) as entries:
            names = sorted(e.name for e in entries if e.is_file() and e.name.endswith(".json") and "nodes" in e.name)
        if len(names) > MAX_SNAPSHOTS:
            raise BatchInputError(f"The folder holds {len(names):,} nodes files; compare at most {MAX_SNAPSHOTS}.")
        snapshots, total = [], 0
        for name in names:
            partner = folder / name.replace("nodes", "organizations")
            nodes = _read_bounded(folder / name, MAX_SNAPSHOT_BYTES)
            organizations = _read_bounded(partner, MAX_SNAPSHOT_BYTES - len(nodes)) if partner.is_file() else None
            total += len(nodes) + len(organizations or b"")
            if total > MAX_BATCH_BYTES:
                raise BatchInputError(f"The snapshots hold over {MAX_BATCH_BYTES // 2**20} MiB; compare fewer.")
            snapshots.append(SnapshotFile(name, nodes, organizations))
    except OSError as exc:
        raise BatchInputError(f"The folder {folder.name or folder} cannot be read: {exc.strerror}.") from None
    return snapshots


def _read_bounded(path: Path, limit: int) -> bytes:
    """A file's bytes, refused once it holds more than `limit` (read, not trusted from its size)."""
    with path.open("rb") as file:
        data = file.read(limit + 1)
    if len(data) > limit:
        raise BatchInputError(f"{path.name} is too large: a snapshot may have {MAX_SNAPSHOT_BYTES:,} bytes.")
    return data


def snapshot_row(snapshot: SnapshotFile) -> dict:
    """One snapshot's headline figures (organization level where the file names organizations), or its refusal."""
    row: dict = {"snapshot": snapshot.label, "as of": None}
    try:
        fbas = loads(snapshot.nodes, snapshot.organizations)
    except FbasFormatError as exc:
        return {**row, "problem": str(exc)}
    row["as of"] = snapshot_time(snapshot.label, fbas)
    merge = "organization" if fbas.organizations else "node"
    result = scan(
        fbas,
        merges=(merge,),
        faulty=faulty_nodes(fbas, "auto"),
        stellarbeat_parity=True,
        max_sets=0,
        seconds=SNAPSHOT_SECONDS,
    )
    grouping = result.results[merge]
    headline = grouping.headline()
    return {
        **row,
        "validators": result.validators,
        "grouping": merge,
        "quorum intersection": bool(grouping.quorum_intersection),
        "minimal quorums": _count(headline["minimal_quorums"]),
        "top tier": _count(headline["top_tier"]),
        "smallest blocking set": _count(headline["min_blocking"]),
        "smallest splitting set": _count(headline["min_splitting"]),
        "history-critical set": _count(headline["history_critical"]),
        "complete": result.complete,
        "problem": "",
    }


def _count(value: object) -> float:
    return float(value) if isinstance(value, int) else float("nan")


def snapshot_time(label: str, fbas: Fbas) -> datetime | None:
    """When a snapshot was taken: the latest `dateUpdated` of its nodes, else a YYYY-MM-DD date in its name."""
    stamps = [node.field("dateUpdated") for node in fbas.nodes.values()]
    parsed = [_parse_time(s) for s in stamps if s]
    parsed = [p for p in parsed if p is not None]
    if parsed:
        return max(parsed)
    found = DATE_IN_NAME.search(label)
    return _parse_time("-".join(found.groups())) if found else None


def _parse_time(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).replace(tzinfo=None)
    except ValueError:
        return None


def compare_snapshots(
    snapshots: list[SnapshotFile], *, handle: Client | None = None, progress: BatchProgress | None = None
) -> pd.DataFrame:
    """One row per snapshot, oldest first (undated ones last, by name)."""
    if not snapshots:
        raise BatchInputError("There are no snapshots to compare.")
    if len(snapshots) > MAX_SNAPSHOTS:
        raise BatchInputError(f"{len(snapshots):,} snapshots were given; compare at most {MAX_SNAPSHOTS}.")
    sizes = [len(s.nodes) + len(s.organizations or b"") for s in snapshots]
    for snapshot, size in zip(snapshots, sizes, strict=True):
        if size > MAX_SNAPSHOT_BYTES:
            raise BatchInputError(f"{snapshot.label} has {size:,} bytes; a snapshot may have {MAX_SNAPSHOT_BYTES:,}.")
    if sum(sizes) > MAX_BATCH_BYTES:
        raise BatchInputError(f"The snapshots hold over {MAX_BATCH_BYTES // 2**20} MiB; compare fewer.")
    rows = parallel_map(snapshot_row, snapshots, handle=handle, progress=progress, name="ctas-fbas-snapshot")
    frame = pd.DataFrame(rows)
    frame["as of"] = pd.to_datetime(frame["as of"])
    return frame.sort_values(["as of", "snapshot"], na_position="last").reset_index(drop=True)


@dataclass(frozen=True)
class SweepTask:
    """One group of the network to take offline: its name and its nodes."""

    network: Fbas
    group: str
    nodes: tuple[str, ...]


def group_members(fbas: Fbas, grouping: str) -> dict[str, tuple[str, ...]]:
    """Each group of `grouping` with its validators (nodes with a quorum set), largest groups first."""
    if grouping not in GROUPINGS:
        raise BatchInputError(f"Sweep by one of {', '.join(GROUPINGS)}, not {grouping!r}.")
    members: dict[str, list[str]] = {}
    for key in fbas.validators:
        group = fbas.group_of(key, grouping)
        if group:
            members.setdefault(group, []).append(key)
    return {g: tuple(sorted(k)) for g, k in sorted(members.items(), key=lambda item: (-len(item[1]), item[0]))}


def damage(task: SweepTask) -> dict:
    """What breaks with the task's group offline: whether a quorum is left, whether quorums still intersect, and
    the smallest sets of further nodes that could then halt or split the network."""
    fbas = task.network
    offline = apply_edits(fbas, [Offline(task.nodes)]) if task.nodes else fbas
    compiled = compile_fbas(offline, stellarbeat_parity=True)
    live = bool(quorum_clusters(compiled))
    row = {"group": task.group, "nodes offline": len(task.nodes), "quorum left": live}
    if not live:
        return {**row, "quorum intersection": False, "halt with": 0.0, "split with": 0.0}
    faulty = faulty_nodes(fbas, "auto") | set(task.nodes)
    try:
        blocking = smallest_blocking_set(compiled, faulty, seconds=SMALLEST_SECONDS)
    except SearchLimitError:
        blocking = None
    splitting = smallest_splitting_set(compiled)
    return {
        **row,
        "quorum intersection": has_quorum_intersection(compiled),
        "halt with": float("nan") if blocking is None else float(len(blocking)),
        "split with": float("nan") if splitting is None else float(len(splitting)),
    }


def criticality_sweep(
    fbas: Fbas, grouping: str, *, handle: Client | None = None, progress: BatchProgress | None = None
) -> pd.DataFrame:
    """Every group of `grouping` offline in turn, most critical first; the first row is the network as it is.

    Ranked against the network as it is: its quorum lost, then its quorum intersection lost, then fewest further
    nodes to halt it, then to split it; a group whose loss restores a lost intersection comes last.
    """
    members = group_members(fbas, grouping)
    if not members:
        raise BatchInputError(f"No validator names its {grouping}: there is nothing to sweep.")
    tasks = [SweepTask(fbas, "(nothing offline)", ())]
    tasks += [SweepTask(fbas, group, nodes) for group, nodes in members.items()]
    rows = parallel_map(damage, tasks, handle=handle, progress=progress, name="ctas-fbas-sweep")
    frame = pd.DataFrame(rows)
    base, groups = frame.iloc[0], frame.iloc[1:]
    lost_quorum = bool(base["quorum left"]) & ~groups["quorum left"]
    lost_intersection = bool(base["quorum intersection"]) & groups["quorum left"] & ~groups["quorum intersection"]
    restores = (not base["quorum intersection"]) & groups["quorum intersection"]
    groups = groups.assign(
        breaks=[_breaks(row, base) for row in groups.to_dict("records")],
        _halts=lost_quorum,
        _forks=lost_intersection,
        _restores=restores,
    ).sort_values(
        ["_halts", "_forks", "_restores", "halt with", "split with", "nodes offline"],
        ascending=[False, False, True, True, True, False],
        na_position="last",
    )
    ranked = pd.concat([frame.iloc[:1].assign(breaks="the network as it is"),
                        groups.drop(columns=["_halts", "_forks", "_restores"])])  # fmt: skip
    ranked.insert(0, "rank", [0, *range(1, len(groups) + 1)])
    return ranked.reset_index(drop=True)


def _breaks(row: dict, base: pd.Series) -> str:
    """What taking the group offline does, in words, against the network as it is."""
    if not row["quorum left"]:
        return "halts the network: no quorum is left" if base["quorum left"] else "no quorum, as before"
    if not row["quorum intersection"]:
        if base["quorum intersection"]:
            return "the network can fork: two quorums without a common node"
        return "the network can still fork, as before"
    if not base["quorum intersection"]:
        return "restores quorum intersection"
    changes = []
    for column, verb in (("halt with", "halt"), ("split with", "split")):
        before, after = base[column], row[column]
        if after < before:  # False where either is NaN (not found in time)
            changes.append(f"{after:.0f} more node{'s' if after != 1 else ''} can {verb} it (was {before:.0f})")
    return "; ".join(changes) or "no change"


SNAPSHOT_SERIES = ("minimal quorums", "top tier", "smallest blocking set", "smallest splitting set")


def snapshots_figure(table: pd.DataFrame) -> go.Figure:
    """The headline figures of each snapshot over time (by name where a snapshot has no date)."""
    x = table["as of"] if table["as of"].notna().all() else table["snapshot"]
    figure = go.Figure()
    for column in SNAPSHOT_SERIES:
        figure.add_scatter(x=x, y=table[column], mode="lines+markers", name=column)
    forks = table[~table["quorum intersection"].astype(bool)]
    if len(forks):
        figure.add_scatter(
            x=x[forks.index], y=[0] * len(forks), mode="markers", name="no quorum intersection",
            marker={"symbol": "x", "size": 14, "color": "#c0392b"},
        )  # fmt: skip
    figure.update_layout(
        title="Snapshots compared", xaxis_title="snapshot taken", yaxis_title="count (nodes or organizations)",
        template="plotly_white", height=420, legend={"orientation": "h", "y": -0.2},
    )  # fmt: skip
    return figure


def sweep_figure(table: pd.DataFrame, grouping: str, top: int = 20) -> go.Figure:
    """Further nodes that could halt or split the network with each group offline, most critical groups first."""
    groups = table.iloc[1 : top + 1]
    baseline = table.iloc[0]
    figure = go.Figure()
    figure.add_bar(y=groups["group"], x=groups["halt with"], name="nodes that could then halt it", orientation="h")
    figure.add_bar(y=groups["group"], x=groups["split with"], name="nodes that could then split it", orientation="h")
    for column, dash, corner in (("halt with", "dash", "top right"), ("split with", "dot", "bottom right")):
        if pd.notna(baseline[column]):
            figure.add_vline(x=baseline[column], line_dash=dash, annotation_position=corner,
                             annotation_text=f"as it is: {column} {baseline[column]:.0f}")  # fmt: skip
    figure.update_layout(
        title=f"Each {grouping} offline in turn (most critical at the top)", xaxis_title="nodes",
        yaxis={"autorange": "reversed", "title": grouping}, barmode="group", template="plotly_white",
        height=max(360, 28 * len(groups) + 140), legend={"orientation": "h", "y": -0.15},
    )  # fmt: skip
    return figure
