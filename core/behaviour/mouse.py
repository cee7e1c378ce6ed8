"""Mouse dynamics: window features (SecLyzer's 38 families) and action-level features.

Window features describe all pointer movement in a window; action features follow the mouse-dynamics literature
(Ahmed & Traoré 2007; Antal & Egyed-Zsigmond 2019): the stream is cut into mouse-move, point-click and
drag-and-drop actions, and each action gets its own row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.behaviour import _kernels
from core.behaviour.events import LEFT, MOVE, PRESS, RELEASE, RIGHT, SCROLL, MouseEvents
from core.behaviour.windows import DEFAULT_WINDOWS, WindowSpec, window_bounds

_DIRECTIONS = tuple(f"direction_{d}" for d in ("e", "ne", "n", "nw", "w", "sw", "s", "se"))
MOUSE_FEATURES = (
    "speed_mean", "speed_std", "speed_max", "speed_median", "vx_abs_mean", "vy_abs_mean", "acc_mean", "acc_std",
    "acc_abs_max", "jerk_abs_mean", "jerk_std", "jerk_abs_max", "curvature_abs_mean", "curvature_std",
    "angular_speed_abs_mean", "angular_speed_std", *_DIRECTIONS, "distance", "segment_mean", "straightness",
    "idle_share", "idle_gaps", "clicks", "right_click_share", "hold_mean_ms", "hold_std_ms", "double_clicks",
    "scrolls", "scroll_delta_mean", "scroll_up_share", "moves_per_s",
)  # fmt: skip
assert len(MOUSE_FEATURES) == _kernels.N_MOUSE
assert (_kernels.MOVE, _kernels.PRESS, _kernels.RELEASE, _kernels.SCROLL) == (MOVE, PRESS, RELEASE, SCROLL)
assert (_kernels.LEFT_BUTTON, _kernels.RIGHT_BUTTON) == (LEFT, RIGHT)
_STATS = ("mean", "std", "min", "max")
ACTION_FEATURES = (
    "is_move", "is_point_click", "is_drag_drop", "duration_s", "length", "end_to_end", "direction", "straightness",
    "points", "turn_total", "largest_deviation", "critical_points",
    *(f"{q}_{s}" for q in ("vx", "vy", "speed", "acc", "jerk", "angular_speed", "curvature") for s in _STATS),
    "time_to_peak_speed",
)  # fmt: skip
assert len(ACTION_FEATURES) == _kernels.N_ACTION
MIN_WINDOW_MOVES = 20
"""A window with fewer pointer samples than this carries too little movement to score."""


def window_features(
    events: MouseEvents, spec: WindowSpec = DEFAULT_WINDOWS, **bounds: int
) -> tuple[np.ndarray, np.ndarray]:
    """Window end times (µs) and one row of MOUSE_FEATURES per sliding window."""
    ends, lo, hi = window_bounds(events.ts, spec, **bounds)
    return ends, features(events, lo, hi, spec.length_s)


def features(events: MouseEvents, lo: np.ndarray, hi: np.ndarray, span_s: float) -> np.ndarray:
    """One row of MOUSE_FEATURES per index range [lo, hi) of `events`, rates per `span_s` seconds."""
    e = events
    return _kernels.mouse_window_features(
        e.ts, e.x, e.y, e.kind, e.button, e.scroll, np.asarray(lo, np.int64), np.asarray(hi, np.int64), float(span_s)
    )


@dataclass(frozen=True)
class Actions:
    """Mouse actions: first and last event index, type (0 move, 1 point-click, 2 drag-drop), end time, features."""

    first: np.ndarray
    last: np.ndarray
    kind: np.ndarray
    end_ts: np.ndarray
    features: np.ndarray

    def __len__(self) -> int:
        return len(self.first)


def actions(events: MouseEvents) -> Actions:
    """Segment the stream into actions and compute ACTION_FEATURES for each."""
    e = events
    first, last, kind = _kernels.segment_actions(e.ts, e.x, e.y, e.kind, e.button)
    rows = _kernels.action_features(e.ts, e.x, e.y, e.kind, first, last, kind)
    return Actions(first, last, kind, e.ts[last] if len(last) else np.empty(0, np.int64), rows)


VERIFY_FEATURES = (*MOUSE_FEATURES, *(f"action_{name}" for name in ACTION_FEATURES), "actions")
"""What the mouse verifier sees per window: the window features, the mean features of the actions that ended in the
window, and their count. Measured on Balabit's dev sessions, the action summary lifts AUC (see bench/behaviour.py)."""


def verify_rows(
    events: MouseEvents, spec: WindowSpec = DEFAULT_WINDOWS, **bounds: int
) -> tuple[np.ndarray, np.ndarray]:
    """Window end times (µs) and one row of VERIFY_FEATURES per sliding window."""
    ends, rows = window_features(events, spec, **bounds)
    found = actions(events)
    action_rows = np.nan_to_num(found.features, nan=0.0, posinf=0.0, neginf=0.0)
    running = np.vstack([np.zeros((1, len(ACTION_FEATURES))), np.cumsum(action_rows, axis=0)])
    lo = np.searchsorted(found.end_ts, ends - round(spec.length_s * 1e6), side="right")
    hi = np.searchsorted(found.end_ts, ends, side="right")
    count = (hi - lo)[:, None].astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(count > 0, (running[hi] - running[lo]) / count, np.nan)
    return ends, np.hstack([rows, means, count])


def enough_movement(rows: np.ndarray, spec: WindowSpec = DEFAULT_WINDOWS) -> np.ndarray:
    """Which rows (window or verify rows) hold at least MIN_WINDOW_MOVES pointer samples."""
    return rows[:, MOUSE_FEATURES.index("moves_per_s")] * spec.length_s >= MIN_WINDOW_MOVES
