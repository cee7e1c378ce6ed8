"""Confirmation advisor: how many confirmations a merchant needs against the largest pools of a window, if they
(or a coalition of two or three of them) turned on the network.

Shares are of the blocks attributed to a pool (unattributed blocks left out, which can only raise a pool's share:
the cautious side). Each coalition's share gets a 95 % Jeffreys interval, and each model's depth is computed at the
interval's upper end, so the advice holds for any share the window is consistent with.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from core.chain.blocks import UNKNOWN, ChainInputError, pool_label
from core.chain.risk import DEFAULT_RISK, MODELS, safe_depth

COALITIONS = (1, 2, 3)
LEVEL = 0.95


def advise(blocks: pd.DataFrame, risk: float = DEFAULT_RISK) -> pd.DataFrame:
    """One row per coalition of the top 1, 2 and 3 pools: members, share with its 95 % interval, and each model's
    depth for an attacker success probability below `risk` (None = no safe depth)."""
    attributed = blocks.loc[blocks["pool"] != UNKNOWN, "pool"]
    if attributed.empty:
        raise ChainInputError("The window has no block attributed to a pool, so there is nothing to advise on.")
    counts = attributed.value_counts()
    n = int(counts.sum())
    rows = []
    for size in (c for c in COALITIONS if c <= len(counts)):
        members = counts.index[:size]
        k = int(counts.iloc[:size].sum())
        low, high = stats.beta.ppf([(1 - LEVEL) / 2, (1 + LEVEL) / 2], k + 0.5, n - k + 0.5)
        low, high = (0.0 if k == 0 else float(low)), (1.0 if k == n else float(high))
        row: dict[str, object] = {
            "coalition": " + ".join(pool_label(p) for p in members),
            "pools": len(members),
            "blocks": k,
            "share": k / n,
            "share_low": low,
            "share_high": high,
        }
        for model in MODELS:
            row[model] = safe_depth(model, min(high, 0.5), risk) if k / n <= 0.5 else None
        row["advice"] = _advice(row, k / n)
        rows.append(row)
    frame = pd.DataFrame(rows)
    return frame.astype({model: "Int64" for model in MODELS})


def _advice(row: dict[str, object], share: float) -> str:
    if share > 0.5:
        return "no safe depth: this coalition holds over half the blocks"
    depths = [row[m] for m in MODELS]
    if any(d is None for d in depths):
        return "no safe depth: the interval reaches half the blocks"
    return f"wait {max(d for d in depths if d is not None):,} confirmations (the most cautious model)"


def window_blocks(
    blocks: pd.DataFrame, last: int | None = None, start: object = None, end: object = None
) -> pd.DataFrame:
    """The blocks of a window: the last `last` blocks, or those dated from `start` up to (not including) `end`."""
    if last is not None:
        if isinstance(last, bool) or not isinstance(last, (int, np.integer)) or last < 1:
            raise ChainInputError("The window must hold at least one block.")
        return blocks.iloc[-int(last) :]
    chosen = np.ones(len(blocks), dtype=bool)
    if start is not None:
        chosen &= blocks["ts"] >= pd.Timestamp(start)
    if end is not None:
        chosen &= blocks["ts"] < pd.Timestamp(end)
    return blocks[chosen]
