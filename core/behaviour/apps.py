"""App-usage profile: which application follows which (a Markov chain) and at which hours a user works.

A window's raw score is the mean log-probability of its focus events under the user's profile: the transition from
the previous app plus the hour of day, each smoothed (add-one) so an unseen app or hour is unlikely, not impossible.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core.behaviour.events import AppEvents
from core.behaviour.windows import DEFAULT_WINDOWS, WindowSpec, window_bounds

HOUR_US = 3_600_000_000
DAY_US = 24 * HOUR_US
MIN_WINDOW_FOCUS = 1


def hours(ts: np.ndarray) -> np.ndarray:
    """Hour of day (0–23, UTC) of µs time stamps."""
    return ((ts % DAY_US) // HOUR_US).astype(np.int64)


@dataclass
class AppProfile:
    """A user's app-transition and hour-of-day profile (add-one smoothing)."""

    apps_: tuple[str, ...] = field(default=(), init=False)
    log_transition_: np.ndarray = field(init=False, repr=False)
    log_hour_: np.ndarray = field(init=False, repr=False)

    def fit(self, events: AppEvents) -> AppProfile:
        names = [events.names[i] for i in events.app]
        self.apps_ = (*sorted(set(names)), "(other)")
        codes = self._codes(events)
        n = len(self.apps_)
        counts = np.ones((n, n))
        np.add.at(counts, (codes[:-1], codes[1:]), 1)
        self.log_transition_ = np.log(counts / counts.sum(axis=1, keepdims=True))
        hour_counts = np.bincount(hours(events.ts), minlength=24) + 1.0
        self.log_hour_ = np.log(hour_counts / hour_counts.sum())
        return self

    def _codes(self, events: AppEvents) -> np.ndarray:
        index = {name: i for i, name in enumerate(self.apps_)}
        other = len(self.apps_) - 1
        lookup = np.array([index.get(name, other) for name in events.names] or [other], np.int64)
        return lookup[events.app] if len(events.app) else np.empty(0, np.int64)

    def event_scores(self, events: AppEvents) -> np.ndarray:
        """Log-probability of each focus event: transition from the previous focus (none for the first) + hour."""
        codes = self._codes(events)
        scores = self.log_hour_[hours(events.ts)]
        if len(codes) > 1:
            scores[1:] += self.log_transition_[codes[:-1], codes[1:]]
        return scores

    def window_scores(
        self, events: AppEvents, spec: WindowSpec = DEFAULT_WINDOWS, **bounds: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Window end times and the mean event log-probability per window (NaN when a window has no focus event)."""
        ends, lo, hi = window_bounds(events.ts, spec, **bounds)
        per_event = np.r_[0.0, np.cumsum(self.event_scores(events))]
        count = hi - lo
        with np.errstate(invalid="ignore", divide="ignore"):
            return ends, np.where(count >= MIN_WINDOW_FOCUS, (per_event[hi] - per_event[lo]) / count, np.nan)
