"""Benchmark: the Bitcoin network capability against the published numbers and the old rules, one JSON line a
figure.

    python bench/chain.py [--injections 1000] [--repeats 5]

Figures: the whitepaper's 22 table values and 8 depths and Rosenfeld's 8 depths (exact matches); concentration over
all shared blocks by day, month and 144 blocks (median of `repeats`) against a pandas groupby of the same figures;
the monitor over all blocks (time, and against a pandas rolling-window version of its leader count), its alerts on
the real blocks, and its detection rate over `injections` injections of a 60 % and a 51 % pool; the old rule "top
miner over 60 % of the last 10 blocks and mean interval under 300 s" on the same blocks; fee episodes and the named
days they catch, beside the old "3x the 30-day mean" rule.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from timing import median_seconds

from core.chain.blocks import UNKNOWN, block_seconds, read_block_file, safe_intervals
from core.chain.concentration import concentration
from core.chain.evaluation import detection_rate
from core.chain.fees import FEES, fee_episodes, read_series_folder
from core.chain.monitor import MajorityMonitor
from core.chain.risk import depth_table, nakamoto

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "bitcoin"
WHITEPAPER = {
    0.1: (1.0, 0.2045873, 0.0509779, 0.0131722, 0.0034552, 0.0009137, 0.0002428, 0.0000647, 0.0000173, 0.0000046,
          0.0000012),
    0.3: (1.0, 0.1773523, 0.0416605, 0.0101008, 0.0024804, 0.0006132, 0.0001522, 0.0000379, 0.0000095, 0.0000024,
          0.0000006),
}  # fmt: skip
SHARES = [0.10, 0.15, 0.20, 0.25, 0.30, 0.35, 0.40, 0.45]
NAKAMOTO_DEPTHS = [5, 8, 11, 15, 24, 41, 89, 340]
ROSENFELD_DEPTHS = [6, 9, 13, 20, 32, 58, 133, 539]
NAMED_DAYS = pd.to_datetime(["2023-05-08", "2023-12-16", "2023-12-17", "2024-04-20"])


def emit(**figure: object) -> None:
    print(json.dumps(figure), flush=True)


def risk_figures() -> None:
    depths = {0.1: range(11), 0.3: range(0, 51, 5)}
    matches = sum(
        round(nakamoto(q, z), 7) == value
        for q, row in WHITEPAPER.items()
        for z, value in zip(depths[q], row, strict=True)
    )
    table = depth_table(SHARES)
    emit(figure="whitepaper table values reproduced", matches=matches, of=22)
    emit(figure="Nakamoto depths for P < 0.001", got=[r["Nakamoto"] for r in table], published=NAKAMOTO_DEPTHS)
    emit(figure="Rosenfeld depths for P < 0.001", got=[r["Rosenfeld"] for r in table], published=ROSENFELD_DEPTHS,
         closed_form=[r["closed form"] for r in table])  # fmt: skip


def pandas_concentration(blocks: pd.DataFrame, by: str | int) -> pd.DataFrame:
    """The same figures with a pandas groupby: the baseline."""
    attributed = blocks[blocks["pool"] != UNKNOWN]
    key = attributed["ts"].dt.to_period({"day": "D", "month": "M"}[by]) if isinstance(by, str) else (
        (attributed.index.to_numpy()) // by)  # fmt: skip
    counts = attributed.groupby([key, attributed["pool"]]).size()
    shares = counts / counts.groupby(level=0).transform("sum")

    def figures(s: pd.Series) -> pd.Series:
        ranked = s.sort_values(ascending=False).to_numpy()
        cumulative = ranked.cumsum()
        return pd.Series({"top1": cumulative[0], "top2": cumulative[min(1, len(ranked) - 1)],
                          "hhi": 10_000 * (ranked**2).sum(), "nakamoto": int((cumulative <= 0.5).sum()) + 1,
                          "entropy": -(ranked * np.log2(ranked)).sum()})  # fmt: skip

    return shares.groupby(level=0).apply(figures)


def concentration_figures(blocks: pd.DataFrame, repeats: int) -> None:
    for by in ("day", "month", 144):
        ours = median_seconds(lambda by=by: concentration(blocks, by), repeats)
        baseline = median_seconds(lambda by=by: pandas_concentration(blocks, by), max(1, repeats // 2))
        emit(figure="concentration over all blocks", window=by, blocks=len(blocks), seconds=round(ours, 4),
             pandas_groupby_seconds=round(baseline, 4), speedup=round(baseline / ours, 1))  # fmt: skip


def pandas_leader_counts(blocks: pd.DataFrame, window: int) -> np.ndarray:
    """The leading pool's count in each window with pandas rolling sums over one-hot columns: the baseline."""
    onehot = pd.get_dummies(blocks["pool"]).drop(columns=[UNKNOWN], errors="ignore").astype(np.int32)
    return onehot.rolling(window).sum().max(axis=1).to_numpy()


def monitor_figures(blocks: pd.DataFrame, injections: int, repeats: int) -> None:
    monitor = MajorityMonitor()
    alerts = monitor.scan(blocks)
    seconds = median_seconds(lambda: monitor.scan(blocks), repeats)
    leader = median_seconds(lambda: monitor.majority(blocks), repeats)
    baseline = median_seconds(lambda: pandas_leader_counts(blocks, monitor.window), max(1, repeats // 2))
    emit(figure="monitor over all blocks", blocks=len(blocks), seconds=round(seconds, 3),
         majority_test_seconds=round(leader, 3), pandas_rolling_leader_seconds=round(baseline, 3),
         speedup_majority_test=round(baseline / leader, 1))  # fmt: skip
    emit(figure="monitor alerts on the shared blocks", majority=int((alerts["level"] == "majority").sum()),
         burst=int((alerts["level"] == "burst").sum()), run=int((alerts["level"] == "run").sum()),
         largest_leader_count=int(monitor.majority(blocks)["count"].max()), window=monitor.window)  # fmt: skip
    for share in (0.60, 0.51):
        rate = detection_rate(blocks, share, injections, seed=2026)
        emit(figure="majority alarm within 144 blocks of an injected pool", share=share, injections=injections,
             detection_rate=rate)  # fmt: skip
    top10 = pd.Series(blocks["pool"].to_numpy()).where(lambda p: p != UNKNOWN)
    codes, _ = pd.factorize(top10)
    onehot = pd.get_dummies(pd.Series(codes)).drop(columns=[-1], errors="ignore")
    leader10 = onehot.rolling(10).sum().max(axis=1).to_numpy()
    mean_interval = pd.Series(safe_intervals(block_seconds(blocks))).rolling(10).mean().to_numpy()
    fires = (leader10 > 6) & (mean_interval < 300)
    years = len(blocks) / 52_560
    emit(figure="old rule: top miner over 60 % of 10 blocks and mean interval under 300 s", alarming_blocks=int(
        fires.sum()), episodes=int((fires & ~np.r_[False, fires[:-1]]).sum()), per_year=round(
        float((fires & ~np.r_[False, fires[:-1]]).sum()) / years, 1))  # fmt: skip


def fee_figures(series: dict[str, pd.Series]) -> None:
    episodes = fee_episodes(series)
    fees = series[FEES]
    years = ((fees.index[-1] - fees.index[0]).days + 1) / 365.25
    caught = sum(((episodes["start"] <= d) & (d <= episodes["end"])).any() for d in NAMED_DAYS)
    emit(figure="fee episodes", episodes=len(episodes), per_year=round(len(episodes) / years, 1),
         named_days_found=int(caught), of=len(NAMED_DAYS),
         causes=episodes["cause"].value_counts().to_dict())  # fmt: skip
    old = fees > 3 * fees.rolling(30, min_periods=30).mean().shift(1)
    flagged = fees.index[old.to_numpy()]
    emit(figure="old fee rule: over 3x the 30-day mean", flagged_days=len(flagged),
         named_days_found=int(sum(d in set(flagged) for d in NAMED_DAYS)), of=len(NAMED_DAYS))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--injections", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    blocks = read_block_file(SHARED / "pools" / "blocks_2021_2024.parquet")
    risk_figures()
    concentration_figures(blocks, args.repeats)
    monitor_figures(blocks, args.injections, args.repeats)
    fee_figures(read_series_folder(SHARED / "blockchain_com_daily_2023_2024"))


if __name__ == "__main__":
    main()
