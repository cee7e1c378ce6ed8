"""core.warehouse.export: datasets as partitioned Parquet in the shared folder, written once, whole or not at all."""

from __future__ import annotations

from pathlib import Path

import pyarrow.dataset as ds
import pytest

from core.warehouse import Warehouse, WarehouseError
from core.warehouse.export import SHARED_ENV, export_parquet, shared_folder


@pytest.fixture
def shared(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "shared"
    monkeypatch.setenv(SHARED_ENV, str(folder))
    return folder


def test_rows_come_back_from_their_partitions(warehouse: Warehouse, shared: Path) -> None:
    select = "SELECT i, i % 3 AS part, 'row ' || i AS label FROM range(1000) t(i) WHERE i >= ?"
    folder = export_parquet(warehouse, select, [10], partition_by="part", version="v1")
    assert folder.parent == shared_folder(warehouse) == shared
    assert sorted(p.name for p in (folder / "data").iterdir()) == ["part=0", "part=1", "part=2"]
    table = ds.dataset(folder / "data", format="parquet", partitioning="hive").to_table().to_pandas()
    assert len(table) == 990 and sorted(table["i"]) == list(range(10, 1000))
    assert (table["i"] % 3 == table["part"]).all() and (table["label"] == "row " + table["i"].astype(str)).all()
    assert export_parquet(warehouse, select, [10], partition_by="part", version="v1") == folder  # written once
    assert export_parquet(warehouse, select, [10], partition_by="part", version="v2") != folder  # a new version


def test_a_failed_export_leaves_nothing_behind(warehouse: Warehouse, shared: Path) -> None:
    with pytest.raises(WarehouseError, match="export for the compute cluster failed"):
        export_parquet(warehouse, "SELECT * FROM no_such_table", [], partition_by="x")
    assert list(shared.iterdir()) == []


def test_the_default_folder_is_beside_the_warehouse_file(warehouse: Warehouse, monkeypatch) -> None:
    monkeypatch.delenv(SHARED_ENV, raising=False)
    assert shared_folder(warehouse) == Path(warehouse.path).with_suffix(".shared")


@pytest.mark.parametrize("setting", ["relative/shared", "{file}", "{file}/below"])
def test_a_shared_folder_that_cannot_serve_is_one_refusal(
    warehouse: Warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, setting: str
) -> None:
    """A relative path (each worker would resolve it elsewhere), a file, or a folder under a file."""
    a_file = tmp_path / "a_file"
    a_file.write_text("not a folder")
    monkeypatch.setenv(SHARED_ENV, setting.format(file=a_file))
    with pytest.raises(WarehouseError, match=r"absolute path|cannot be made"):
        export_parquet(warehouse, "SELECT 1 AS x", [], partition_by="x")
    assert a_file.read_text() == "not a folder"


def test_an_export_is_readable_by_other_users(warehouse: Warehouse, shared: Path) -> None:
    folder = export_parquet(warehouse, "SELECT 1 AS x, 2 AS y", [], partition_by="x")
    assert folder.stat().st_mode & 0o755 == 0o755
