"""core.geo.batch: Gi* over every playback window, read from the Parquet export, equal to the threat map's own
analysis of the same window; the same table on a cluster; bounds on the windows."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core import compute
from core.compute import ComputeSetting
from core.geo.analysis import ThreatMapError, ThreatMapSettings, analyse
from core.geo.batch import MAX_WINDOWS, WINDOWS_PER_TASK, batch_hotspots, persistent_cells, playback_windows
from core.geo.events import ColumnMapping, detect_mapping
from core.geo.h3index import cell_to_string
from core.samples import load_samples
from core.warehouse import Warehouse

WIDTH = pd.Timedelta(weeks=4)


@pytest.fixture(scope="module")
def honeypot(tmp_path_factory: pytest.TempPathFactory):
    warehouse = Warehouse(tmp_path_factory.mktemp("geo") / "batch.duckdb")
    load_samples(warehouse)
    dataset = warehouse.dataset("honeypot_events_2013")
    mapping = detect_mapping([c.name for c in dataset.columns])
    yield warehouse, dataset, mapping
    warehouse.close()


def _run(honeypot, **kwargs) -> pd.DataFrame:
    warehouse, dataset, mapping = honeypot
    return batch_hotspots(warehouse, dataset.name, mapping, version=str(dataset.created_at), width=WIDTH, **kwargs)


def test_every_window_equals_the_threat_maps_own_analysis_of_it(honeypot) -> None:
    """Windows read back from the weekly Parquet export give the same cells and Gi* bins as the page's analysis
    of that window read from the warehouse (checked on three windows at two resolutions)."""
    warehouse, dataset, mapping = honeypot
    table = _run(honeypot, resolutions=(2, 3))
    assert set(table["resolution"]) == {2, 3} and len(table) % 2 == 0
    for row in table.iloc[[0, len(table) // 4, len(table) // 2 - 1, len(table) - 1]].itertuples():
        settings = ThreatMapSettings(res=row.resolution, start=row[1], end=row[2] - pd.Timedelta(microseconds=1))
        if row.events == 0:
            with pytest.raises(ThreatMapError):
                analyse(warehouse, dataset.name, mapping, settings)
            continue
        direct = analyse(warehouse, dataset.name, mapping, settings)
        assert row.events == direct.located and row.cells == len(direct.cells)
        assert row[6] == int((direct.cells["gi_bin"] >= 2).sum())  # hot spots at 95 % and more
        hot = set(direct.cells.loc[direct.cells["gi_bin"] >= 2, "cell"].astype(np.uint64).tolist())
        assert set(row[-1]) == hot


def test_the_windows_cover_the_whole_span_a_week_apart(honeypot) -> None:
    warehouse = honeypot[0]
    first, last = (pd.Timestamp(t) for t in warehouse.query(
        'SELECT min(TRY_CAST("datetime" AS TIMESTAMP)), max(TRY_CAST("datetime" AS TIMESTAMP)) '
        'FROM datasets."honeypot_events_2013"').iloc[0])  # fmt: skip
    windows = playback_windows(first, last, WIDTH)
    assert windows[0][0] == first.floor("D") and windows[-1][1] > last >= windows[-2][1]
    assert all(b - a == WIDTH for a, b in windows)
    assert all(later[0] - earlier[0] == pd.Timedelta(days=7) for earlier, later in itertools.pairwise(windows))


def test_the_export_is_written_once_per_dataset_version(honeypot, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("CTAS_SHARED_DIR", str(tmp_path))
    first = _run(honeypot, resolutions=(3,))
    exports = list(tmp_path.iterdir())
    assert len(exports) == 1 and (exports[0] / "data").is_dir()
    weeks = sorted(p.name for p in (exports[0] / "data").iterdir())
    assert weeks and all(name.startswith("week=") for name in weeks)
    again = _run(honeypot, resolutions=(3,))
    assert list(tmp_path.iterdir()) == exports
    pd.testing.assert_frame_equal(first, again)


def test_a_cluster_gives_the_same_table(honeypot) -> None:
    serial = _run(honeypot, resolutions=(2, 4))
    handle = compute.open_client(ComputeSetting("local", 2), processes=False)
    try:
        progress = compute.BatchProgress()
        clustered = _run(honeypot, resolutions=(2, 4), handle=handle, progress=progress)
    finally:
        compute.close(handle)
    pd.testing.assert_frame_equal(serial, clustered)
    windows_per_resolution = len(serial) // 2
    assert progress.done == progress.total == 2 * -(-windows_per_resolution // WINDOWS_PER_TASK)


def test_a_cluster_of_other_machines_needs_a_shared_folder(honeypot, monkeypatch) -> None:
    monkeypatch.delenv("CTAS_SHARED_DIR", raising=False)
    local = compute.open_client(ComputeSetting("local", 1), processes=False)
    remote = compute.open_client(ComputeSetting("scheduler", address=local.scheduler.address))  # no cluster object
    try:
        with pytest.raises(ThreatMapError, match="set CTAS_SHARED_DIR"):
            _run(honeypot, resolutions=(3,), handle=remote)
    finally:
        compute.close(remote)
        compute.close(local)


def test_persistent_cells_count_the_windows_each_cell_was_hot_in(honeypot) -> None:
    table = _run(honeypot, resolutions=(3,))
    persistent = persistent_cells(table)
    top = persistent.iloc[0]
    expected = sum(int(cell_to_string(c) == top["cell"]) for cells in table["hot cells"] for c in cells)
    assert top["hot in windows"] == expected == persistent["hot in windows"].max()
    assert top["share of windows"] == round(expected / len(table), 3)


def test_bad_windows_and_resolutions_are_refused(honeypot) -> None:
    start = pd.Timestamp("2013-01-01")
    with pytest.raises(ThreatMapError, match="longer than zero"):
        playback_windows(start, start + WIDTH, pd.Timedelta(0))
    with pytest.raises(ThreatMapError, match=f"more than {MAX_WINDOWS:,} windows"):
        playback_windows(start, start + pd.Timedelta(days=7 * (MAX_WINDOWS + 5)), WIDTH)
    with pytest.raises(ThreatMapError, match="Resolutions"):
        _run(honeypot, resolutions=(16,))
    warehouse, dataset, mapping = honeypot
    untimed = ColumnMapping(lat=mapping.lat, lon=mapping.lon)
    with pytest.raises(ThreatMapError, match="time column"):
        batch_hotspots(warehouse, dataset.name, untimed, version="", width=WIDTH, resolutions=(3,))
