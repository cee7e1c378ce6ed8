"""The majority-attack monitor on the real blocks: silent at the majority level, quick to catch an injected 60 %
pool, and its burst and run tests fire on the patterns they are for."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.chain.blocks import ChainInputError
from core.chain.evaluation import ATTACKER, detected, detection_rate, inject_pool
from core.chain.monitor import MajorityMonitor

MONITOR = MajorityMonitor()


def test_no_majority_alert_on_four_years_of_real_blocks(blocks: pd.DataFrame) -> None:
    majority = MONITOR.majority(blocks)
    assert len(majority) == len(blocks) - MONITOR.window - MONITOR.baseline + 1
    assert majority["count"].max() == 69  # the largest single-pool count in any 144-block window
    assert (majority["p_value"] >= MONITOR.alpha).all()
    assert (MONITOR.scan(blocks)["level"] != "majority").all()


def test_an_injected_60_percent_pool_is_caught_within_a_day_at_least_99_times_in_100(blocks: pd.DataFrame) -> None:
    assert detection_rate(blocks, 0.60, trials=300, seed=11) >= 0.99


def test_a_51_percent_pool_is_a_probability_not_a_certainty(blocks: pd.DataFrame) -> None:
    assert detection_rate(blocks, 0.51, trials=200, seed=5) < detection_rate(blocks, 0.60, trials=200, seed=5) - 0.1
    start = 150_000
    lead = MONITOR.window + MONITOR.baseline
    segment = inject_pool(blocks.iloc[start - lead : start + 144], lead, 144, 0.51, np.random.default_rng(3))
    last = MONITOR.majority(segment).iloc[-1]
    assert last["pool"] == ATTACKER and 0.2 < last["probability"] < 0.95


def test_an_honest_sequence_with_the_attacker_removed_raises_nothing(blocks: pd.DataFrame) -> None:
    lead = MONITOR.window + MONITOR.baseline
    segment = inject_pool(blocks.iloc[: lead + 144], lead, 144, 0.0, np.random.default_rng(0))
    assert not detected(segment, lead, MONITOR)


def test_a_long_run_by_one_pool_is_a_run_alert(blocks: pd.DataFrame) -> None:
    edited = blocks.iloc[:5000].copy()
    pools = edited["pool"].to_numpy(dtype=object)
    pools[4000:4012] = "f2pool"
    alerts = MONITOR.scan(edited.assign(pool=pools))
    runs = alerts[alerts["level"] == "run"]
    assert len(runs) == 1 and runs["pool"].iloc[0] == "f2pool" and runs["count"].iloc[0] >= 12


def test_blocks_found_in_a_burst_are_a_burst_alert(blocks: pd.DataFrame) -> None:
    edited = blocks.iloc[:5000].copy()
    ts = edited["ts"].to_numpy().copy()
    base = ts[3999]
    ts[4000:4006] = base + np.arange(1, 7) * np.timedelta64(5, "s")
    alerts = MONITOR.scan(edited.assign(ts=ts))
    bursts = alerts[alerts["level"] == "burst"]
    burst_end = edited["height"].iloc[4005]
    assert len(bursts) == 1
    assert bursts["height"].iloc[0] <= burst_end <= bursts["end_height"].iloc[0]


def test_alerts_carry_their_block_time_and_a_readable_detail(blocks: pd.DataFrame) -> None:
    alerts = MONITOR.scan(blocks)
    assert len(alerts) and alerts["ts"].notna().all()
    by_height = blocks.set_index("height")["ts"]
    assert (by_height.loc[alerts["height"]].to_numpy() == alerts["ts"].to_numpy()).all()
    assert alerts["detail"].str.contains("tail probability").all()


def test_too_few_blocks_give_no_test_and_no_alert(blocks: pd.DataFrame) -> None:
    assert MONITOR.majority(blocks.iloc[:500]).empty
    assert MONITOR.scan(blocks.iloc[:500]).empty


@pytest.mark.parametrize(
    "settings", [{"window": 0}, {"window": 2.5}, {"baseline": True}, {"false_alarms_per_year": float("nan")},
                 {"burst_alpha": -1}, {"burst_blocks": 10**9}]
)  # fmt: skip
def test_bad_monitor_settings_are_refused(settings: dict) -> None:
    with pytest.raises(ChainInputError):
        MajorityMonitor(**settings)
