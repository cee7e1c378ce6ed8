"""Threat score per cell, 0-100, from volume, severity, recency and distinct sources.

    score = 100 * (0.40 * volume + 0.25 * severity + 0.20 * recency + 0.15 * sources)

- volume = log(1 + events) / log(1 + the most events in any cell)          (log: one scanner should not dominate)
- severity = mean severity of the cell's events that have one / 5          (the 1-5 scale of core.geo.events; a
  mapped column on another scale is divided by its largest cell mean instead, negative values count 0)
- recency = 0.5 ** (age of the cell's last event / half_life)              (age measured from the newest event)
- sources = log(1 + distinct sources) / log(1 + the most sources in any cell)
A part whose input is missing (no time, severity or source column, or no value in a cell) counts 0; the weights are
not renormalised, so scores stay comparable across data sets with the same columns.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

DEFAULT_HALF_LIFE = pd.Timedelta(days=7)
WEIGHTS = {"volume": 0.40, "severity": 0.25, "recency": 0.20, "sources": 0.15}
MAX_SEVERITY = 5.0


def _log_share(values: pd.Series) -> np.ndarray:
    top = float(values.max()) if len(values) else 0.0
    return np.log1p(values.to_numpy(np.float64)) / np.log1p(top) if top > 0 else np.zeros(len(values))


def threat_scores(cells: pd.DataFrame, *, half_life: pd.Timedelta = DEFAULT_HALF_LIFE) -> pd.Series:
    """Score of each row of a cell summary (columns events, mean_severity, sources, and last_seen when known)."""
    if half_life <= pd.Timedelta(0):
        raise ValueError("the recency half-life must be positive")
    volume = _log_share(cells["events"])
    severity = np.nan_to_num(cells["mean_severity"].to_numpy(np.float64), nan=0.0).clip(min=0.0)
    scale = max(MAX_SEVERITY, float(severity.max())) if len(severity) else MAX_SEVERITY
    sources = _log_share(cells["sources"])
    if "last_seen" in cells and cells["last_seen"].notna().any():
        age = (cells["last_seen"].max() - cells["last_seen"]) / half_life
        recency = np.nan_to_num(np.power(0.5, age.to_numpy(np.float64)), nan=0.0)
    else:
        recency = np.zeros(len(cells))
    score = 100 * (
        WEIGHTS["volume"] * volume
        + WEIGHTS["severity"] * severity / scale
        + WEIGHTS["recency"] * recency
        + WEIGHTS["sources"] * sources
    )
    return pd.Series(np.round(score, 1), index=cells.index, name="threat_score")
