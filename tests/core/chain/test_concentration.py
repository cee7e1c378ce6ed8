"""Concentration: the issue's figures for May 2023 to April 2024, properties of every window, and speed-free
checks of the windows themselves."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.chain.blocks import ChainInputError, pool_names
from core.chain.concentration import concentration, pool_shares


def _year_of_series(blocks: pd.DataFrame) -> pd.DataFrame:
    chosen = blocks[(blocks["ts"] >= "2023-04-30") & (blocks["ts"] < "2024-04-28")]
    return chosen.assign(ts=pd.Timestamp("2023-06-01"))  # one window: the whole span


def test_the_year_of_the_daily_series_matches_the_measured_figures(blocks: pd.DataFrame) -> None:
    row = concentration(_year_of_series(blocks), "year", unknown="entity").iloc[0]
    assert round(row["top1_share"], 3) == 0.295
    assert round(row["top2_share"], 3) == 0.537
    assert round(row["hhi"]) == 1809
    assert row["nakamoto"] == 2


def test_leaving_unknown_out_raises_the_shares_of_attributed_pools(blocks: pd.DataFrame) -> None:
    included = concentration(blocks, "year", unknown="entity")
    excluded = concentration(blocks, "year", unknown="exclude")
    assert (excluded["top1_share"] >= included["top1_share"]).all()
    assert excluded["unknown"].tolist() == [5372, 2146, 495, 401]
    assert (excluded["blocks"] == included["blocks"]).all()


@pytest.mark.parametrize("by", ["day", "week", "month", "year", 1, 144, 2016])
def test_every_window_is_consistent(blocks: pd.DataFrame, by: str | int) -> None:
    table = concentration(blocks, by)
    assert table["blocks"].sum() == len(blocks)
    assert table["first_height"].iloc[0] == blocks["height"].iloc[0]
    assert (table["first_height"].to_numpy()[1:] == table["last_height"].to_numpy()[:-1] + 1).all()
    all_unknown = table["blocks"] == table["unknown"]
    assert table.loc[all_unknown, "top1_share"].isna().all() and (table.loc[all_unknown, "nakamoto"] == 0).all()
    table = table[~all_unknown]
    assert (table["top1_share"] <= table["top2_share"]).all() and (table["top2_share"] <= table["top3_share"]).all()
    assert (table["hhi"] <= 10_000 + 1e-9).all() and (table["hhi"] >= 10_000 * table["top1_share"] ** 2 - 1e-9).all()
    assert (table["nakamoto"] >= 1).all()


def test_windows_of_n_blocks_hold_n_blocks(blocks: pd.DataFrame) -> None:
    table = concentration(blocks, 144)
    assert (table["blocks"].iloc[:-1] == 144).all()
    assert len(table) == -(-len(blocks) // 144)


@settings(deadline=None, max_examples=40)
@given(st.lists(st.sampled_from(["a", "b", "c", "unknown"]), min_size=1, max_size=60))
def test_hhi_nakamoto_and_entropy_follow_their_definitions(pools: list[str]) -> None:
    names = {"a": "foundryusa", "b": "antpool", "c": "f2pool", "unknown": "unknown"}
    frame = pd.DataFrame({"height": np.arange(len(pools)), "pool": [names[p] for p in pools],
                          "ts": pd.Timestamp("2024-01-01")})  # fmt: skip
    row = concentration(frame, "year").iloc[0]
    counted = pd.Series([p for p in pools if p != "unknown"]).value_counts()
    if counted.empty:
        assert row["nakamoto"] == 0
        return
    shares = counted / counted.sum()
    assert row["hhi"] == pytest.approx(10_000 * (shares**2).sum())
    assert row["entropy_bits"] == pytest.approx(-(shares * np.log2(shares)).sum())
    fewest = next(n for n in range(1, len(counted) + 1) if 2 * counted.iloc[:n].sum() > counted.sum())
    assert row["nakamoto"] == fewest


def test_pools_holding_exactly_half_are_not_a_majority() -> None:
    others = [p for p in pool_names() if p not in {"foundryusa", "antpool", "f2pool"}][:28]
    pools = ["foundryusa"] * 18 + ["antpool"] * 9 + ["f2pool"] + others  # the top three hold 28 of 56 blocks
    frame = pd.DataFrame({"height": np.arange(56), "pool": pools, "ts": pd.Timestamp("2024-01-01")})
    assert concentration(frame, "year").iloc[0]["nakamoto"] == 4


def test_pool_shares_add_up_per_window(blocks: pd.DataFrame) -> None:
    shares = pool_shares(blocks, "month", top=5)
    assert shares.groupby("start")["share"].sum().round(9).eq(1).all()
    assert set(shares["pool"]) >= {"Foundry USA", "AntPool", "other pools", "unknown"}


@pytest.mark.parametrize("by", ["fortnight", 0, -5, 2.5, True, 10**7])
def test_bad_windows_are_refused(blocks: pd.DataFrame, by: object) -> None:
    with pytest.raises(ChainInputError):
        concentration(blocks.iloc[:100], by)
