"""Migrations: a schema-v5 file written by CTAS before stores upgrades with nothing lost; newer files are refused."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import duckdb
import pytest

from core.automl.store import AutomlStore
from core.behaviour.store import BehaviourStore
from core.fbas.store import ScenarioStore
from core.monitor.store import HostStore
from core.warehouse import Warehouse, WarehouseError
from core.warehouse.migrations import LAYOUT_VERSION, LEGACY_ORDER
from tests.conftest import REPO

V5_FIXTURE = REPO / "tests" / "fixtures" / "warehouse_v5.duckdb.gz"  # see tests/fixtures/README.md
STORES = (ScenarioStore, HostStore, AutomlStore, BehaviourStore)
UPGRADED_VERSIONS = dict.fromkeys(LEGACY_ORDER, 1) | {"automl": 2}  # each component at its latest migration


def _tables(path: Path) -> dict[str, list[tuple]]:
    """Every table's rows, sorted (the meta table aside)."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        names = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables WHERE table_name <> 'meta' ORDER BY ALL"
        ).fetchall()
        return {f"{s}.{t}": sorted(map(repr, con.execute(f'SELECT * FROM "{s}"."{t}"').fetchall())) for s, t in names}
    finally:
        con.close()


@pytest.fixture
def v5_file(tmp_path: Path) -> Path:
    path = tmp_path / "v5.duckdb"
    with gzip.open(V5_FIXTURE) as packed, path.open("wb") as out:
        shutil.copyfileobj(packed, out)
    return path


def test_v5_file_upgrades_with_every_row_kept(v5_file: Path) -> None:
    before = _tables(v5_file)
    assert len(before) == 15 and all(before.values()), "the fixture has rows in every table"
    wh = Warehouse(v5_file)
    for store in STORES:
        store(wh)
    assert wh.schema_version == LAYOUT_VERSION
    assert wh.schema_versions() == UPGRADED_VERSIONS
    assert [d.name for d in wh.list_datasets()] == ["probes"]
    assert ScenarioStore(wh).load("fbas", "SDF offline") == '{"offline": ["sdf1"]}'
    assert HostStore(wh).alerts().acknowledged_at.notna().all()
    assert AutomlStore(wh).registered_model("port-model", 1)["sha256"] == "0" * 64
    assert BehaviourStore(wh).behaviour_profiles().user.tolist() == ["alice"]
    wh.close()
    after = _tables(v5_file)
    trials = "main.automl_trials"  # AutoML's second migration added the worker column, empty for old trials
    assert [row.removesuffix(", '')") + ")" for row in after.pop(trials)] == before.pop(trials)
    assert after == before
    reopened = Warehouse(v5_file)  # a second open migrates nothing more
    assert reopened.schema_versions() == UPGRADED_VERSIONS
    reopened.close()


def test_new_file_gets_each_components_tables_when_its_store_attaches(warehouse: Warehouse) -> None:
    assert warehouse.schema_versions() == {"catalogue": 1}
    HostStore(warehouse)
    assert warehouse.schema_versions() == {"catalogue": 1, "monitor": 1}
    assert HostStore(warehouse).host_sample_count() == 0


def test_version_zero_file_is_migrated_forward(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)")
    con.execute("INSERT INTO meta VALUES ('schema_version', '0'), ('note', 'kept')")
    con.close()
    wh = Warehouse(path)
    assert wh.schema_version == LAYOUT_VERSION
    assert wh.get_meta("note") == "kept"
    assert wh.list_datasets() == []
    wh.close()


def _set_meta(path: Path, key: str, value: str) -> None:
    con = duckdb.connect(str(path))
    con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [key, value])
    con.close()


@pytest.mark.parametrize("key", ["schema_version", "schema:catalogue"])
def test_a_file_from_a_newer_ctas_is_refused_at_open(tmp_path: Path, key: str) -> None:
    path = tmp_path / "future.duckdb"
    Warehouse(path).close()
    _set_meta(path, key, "999")
    with pytest.raises(WarehouseError, match="newer than this CTAS understands"):
        Warehouse(path)


@pytest.mark.parametrize("store", STORES, ids=lambda s: s.component)
def test_a_store_newer_than_this_ctas_is_refused_and_nothing_is_written(tmp_path: Path, store: type) -> None:
    path = tmp_path / "future.duckdb"
    Warehouse(path).close()
    _set_meta(path, f"schema:{store.component}", str(len(store.migrations) + 1))
    before = _tables(path)
    wh = Warehouse(path)
    with pytest.raises(WarehouseError, match=f"{store.component} schema version .* newer than this CTAS"):
        store(wh)
    wh.close()
    assert _tables(path) == before


def test_a_v5_file_is_refused_by_older_ctas(v5_file: Path) -> None:
    """After the upgrade the global version is past 5, so CTAS from before stores (which knew 1 to 5) refuses it."""
    Warehouse(v5_file).close()
    con = duckdb.connect(str(v5_file), read_only=True)
    assert int(con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]) > len(LEGACY_ORDER)
    con.close()


def test_a_store_first_attached_in_a_transaction_that_rolls_back_is_migrated_again(warehouse: Warehouse) -> None:
    with pytest.raises(RuntimeError), warehouse.transaction():
        HostStore(warehouse)
        raise RuntimeError("the caller's work failed")
    assert "monitor" not in warehouse.schema_versions()
    assert HostStore(warehouse).host_sample_count() == 0
