"""Majority-attack monitor over a block sequence: three tests, each with its false-alarm rate set from a tail
probability rather than a fixed share.

- **majority**: in every window of `window` blocks, the pool with the most blocks. Its count is tested against an
  honest pool as large as the largest share any pool held over the `baseline` blocks before the window (upper 97.5 %
  Jeffreys bound): the binomial tail P(Bin(window, bound) >= count). An alarm is raised when the tail is below
  alpha = false_alarms_per_year / blocks per year: a pool mining at the bound would put about
  `false_alarms_per_year` alarming blocks a year (pools below the bound far fewer; the real 2021–2024 blocks none,
  their smallest tail being 3.2 alpha). Each alarm reports the probability that the pool holds over half the hash
  rate (Jeffreys posterior), shown for the leader at every block: a 60 % pool is caught within a day in over 99 %
  of injections; a 51 % pool in about 80 %, and its probability is what to read.
- **burst**: `burst_blocks` blocks found in unusually little time against the baseline's mean interval (gamma tail).
- **run**: a pool mining many consecutive blocks against its baseline share (geometric tail).

Burst and run thresholds are calibrated on the real tails of 2021–2022 (`bench/chain_calibrate.py`, which also prints
the held-out 2023–2024 rate). Runs of consecutive alarming blocks are one alert. Unattributed blocks never lead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from core.chain import _kernels
from core.chain.blocks import UNKNOWN, ChainInputError, block_seconds, safe_intervals

BLOCKS_PER_YEAR = 52_560
# chosen by bench/chain_calibrate.py on the 2021-2022 blocks (see its output for the held-out 2023-2024 rates)
BURST_BLOCKS = 6
BURST_ALPHA = 1e-5
RUN_ALPHA = 1e-5
ALERT_COLUMNS = ["height", "end_height", "ts", "pool", "level", "probability", "count", "window", "p_value", "detail"]


@dataclass(frozen=True)
class MajorityMonitor:
    """The three tests' parameters; `scan` runs them over a block table and returns one row per alert."""

    window: int = 144
    baseline: int = 2016
    false_alarms_per_year: float = 1.0
    burst_blocks: int = BURST_BLOCKS
    burst_alpha: float = BURST_ALPHA
    run_alpha: float = RUN_ALPHA

    def __post_init__(self) -> None:
        for name, low, high in (("window", 6, 10_000), ("baseline", 144, 100_000), ("burst_blocks", 2, 1_000)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ChainInputError(f"The monitor's {name} must be a whole number from {low:,} to {high:,}.")
        for name in ("false_alarms_per_year", "burst_alpha", "run_alpha"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1_000:
                raise ChainInputError(f"The monitor's {name} must be a positive number below 1,000.")

    @property
    def alpha(self) -> float:
        """The per-window significance level of the majority test."""
        return self.false_alarms_per_year / BLOCKS_PER_YEAR

    def majority(self, blocks: pd.DataFrame) -> pd.DataFrame:
        """Per block (with a full window and baseline behind it): the leading pool, its count, the honest bound, the
        binomial tail and the probability of a majority."""
        codes, slugs = pd.factorize(blocks["pool"].to_numpy())
        skip = int(np.flatnonzero(slugs == UNKNOWN)[0]) if UNKNOWN in set(slugs) else -1
        codes = codes.astype(np.int64)
        leader, count = _kernels.window_leader(codes, len(slugs), self.window, skip)
        honest = _largest_share_before(codes, len(slugs), skip, self.window, self.baseline)
        ready = np.arange(len(codes)) >= self.window + self.baseline - 1
        ready &= leader >= 0
        bound = _upper_bound(honest, self.baseline)
        rows = np.flatnonzero(ready)
        k = count[rows]
        return pd.DataFrame(
            {
                "height": blocks["height"].to_numpy()[rows],
                "pool": np.asarray(slugs, dtype=object)[leader[rows]],
                "count": k,
                "honest_bound": bound[rows],
                "p_value": stats.binom.sf(k - 1, self.window, bound[rows]),
                "probability": majority_probability(k, self.window),
            }
        )

    def bursts(self, blocks: pd.DataFrame) -> pd.DataFrame:
        """Per block: the time the last `burst_blocks` blocks took and its gamma tail against the baseline's mean
        interval."""
        clock = np.nancumsum(np.nan_to_num(safe_intervals(block_seconds(blocks))))
        n, base = self.burst_blocks, self.baseline
        rows = np.arange(n + base, len(clock))
        span = clock[rows] - clock[rows - n]
        mean_interval = (clock[rows - n] - clock[rows - n - base]) / base
        p_value = stats.gamma.cdf(span, n, scale=np.maximum(mean_interval, 1.0))
        return pd.DataFrame({"height": blocks["height"].to_numpy()[rows], "span_s": span, "p_value": p_value})

    def runs(self, blocks: pd.DataFrame) -> pd.DataFrame:
        """Per block: the run of consecutive blocks of its pool ending there, and the geometric tail of a run that
        long for a pool of its baseline share (upper 97.5 % bound)."""
        codes, slugs = pd.factorize(blocks["pool"].to_numpy())
        codes = codes.astype(np.int64)
        runs = _kernels.run_lengths(codes)
        rows = np.arange(len(codes))
        start = rows - runs + 1
        rows = rows[(start >= self.baseline) & (np.asarray(slugs, dtype=object)[codes] != UNKNOWN)]
        own = _kernels.own_count_before(codes, len(slugs), self.baseline)[start[rows]]
        bound = _upper_bound(own, self.baseline)
        return pd.DataFrame(
            {
                "height": blocks["height"].to_numpy()[rows],
                "pool": np.asarray(slugs, dtype=object)[codes[rows]],
                "run": runs[rows],
                "p_value": bound ** runs[rows],
            }
        )

    def scan(self, blocks: pd.DataFrame, majority: pd.DataFrame | None = None) -> pd.DataFrame:
        """Every alert of the three tests, in height order (columns ALERT_COLUMNS); `majority` is this monitor's
        `majority(blocks)` when the caller has it already."""
        majority = self.majority(blocks) if majority is None else majority
        alerts = [_episodes(majority[majority["p_value"] < self.alpha], "majority", self.window)]
        bursts = self.bursts(blocks)
        alerts.append(_episodes(bursts[bursts["p_value"] < self.burst_alpha], "burst", self.burst_blocks))
        runs = self.runs(blocks)
        alerts.append(_episodes(runs[runs["p_value"] < self.run_alpha], "run", 0))
        found = [a for a in alerts if len(a)]
        if not found:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in ALERT_COLUMNS})
        frame = pd.concat(found, ignore_index=True).sort_values(["height", "level"], kind="stable")
        times = pd.Series(blocks["ts"].to_numpy(), index=blocks["height"].to_numpy())
        frame["ts"] = times.loc[frame["height"]].to_numpy()
        return frame.reset_index(drop=True)[ALERT_COLUMNS]


def majority_probability(count: np.ndarray, window: int) -> np.ndarray:
    """The probability that a pool with `count` of `window` blocks holds over half the hash rate (Jeffreys
    posterior), computed once per distinct count."""
    distinct, inverse = np.unique(np.asarray(count), return_inverse=True)
    return stats.beta.sf(0.5, distinct + 0.5, window - distinct + 0.5)[inverse]


def _upper_bound(counts: np.ndarray, trials: int) -> np.ndarray:
    """The upper 97.5 % Jeffreys bound of a share from `counts` of `trials` (computed once per distinct count)."""
    distinct, inverse = np.unique(counts, return_inverse=True)
    return stats.beta.ppf(0.975, distinct + 0.5, trials - distinct + 0.5)[inverse]


def _largest_share_before(codes: np.ndarray, n_codes: int, skip: int, window: int, baseline: int) -> np.ndarray:
    """For each block i: the largest count any attributed pool had in the `baseline` blocks before the window that
    ends at i (0 where there is not enough history)."""
    _, largest = _kernels.window_leader(codes, n_codes, baseline, skip)
    before = np.zeros(len(codes), np.int64)
    before[window:] = largest[:-window]
    return before


def _episodes(hits: pd.DataFrame, level: str, window: int) -> pd.DataFrame:
    """Consecutive alarming blocks of one test (and pool) as one alert, described by its most significant block."""
    if hits.empty:
        return hits.iloc[0:0]
    heights = hits["height"].to_numpy()
    pools = hits["pool"].to_numpy() if "pool" in hits else np.full(len(hits), "")
    new = np.r_[True, (np.diff(heights) > 1) | (pools[1:] != pools[:-1])]
    episode = np.cumsum(new)
    rows = []
    for _, group in hits.groupby(episode, sort=True):
        peak = group.loc[group["p_value"].idxmin()]
        pool = str(peak.get("pool", ""))
        rows.append(
            {
                "height": int(group["height"].iloc[0]),
                "end_height": int(group["height"].iloc[-1]),
                "pool": pool,
                "level": level,
                "probability": float(peak["probability"]) if "probability" in peak else math.nan,
                "count": int(peak.get("count", peak.get("run", 0))),
                "window": window if level != "run" else int(peak["run"]),
                "p_value": float(peak["p_value"]),
                "detail": _detail(level, peak, window),
            }
        )
    return pd.DataFrame(rows)


def _detail(level: str, peak: pd.Series, window: int) -> str:
    if level == "majority":
        return (
            f"{int(peak['count'])} of {window} blocks; an honest pool of at most {peak['honest_bound']:.1%} gets "
            f"that many with probability {peak['p_value']:.1e}"
        )
    if level == "burst":
        return f"{window} blocks in {peak['span_s'] / 60:.1f} minutes (tail probability {peak['p_value']:.1e})"
    return f"{int(peak['run'])} consecutive blocks (tail probability {peak['p_value']:.1e})"
