"""Fee-spike episodes: the four named days of the shared year, no blind spot at a series start, and bad series
refused."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.chain.blocks import ChainInputError
from core.chain.fees import FEES, fee_episodes, read_series, robust_baseline

NAMED_DAYS = pd.to_datetime(["2023-05-08", "2023-12-16", "2023-12-17", "2024-04-20"])


def test_all_four_named_days_fall_in_at_most_twelve_episodes_a_year(series: dict[str, pd.Series]) -> None:
    episodes = fee_episodes(series)
    years = (series[FEES].index[-1] - series[FEES].index[0]).days / 365.25
    assert len(episodes) / years <= 12
    for day in NAMED_DAYS:
        assert ((episodes["start"] <= day) & (day <= episodes["end"])).any(), day
    halving = episodes[(episodes["start"] <= NAMED_DAYS[-1]) & (NAMED_DAYS[-1] <= episodes["end"])].iloc[0]
    assert halving["cause"] == "halving" and halving["magnitude"] > 10


def test_episodes_report_duration_peak_and_a_cause_with_its_evidence(series: dict[str, pd.Series]) -> None:
    episodes = fee_episodes(series)
    assert (episodes["days"] == (episodes["end"] - episodes["start"]).dt.days + 1).all()
    assert ((episodes["start"] <= episodes["peak_day"]) & (episodes["peak_day"] <= episodes["end"])).all()
    assert (episodes["magnitude"] > 1).all() and (episodes["why"] != "").all()
    assert set(episodes["cause"]) <= {"halving", "transaction demand", "fewer blocks", "fee bidding"}


def _series(values: list[float], start: str = "2024-01-01") -> pd.Series:
    return pd.Series(values, index=pd.date_range(start, periods=len(values), freq="D", name="day"))


def test_a_spike_on_the_second_day_of_a_series_is_found() -> None:
    rng = np.random.default_rng(1)
    values = list(40 + rng.normal(0, 3, 60))
    values[1] = 400
    episodes = fee_episodes({FEES: _series(values)})
    assert episodes["start"].iloc[0] == pd.Timestamp("2024-01-02")


def test_the_baseline_borrows_later_days_only_while_it_lacks_earlier_ones() -> None:
    values = _series(list(range(1, 41)))
    baseline = robust_baseline(values)
    assert baseline.iloc[0] == np.median(range(2, 16))
    assert baseline.iloc[20] == np.median(range(7, 21))


def _csv(rows: list[tuple[object, object]]) -> bytes:
    return ("x,y\n" + "\n".join(f"{x},{y}" for x, y in rows)).encode()


DAY = 86_400_000


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_csv([(1682812800000, 1), (1682812800000, 2), (1682812800000 + DAY, 2)]), "repeats or goes back"),
        (_csv([(1682812800000 + DAY, 1), (1682812800000, 2), (1682812800000 + 2 * DAY, 2)]), "repeats or goes back"),
        (_csv([(1682812800000 + i * DAY, v) for i, v in enumerate([1, "nan", 2])]), "value"),
        (_csv([(1682812800000 + i * DAY, v) for i, v in enumerate([1, -5, 2])]), "value"),
        (_csv([("yesterday", 1), (1682812800000, 1), (1682812800000 + DAY, 1)]), "day"),
        (_csv([(1682812800000, 1), (1682812800000 + DAY, 1)]), "3 to 100,000 days"),
        (("x,y," + ",".join(f"c{i}" for i in range(100)) + "\n1,2\n").encode(), "at most 16"),
        (b'x,y\n"1,2\n3,4\n5,6\n', "readable CSV"),
        (b"day,value\n1,2\n", "columns x"),
        (b"\xff\xfe", "UTF-8"),
        (b"x" * (64 * 2**20 + 1), "larger than"),
    ],
)
def test_bad_series_get_one_clear_message(data: bytes, message: str) -> None:
    with pytest.raises(ChainInputError, match=message):
        read_series(data, "transaction-fees.csv")


def test_a_zero_baseline_gives_no_infinite_magnitude() -> None:
    values = [0.0] * 20 + [5.0] + [0.0] * 10
    episodes = fee_episodes({FEES: _series(values)})
    assert len(episodes) == 1 and np.isnan(episodes["magnitude"].iloc[0]) and episodes["peak_fees"].iloc[0] == 5


def test_a_block_count_drop_is_a_cause() -> None:
    rng = np.random.default_rng(4)
    fees = list(40 + rng.normal(0, 2, 60))
    fees[30] = 300
    blocks = list(144 + rng.normal(0, 4, 60))
    blocks[30] = 60
    episodes = fee_episodes({FEES: _series(fees)}, _series(blocks))
    assert episodes["cause"].tolist() == ["fewer blocks"] and "blocks" in episodes["why"].iloc[0]


def test_a_series_file_round_trips(shared_data) -> None:
    path = shared_data / "bitcoin" / "blockchain_com_daily_2023_2024" / "transaction-fees.csv"
    fees = read_series(path.read_bytes(), path.name)
    assert len(fees) == 364 and fees.index[0] == pd.Timestamp("2023-04-30")
    assert round(fees.loc["2024-04-20"], 1) == 1257.7


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_any_edit_of_a_series_file_is_read_or_refused_cleanly(shared_data, data: st.DataObject) -> None:
    text = (shared_data / "bitcoin" / "blockchain_com_daily_2023_2024" / "hash-rate.csv").read_text()[:2000]
    chars = list(text)
    for _ in range(data.draw(st.integers(1, 6))):
        chars[data.draw(st.integers(0, len(chars) - 1))] = data.draw(st.sampled_from(list('0123456789,.-e"x\n ')))
    try:
        values = read_series("".join(chars).encode(), "edited.csv")
    except ChainInputError:
        return
    assert values.index.is_monotonic_increasing and values.index.is_unique
    assert np.isfinite(values.to_numpy()).all() and (values >= 0).all()
