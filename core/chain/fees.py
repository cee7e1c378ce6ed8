"""Fee-spike episodes in daily network series (blockchain.com's chart exports: `x` = day in Unix milliseconds,
`y` = value).

A day's magnitude is its fees over a robust baseline: the median of the 14 days before it, topped up with the days
after it while a series has fewer than 14 days behind it, so the first days of a series are judged too. A day is a
spike when its log-ratio is an outlier by Hampel's rule (more than 3 scaled median absolute deviations above the
series' median log-ratio); spikes at most one quiet day apart are one episode. Each episode gets a cause class from
what moved with it: the halving calendar, the transaction count, the hash rate and the blocks found per day.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from core.chain.blocks import MAX_FILE_BYTES, ChainInputError, header_fields

BASELINE_DAYS = 14
HAMPEL_K = 3.0  # Hampel's identifier's customary cut-off, fixed before looking at the named days
MAD_SCALE = 1.4826
MEAN_AD_SCALE = 1.2533
MERGE_GAP_DAYS = 1
CO_MOVING_Z = 2.0
HALVINGS = pd.to_datetime(["2012-11-28", "2016-07-09", "2020-05-11", "2024-04-20"])
HALVING_DAYS = 3
MAX_DAYS = 100_000
MIN_DAYS = 3
MAX_SERIES_COLUMNS = 16
FEES = "transaction-fees"
SERIES = {
    FEES: "total fees (BTC)",
    "n-transactions": "transactions",
    "n-transactions-total": "transactions (cumulative)",
    "hash-rate": "hash rate (TH/s)",
    "difficulty": "difficulty",
    "miners-revenue": "miners' revenue (USD)",
}
EPISODE_COLUMNS = ["start", "end", "days", "peak_day", "peak_fees", "baseline", "magnitude", "cause", "why"]


def read_series(data: bytes, name: str) -> pd.Series:
    """One daily series (index: day, values: float) from a blockchain.com-style CSV, checked."""
    if len(data) > MAX_FILE_BYTES:
        raise ChainInputError(f"{name} is larger than {MAX_FILE_BYTES // 2**20} MiB.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ChainInputError(f"{name} is not UTF-8 text.") from None
    if header_fields(text, name, MAX_SERIES_COLUMNS)[:2] != ["x", "y"]:
        raise ChainInputError(f"{name} must have the columns x (day, Unix milliseconds) and y (value).")
    try:
        raw = pd.read_csv(io.StringIO(text), dtype=str, nrows=MAX_DAYS + 1, usecols=["x", "y"], index_col=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError):
        raise ChainInputError(
            f"{name} is not a readable CSV file (rows of different lengths or broken quotes)."
        ) from None
    if not MIN_DAYS <= len(raw) <= MAX_DAYS:
        raise ChainInputError(f"{name} must have {MIN_DAYS} to {MAX_DAYS:,} days.")
    x = pd.to_numeric(raw["x"], errors="coerce")
    y = pd.to_numeric(raw["y"], errors="coerce")
    low, high = pd.Timestamp("2009-01-03").value // 10**6, pd.Timestamp("2200-01-01").value // 10**6
    for label, values, ok in (
        ("day", raw["x"], x.notna() & (x >= low) & (x <= high)),
        ("value", raw["y"], y.notna() & np.isfinite(y) & (y >= 0)),
    ):
        if not ok.all():
            at = int(np.flatnonzero(~ok.to_numpy())[0])
            raise ChainInputError(f"{name}: the {label} {str(values.iloc[at])[:40]!r} at row {at + 2:,} is not valid.")
    days = pd.to_datetime(x, unit="ms").dt.floor("D")
    steps = days.diff().dt.days.to_numpy()[1:]
    if (steps <= 0).any():
        at = int(np.flatnonzero(steps <= 0)[0]) + 1
        raise ChainInputError(
            f"{name}: day {days.iloc[at].date()} at row {at + 2:,} repeats or goes back; one row per day, in order."
        )
    return pd.Series(y.to_numpy(dtype=float), index=pd.DatetimeIndex(days, name="day"), name=name)


def read_series_folder(folder: Path) -> dict[str, pd.Series]:
    """The known series (file stem in SERIES) in a folder; transaction-fees.csv is required."""
    if not folder.is_dir():
        raise ChainInputError(f"{folder} is not a folder.")
    series = {}
    for stem in SERIES:
        path = folder / f"{stem}.csv"
        if path.is_file():
            if path.stat().st_size > MAX_FILE_BYTES:
                raise ChainInputError(f"{path} is larger than {MAX_FILE_BYTES // 2**20} MiB.")
            series[stem] = read_series(path.read_bytes(), path.name)
    if FEES not in series:
        raise ChainInputError(f"{folder} has no {FEES}.csv (columns x, y), which fee episodes need.")
    return series


def robust_baseline(values: pd.Series, days: int = BASELINE_DAYS) -> pd.Series:
    """The median of the `days` days before each day (missing days skipped); a day with fewer than `days` behind it
    borrows the days after it, so there is no blind spot at the start."""
    daily = values.asfreq("D")
    v = daily.to_numpy(dtype=float)
    base = np.full(len(v), np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a window of missing days only: its baseline stays missing
        if len(v) > days:
            base[days:] = np.nanmedian(np.lib.stride_tricks.sliding_window_view(v[:-1], days), axis=1)
        for i in range(min(days, len(v))):  # the first days: every other day of the first days + 1
            base[i] = np.nanmedian(np.delete(v[: days + 1], i))
    return pd.Series(base, index=daily.index).reindex(values.index)


def robust_z(values: pd.Series) -> pd.Series:
    """Each day's log-ratio to its robust baseline, in scaled median absolute deviations from the median (the scaled
    mean absolute deviation where more than half the days sit exactly on the median, as Iglewicz and Hoaglin
    advise)."""
    ratio = np.log(values.clip(lower=1e-12) / robust_baseline(values).clip(lower=1e-12))
    centre = float(np.nanmedian(ratio))
    spread = MAD_SCALE * float(np.nanmedian(np.abs(ratio - centre)))
    if not spread > 0:
        spread = MEAN_AD_SCALE * float(np.nanmean(np.abs(ratio - centre)))
    return (ratio - centre) / spread if spread > 0 else ratio * 0.0


def daily_transactions(series: dict[str, pd.Series]) -> pd.Series | None:
    """Transactions a day, from the daily series or the cumulative one."""
    if "n-transactions" in series:
        return series["n-transactions"]
    if "n-transactions-total" in series:
        return series["n-transactions-total"].diff()
    return None


def blocks_per_day(times: pd.Series) -> pd.Series:
    """Blocks found each day (UTC), from the header times of a block table."""
    counts = times.dt.floor("D").value_counts().sort_index()
    return counts.asfreq("D", fill_value=0).astype(float).rename_axis("day")


def fee_episodes(
    series: dict[str, pd.Series],
    blocks: pd.Series | None = None,
    *,
    hampel_k: float = HAMPEL_K,
    merge_gap_days: int = MERGE_GAP_DAYS,
) -> pd.DataFrame:
    """The fee-spike episodes of a set of series (transaction-fees required), one row each (EPISODE_COLUMNS);
    `blocks` (blocks found per day) joins the co-moving series where it covers the fee days."""
    fees = series[FEES]
    if len(fees) < MIN_DAYS:
        raise ChainInputError(f"Fee episodes need at least {MIN_DAYS} days of fees.")
    baseline = robust_baseline(fees)
    z = robust_z(fees)
    spikes = np.flatnonzero((z > hampel_k).to_numpy())
    groups: list[list[int]] = []
    for day in spikes:
        if groups and (fees.index[day] - fees.index[groups[-1][-1]]).days <= merge_gap_days + 1:
            groups[-1].append(day)
        else:
            groups.append([day])
    co_moving = {
        "transactions": robust_z(t) if (t := daily_transactions(series)) is not None else None,
        "hash rate": robust_z(series["hash-rate"]) if "hash-rate" in series else None,
        "blocks": robust_z(blocks) if blocks is not None and len(blocks) >= MIN_DAYS else None,
    }
    rows = []
    for group in groups:
        peak = group[int(np.argmax(fees.to_numpy()[group]))]
        start, end, peak_day = fees.index[group[0]], fees.index[group[-1]], fees.index[peak]
        cause, why = _cause(start, end, peak_day, co_moving)
        rows.append(
            {
                "start": start,
                "end": end,
                "days": (end - start).days + 1,
                "peak_day": peak_day,
                "peak_fees": float(fees.iloc[peak]),
                "baseline": float(baseline.iloc[peak]),
                "magnitude": float(fees.iloc[peak] / baseline.iloc[peak]) if baseline.iloc[peak] > 0 else np.nan,
                "cause": cause,
                "why": why,
            }
        )
    return pd.DataFrame(rows, columns=EPISODE_COLUMNS)


def _cause(
    start: pd.Timestamp, end: pd.Timestamp, peak: pd.Timestamp, co_moving: dict[str, pd.Series | None]
) -> tuple[str, str]:
    """The cause class of an episode and the evidence for it."""
    margin = pd.Timedelta(days=HALVING_DAYS)
    near = [h for h in HALVINGS if start - margin <= h <= end + margin]
    if near:
        return "halving", f"the halving of {near[0].date()} falls within {HALVING_DAYS} days"
    z = {name: float(s.get(peak, np.nan)) if s is not None else np.nan for name, s in co_moving.items()}
    if z["transactions"] >= CO_MOVING_Z:
        return "transaction demand", f"transactions {z['transactions']:+.1f} robust z on the peak day"
    for name in ("blocks", "hash rate"):
        if z[name] <= -CO_MOVING_Z:
            return "fewer blocks", f"{name} {z[name]:+.1f} robust z on the peak day"
    moved = z.items()
    evidence = ", ".join(f"{label} {value:+.1f} z" for label, value in moved if np.isfinite(value))
    return "fee bidding", f"higher fees at usual volume ({evidence or 'no co-moving series'})"
