"""Mining concentration per window of blocks: top-k shares, HHI, Nakamoto coefficient and entropy.

Windows are calendar periods ("day", "week", "month", "year") or a whole number N of consecutive blocks. Blocks no
pool was attributed (`unknown`) are handled explicitly: left out of the shares (the default; their count is
reported beside them), or counted as one more entity.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from core.chain.blocks import UNKNOWN, ChainInputError, pool_label

PERIODS = {"day": "D", "week": "W", "month": "M", "year": "Y"}
Unknown = Literal["exclude", "entity"]
MAX_WINDOW_BLOCKS = 1_000_000


def window_ids(blocks: pd.DataFrame, by: str | int) -> tuple[np.ndarray, pd.DataFrame]:
    """Each block's window number, and per window its start time, first and last height."""
    if isinstance(by, str) and by in PERIODS:
        periods = blocks["ts"].dt.to_period(PERIODS[by])
        codes, labels = pd.factorize(periods, sort=True)
        starts = labels.to_timestamp()
    elif isinstance(by, (int, np.integer)) and not isinstance(by, bool) and 1 <= by <= MAX_WINDOW_BLOCKS:
        codes = np.arange(len(blocks)) // int(by)
        starts = blocks["ts"].iloc[:: int(by)].to_numpy()
    else:
        raise ChainInputError(
            f"A window is one of {', '.join(PERIODS)} or a number of blocks from 1 to {MAX_WINDOW_BLOCKS:,}, "
            f"not {by!r}."
        )
    heights = blocks["height"].to_numpy()
    first = np.full(codes.max() + 1, np.iinfo(np.int64).max)
    last = np.full(codes.max() + 1, -1)
    np.minimum.at(first, codes, heights)
    np.maximum.at(last, codes, heights)
    return codes, pd.DataFrame({"start": np.asarray(starts), "first_height": first, "last_height": last})


def pool_counts(blocks: pd.DataFrame, by: str | int) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """A (windows x pools) matrix of block counts, the pool slugs of its columns, and the windows."""
    windows, frame = window_ids(blocks, by)
    pools, slugs = pd.factorize(blocks["pool"].to_numpy())
    counts = np.bincount(windows * len(slugs) + pools, minlength=len(frame) * len(slugs))
    return counts.reshape(len(frame), len(slugs)), np.asarray(slugs, dtype=object), frame


def concentration(blocks: pd.DataFrame, by: str | int = "month", unknown: Unknown = "exclude") -> pd.DataFrame:
    """One row per window: blocks, unknown blocks, the top pool, top-1/2/3 shares, HHI (0-10,000), the Nakamoto
    coefficient (fewest pools holding over half the blocks) and the Shannon entropy in bits."""
    if unknown not in ("exclude", "entity"):
        raise ChainInputError(f"Unknown blocks are either excluded or counted as one entity, not {unknown!r}.")
    counts, slugs, frame = pool_counts(blocks, by)
    is_unknown = slugs == UNKNOWN
    frame["blocks"] = counts.sum(axis=1)
    frame["unknown"] = counts[:, is_unknown].sum(axis=1)
    if unknown == "exclude":
        counts, slugs = counts[:, ~is_unknown], slugs[~is_unknown]
    counted = counts.sum(axis=1)
    order = np.argsort(-counts, axis=1, kind="stable")
    ranked = np.take_along_axis(counts, order, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = ranked / counted[:, None]
        cumulative = np.cumsum(shares, axis=1)
        logs = np.where(shares > 0, np.log2(np.where(shares > 0, shares, 1.0)), 0.0)
    for k in (1, 2, 3):
        frame[f"top{k}_share"] = cumulative[:, min(k, cumulative.shape[1]) - 1] if cumulative.shape[1] else np.nan
    frame["top_pool"] = [pool_label(slugs[o[0]]) if n else "" for o, n in zip(order, counted, strict=True)]
    frame["hhi"] = 10_000 * (shares**2).sum(axis=1)
    held = np.cumsum(ranked, axis=1)
    frame["nakamoto"] = np.where(counted > 0, (2 * held <= counted[:, None]).sum(axis=1) + 1, 0)
    frame["entropy_bits"] = -(shares * logs).sum(axis=1)
    return frame


def pool_shares(blocks: pd.DataFrame, by: str | int = "month", top: int = 8) -> pd.DataFrame:
    """Long table (start, pool, blocks, share) of the `top` pools over the whole range, the rest as "other pools"
    and unattributed blocks as "unknown"; shares are of all blocks in the window."""
    counts, slugs, frame = pool_counts(blocks, by)
    totals = counts.sum(axis=0)
    attributed = [i for i in np.argsort(-totals, kind="stable") if slugs[i] != UNKNOWN]
    leaders = attributed[:top]
    rest = [i for i in range(len(slugs)) if i not in set(leaders) and slugs[i] != UNKNOWN]
    columns = {pool_label(slugs[i]): counts[:, i] for i in leaders}
    columns["other pools"] = counts[:, rest].sum(axis=1)
    columns[UNKNOWN] = counts[:, slugs == UNKNOWN].sum(axis=1)
    wide = pd.DataFrame(columns)
    wide["start"] = frame["start"].to_numpy()
    long = wide.melt(id_vars="start", var_name="pool", value_name="blocks")
    long["share"] = long["blocks"] / long.groupby("start")["blocks"].transform("sum")
    return long
