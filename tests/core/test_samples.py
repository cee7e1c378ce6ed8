"""The shipped sample: loaded once into a new warehouse, and a faithful slice of the team's real data."""

from __future__ import annotations

from pathlib import Path

import duckdb

from core.samples import SAMPLES, load_samples
from core.warehouse import Warehouse


def test_samples_load_once_and_deleted_samples_stay_deleted(warehouse: Warehouse) -> None:
    assert load_samples(warehouse) == [s.name for s in SAMPLES]
    assert {d.name for d in warehouse.list_datasets()} == {s.name for s in SAMPLES}
    warehouse.drop_dataset(SAMPLES[0].name)
    assert load_samples(warehouse) == []
    assert SAMPLES[0].name not in {d.name for d in warehouse.list_datasets()}


def test_honeypot_sample_is_every_twelfth_row_of_the_shared_events(warehouse: Warehouse, shared_data: Path) -> None:
    load_samples(warehouse)
    sample = warehouse.read_dataset("honeypot_events_2013")
    source = shared_data / "geo" / "aws_honeypot_marx_geo_2013-03_06.csv.gz"
    expected = duckdb.sql(
        f"SELECT * EXCLUDE (rn) FROM (SELECT *, row_number() OVER () - 1 AS rn FROM read_csv('{source}')) "
        "WHERE rn % 12 = 0 ORDER BY rn"
    ).df()
    assert len(sample) == len(expected) == 21_059
    assert list(sample.columns) == list(expected.columns)
    assert sample["srcstr"].tolist() == expected["srcstr"].tolist()
    assert sample["datetime"].tolist() == expected["datetime"].tolist()
    assert sample["latitude"].notna().sum() == 20_878


def test_a_sample_added_later_reaches_an_existing_warehouse(warehouse: Warehouse) -> None:
    warehouse.ingest_csv(SAMPLES[0].path, SAMPLES[0].name, original_filename=SAMPLES[0].file_name)
    warehouse.set_meta("samples_loaded", SAMPLES[0].name)  # a warehouse from before the later samples
    assert load_samples(warehouse) == [s.name for s in SAMPLES[1:]]
    assert load_samples(warehouse) == []


def test_credit_sample_is_the_shared_credit_g_set(warehouse: Warehouse, shared_data: Path) -> None:
    load_samples(warehouse)
    sample = warehouse.read_dataset("german_credit_risk")
    assert (shared_data / "automl" / "credit_g.csv").read_bytes() == SAMPLES[1].path.read_bytes()
    assert len(sample) == 1000
    assert sample["class"].value_counts().to_dict() == {True: 700, False: 300}  # DuckDB reads yes/no as booleans
