"""The chain store: uploads round-trip, a refused upload writes nothing, alerts reach the investigations stream once
with entities and a link back."""

from __future__ import annotations

import pandas as pd
import pytest

from core.chain.fees import fee_episodes
from core.chain.monitor import MajorityMonitor
from core.chain.store import ChainStore
from core.warehouse import Warehouse, WarehouseError


def _counts(wh: Warehouse) -> tuple[int, int, int]:
    cur = wh.cursor()
    return tuple(cur.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                 for t in ("chain_sources", "chain_blocks", "chain_series"))  # fmt: skip


def test_blocks_and_series_round_trip(warehouse: Warehouse, blocks: pd.DataFrame, series: dict) -> None:
    store = ChainStore(warehouse)
    sample = blocks.iloc[:5000]
    assert store.save_blocks("  my   blocks ", sample) == "my blocks"
    pd.testing.assert_frame_equal(store.blocks("my blocks"), sample.reset_index(drop=True), check_dtype=False)
    store.save_series("year", series)
    back = store.series("year")
    assert set(back) == set(series)
    pd.testing.assert_series_equal(back["transaction-fees"], series["transaction-fees"], check_names=False,
                                   check_freq=False, check_index_type=False)  # fmt: skip
    assert store.sources("blocks")["name"].tolist() == ["my blocks"]
    assert store.sources("series")["rows"].iloc[0] == sum(len(s) for s in series.values())


@pytest.mark.parametrize("name", ["", "   ", "x" * 81, "tab\there\x00"])
def test_a_bad_or_taken_name_writes_nothing(warehouse: Warehouse, blocks: pd.DataFrame, name: str) -> None:
    store = ChainStore(warehouse)
    store.save_blocks("taken", blocks.iloc[:100])
    before = _counts(warehouse)
    for refused in (name, "taken"):
        with pytest.raises(WarehouseError):
            store.save_blocks(refused, blocks.iloc[:200])
    assert _counts(warehouse) == before


def test_delete_removes_an_upload_its_rows_and_its_raised_alerts(warehouse: Warehouse, blocks: pd.DataFrame) -> None:
    store = ChainStore(warehouse)
    store.save_blocks("gone", blocks.iloc[:5000])
    pools = blocks["pool"].iloc[:5000].to_numpy(dtype=object).copy()
    pools[3000:3012] = "cn/tt"  # a run no honest pool of its size makes
    alerts = MajorityMonitor().scan(blocks.iloc[:5000].assign(pool=pools))
    assert store.raise_alerts("gone", alerts) == len(alerts) > 0
    store.delete("gone")
    assert _counts(warehouse) == (0, 0, 0)
    assert warehouse.query("SELECT count(*) AS n FROM chain_alerts")["n"][0] == 0
    assert store.raise_alerts("gone", alerts) == len(alerts)  # the same name uploaded again raises them again


@pytest.mark.parametrize("name", ["shared: all blocks 2021–2024", "Sample: blocks of 2024"])
def test_the_built_in_sets_names_are_refused(warehouse: Warehouse, blocks: pd.DataFrame, name: str) -> None:
    with pytest.raises(WarehouseError, match="built-in"):
        ChainStore(warehouse).save_blocks(name, blocks.iloc[:100])


def test_a_pool_slug_with_punctuation_is_published(warehouse: Warehouse, blocks: pd.DataFrame) -> None:
    run = pd.DataFrame([{"height": 700_000, "end_height": 700_000, "ts": pd.Timestamp("2021-09-11"), "pool": "cn/tt",
                         "level": "run", "probability": float("nan"), "count": 9, "window": 9, "p_value": 1e-7,
                         "detail": "9 consecutive blocks"}])  # fmt: skip
    assert ChainStore(warehouse).raise_alerts("mine", run) == 1
    values = warehouse.query("SELECT value FROM case_signal_entities WHERE kind = 'pool'")["value"]
    assert values.tolist() == ["cn/tt"]


def test_alerts_and_episodes_reach_investigations_once(
    warehouse: Warehouse, blocks: pd.DataFrame, series: dict
) -> None:
    store = ChainStore(warehouse)
    alerts = MajorityMonitor().scan(blocks)
    episodes = fee_episodes(series)
    assert store.raise_alerts("shared", alerts) == len(alerts)
    assert store.raise_alerts("daily", None, episodes) == len(episodes)
    assert store.raise_alerts("shared", alerts) == 0 and store.raise_alerts("daily", None, episodes) == 0
    signals = warehouse.query("SELECT source, kind, link FROM case_signals")
    assert len(signals) == len(alerts) + len(episodes)
    assert set(signals["source"]) == {"bitcoin"}
    run = signals[signals["kind"] == "run alert"].iloc[0]
    assert run["link"].startswith("bitcoin?blocks=shared&height=")
    entities = warehouse.query("SELECT DISTINCT kind, value FROM case_signal_entities")
    assert {("network", "bitcoin")} <= set(entities.itertuples(index=False, name=None))
    assert set(alerts.loc[alerts["pool"] != "", "pool"]) <= set(entities.loc[entities["kind"] == "pool", "value"])
