"""How well the majority monitor detects an attacker: inject a pool with a given hash share into a real block
sequence and see whether the majority alarm rises within the attack's first `within` blocks."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.chain.monitor import MajorityMonitor

ATTACKER = "attacker"


def inject_pool(blocks: pd.DataFrame, start: int, length: int, share: float, rng: np.random.Generator) -> pd.DataFrame:
    """A copy of `blocks` in which each of the `length` blocks from position `start` is, with probability `share`,
    mined by a new pool (`attacker`) instead of its real miner."""
    pools = blocks["pool"].to_numpy(dtype=object).copy()
    taken = rng.random(length) < share
    pools[start : start + length][taken] = ATTACKER
    return blocks.assign(pool=pools)


def detected(segment: pd.DataFrame, start: int, monitor: MajorityMonitor) -> bool:
    """Whether the majority alarm is raised at any block of `segment` from position `start` on."""
    majority = monitor.majority(segment)
    attacked = majority["height"] >= segment["height"].iloc[start]
    return bool((majority.loc[attacked, "p_value"] < monitor.alpha).any())


def detection_rate(
    blocks: pd.DataFrame, share: float, trials: int, *, within: int = 144, seed: int = 0,
    monitor: MajorityMonitor | None = None,
) -> float:  # fmt: skip
    """The fraction of `trials` injections (at random positions with a full baseline before them) of a pool with
    `share` of the hash rate that the majority alarm catches within the attack's first `within` blocks."""
    monitor = monitor or MajorityMonitor()
    rng = np.random.default_rng(seed)
    lead = monitor.window + monitor.baseline
    hits = 0
    for _ in range(trials):
        start = int(rng.integers(lead, len(blocks) - within))
        segment = blocks.iloc[start - lead : start + within]
        hits += detected(inject_pool(segment, lead, within, share, rng), lead, monitor)
    return hits / trials
