"""Sliding windows over time-ordered events (SecLyzer's defaults: 30 s windows every 5 s)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SECOND_US = 1_000_000


@dataclass(frozen=True)
class WindowSpec:
    """Window length and step in seconds."""

    length_s: float = 30.0
    step_s: float = 5.0

    def __post_init__(self) -> None:
        if not (0 < self.step_s <= self.length_s <= 3600):
            raise ValueError("windows need 0 < step ≤ length ≤ 3600 seconds")


DEFAULT_WINDOWS = WindowSpec()


def window_bounds(ts: np.ndarray, spec: WindowSpec, start_us: int | None = None, end_us: int | None = None):
    """Window end times and the index range [lo, hi) of `ts` (sorted, µs) inside each window (end − length, end].

    Windows end at start + length, start + length + step, … up to `end_us` (default: the last event). Empty windows
    are kept: callers decide how many events a window needs.
    """
    if len(ts) == 0 and (start_us is None or end_us is None):
        empty = np.empty(0, np.int64)
        return empty, empty, empty
    start = int(ts[0]) - 1 if start_us is None else int(start_us)  # windows are (end − length, end]: keep ts[0]
    end = int(ts[-1]) if end_us is None else int(end_us)
    length, step = round(spec.length_s * SECOND_US), round(spec.step_s * SECOND_US)
    first_end = start + length
    count = max(0, (end - first_end) // step + 1) if end >= first_end else (1 if end > start else 0)
    ends = first_end + step * np.arange(count, dtype=np.int64)
    lo = np.searchsorted(ts, ends - length, side="right")
    hi = np.searchsorted(ts, ends, side="right")
    return ends, lo.astype(np.int64), hi.astype(np.int64)
