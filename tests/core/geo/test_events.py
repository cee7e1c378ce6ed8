"""core.geo.events and core.geo.score on the shipped honeypot sample, through a real DuckDB warehouse."""

from __future__ import annotations

import io

import h3
import numpy as np
import pandas as pd
import pytest

from core.geo.events import (
    ColumnMapping,
    detect_mapping,
    looks_swapped,
    read_events,
    severity_from_ports,
    summarise_cells,
)
from core.geo.score import threat_scores
from core.samples import load_samples
from core.warehouse import Warehouse


@pytest.fixture(scope="module")
def sample_warehouse():
    warehouse = Warehouse(":memory:")
    load_samples(warehouse)
    yield warehouse
    warehouse.close()


def sample_mapping(warehouse: Warehouse) -> tuple[str, ColumnMapping]:
    dataset = warehouse.dataset("honeypot_events_2013")
    mapping = detect_mapping([c.name for c in dataset.columns])
    assert mapping is not None
    return dataset.name, mapping


def test_honeypot_columns_are_detected(sample_warehouse):
    _, mapping = sample_mapping(sample_warehouse)
    assert mapping == ColumnMapping(
        lat="latitude", lon="longitude", time="datetime", category="proto", source="src", port="dpt"
    )
    assert detect_mapping(["host", "proto", "dpt"]) is None


def test_severity_rule():
    ports = pd.Series([1433, 22, 80, 31337, None])
    assert severity_from_ports(ports).tolist() == [5, 4, 2, 3, 1]


def test_cell_counts_equal_h3py_grouping_of_the_raw_sample(sample_warehouse):
    name, mapping = sample_mapping(sample_warehouse)
    events = read_events(sample_warehouse, name, mapping)
    summary = summarise_cells(sample_warehouse, events, 4)
    # the sample has rows without coordinates and three whose latitude is a shifted postal code (20057)
    located = events[events["lat"].abs().le(90) & events["lon"].abs().le(180)]
    assert events["lat"].gt(90).sum() == 3
    expected = pd.Series(
        [h3.api.basic_int.latlng_to_cell(a, b, 4) for a, b in zip(located["lat"], located["lon"], strict=True)]
    ).value_counts()
    got = summary.cells.set_index("cell")["events"]
    assert got.sort_index().to_dict() == {np.uint64(c): n for c, n in expected.sort_index().items()}
    assert summary.events == len(events)
    assert summary.not_located == len(events) - len(located) > 0
    assert summary.cells["top_categories"].str.contains("TCP").any()
    assert (summary.cells["sources"] <= summary.cells["events"]).all()


def test_time_buckets_split_cells(sample_warehouse):
    name, mapping = sample_mapping(sample_warehouse)
    events = read_events(sample_warehouse, name, mapping)
    whole = summarise_cells(sample_warehouse, events, 3)
    weekly = summarise_cells(sample_warehouse, events, 3, bucket="7 days")
    assert weekly.cells["events"].sum() == whole.cells["events"].sum()
    assert weekly.cells.groupby("cell")["events"].sum().to_dict() == whole.cells.set_index("cell")["events"].to_dict()


def test_non_numeric_coordinates_are_not_located(tmp_path):
    warehouse = Warehouse(":memory:")
    csv = "lat,lon,when\n10.5,20.25,2024-01-01\nnorth,20,2024-01-02\n95,20,2024-01-03\n"
    warehouse.ingest_csv(io.BytesIO(csv.encode()), "points")
    mapping = ColumnMapping(lat="lat", lon="lon", time="when")
    summary = summarise_cells(warehouse, read_events(warehouse, "points", mapping), 5)
    assert summary.events == 3
    assert summary.not_located == 2
    assert summary.cells["events"].tolist() == [1]


def test_swapped_coordinates_are_noticed():
    assert looks_swapped(np.array([120.0, 150.0, -100.0]), np.array([30.0, -20.0, 45.0]))
    assert not looks_swapped(np.array([30.0, -20.0]), np.array([120.0, 150.0]))


def test_threat_scores_are_bounded_and_rank_volume_severity_recency():
    cells = pd.DataFrame(
        {
            "events": [100, 10, 10, 10],
            "mean_severity": [5.0, 5.0, 1.0, 5.0],
            "sources": [50, 5, 5, 5],
            "last_seen": pd.to_datetime(["2024-02-01", "2024-02-01", "2024-02-01", "2024-01-01"]),
        }
    )
    scores = threat_scores(cells)
    assert scores.between(0, 100).all()
    assert scores[0] == 100.0
    assert scores[0] > scores[1] > scores[2]
    assert scores[1] > scores[3]
    with pytest.raises(ValueError, match="half-life"):
        threat_scores(cells, half_life=pd.Timedelta(0))


def test_mean_severity_ignores_blanks_and_scores_stay_numbers():
    warehouse = Warehouse(":memory:")
    csv = "lat,lon,severity\n10,20,4\n10,20,\n10,20,\n-30,100,\n"
    warehouse.ingest_csv(io.BytesIO(csv.encode()), "severities")
    mapping = ColumnMapping(lat="lat", lon="lon", severity="severity")
    cells = summarise_cells(warehouse, read_events(warehouse, "severities", mapping), 3).cells
    by_events = cells.set_index("events")["mean_severity"]
    assert by_events[3] == 4.0
    assert np.isnan(by_events[1])
    assert threat_scores(cells).notna().all()
