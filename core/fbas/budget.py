"""Time budgets for a scan: each analysis gets a share of the time the caller gave, and stops at its own deadline.

A `Budget` holds the scan's deadline (and, for reproducible tests, an optional cap on search steps). Each
enumeration first gets a short try (`probe()`: PROBE of the time), so that what is quick is answered at once and one
that explodes does not hold up the others; those that did not finish then share the time left (`share(k)`: an equal
part when k still wait, keeping `RESERVE` of the whole for the fallbacks that answer when an enumeration stops), and
whatever one leaves unused goes to the next ones. A
`Limit` is what one analysis obeys: a deadline, a step cap and a cap on the sets it may hold. Kernels see the
deadline as a flag (`Limit.flag()`), raised by a timer at the deadline or by the task's cancellation.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from core.tasks import current_token

RESERVE = 0.15  # of the scan's time, kept for the fallbacks (smallest sets, history-critical set)
PROBE = 0.05  # of the scan's time: each enumeration's first try
NO_STEP_CAP = 2**62
MAX_LISTED = 1_000_000  # sets one enumeration may hold (each costs about a kilobyte as Python sets of names)


@dataclass(frozen=True)
class Limit:
    """What one analysis may spend: until `deadline` (time.monotonic(); None: no deadline) and `steps` search steps,
    holding at most `max_listed` sets."""

    deadline: float | None = None
    steps: int = NO_STEP_CAP
    max_listed: int = MAX_LISTED

    def remaining(self) -> float | None:
        """Seconds left before the deadline (never negative), or None without one."""
        return None if self.deadline is None else max(0.0, self.deadline - time.monotonic())

    def expired(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline

    @contextmanager
    def flag(self) -> Iterator[np.ndarray]:
        """A kernel stop flag raised at the deadline, or when the current task is cancelled."""
        flag = np.zeros(1, np.uint8)
        token = current_token()
        timer = None
        if self.deadline is not None:
            timer = threading.Timer(self.remaining() or 0.0, flag.fill, (1,))
            timer.daemon = True
            timer.start()
        if token is not None:
            token.link(flag)
        try:
            yield flag
        finally:
            if timer is not None:
                timer.cancel()
            if token is not None:
                token.unlink(flag)

    def why_stopped(self, what: str) -> str:
        """The analyst's sentence for an enumeration of `what` that stopped before the end."""
        if self.expired():
            return f"Stopped at the time limit with {what} found."
        return f"Stopped after {self.steps:,} search steps with {what} found."


UNLIMITED = Limit()


class Budget:
    """A scan's time: `seconds` from now (None: unlimited), and an optional cap on each enumeration's steps."""

    def __init__(self, seconds: float | None = None, max_steps: int | None = None) -> None:
        if seconds is not None and not seconds > 0:
            raise ValueError("The time budget must be a positive number of seconds.")
        if max_steps is not None and max_steps < 1:
            raise ValueError("The step budget must be a positive number of steps.")
        self.seconds = seconds
        self.steps = NO_STEP_CAP if max_steps is None else max_steps
        self.deadline = None if seconds is None else time.monotonic() + seconds

    def share(self, waiting: int) -> Limit:
        """The next analysis's limit when `waiting` analyses (it included) still need the time before the reserve."""
        if self.deadline is None:
            return Limit(steps=self.steps)
        now = time.monotonic()
        usable = max(0.0, self.deadline - RESERVE * self.seconds - now)
        return Limit(deadline=now + usable / max(1, waiting), steps=self.steps)

    def probe(self) -> Limit:
        """A first, short try: PROBE of the scan's time (never past the part before the reserve)."""
        if self.deadline is None or self.seconds is None:
            return Limit(steps=self.steps)
        now = time.monotonic()
        return Limit(deadline=min(now + PROBE * self.seconds, self.deadline - RESERVE * self.seconds), steps=self.steps)

    def rest(self, waiting: int = 1) -> Limit:
        """For the fallbacks: an equal part of the time up to the scan's deadline when `waiting` (it included) still
        need it; the last one waiting gets all that is left."""
        if self.deadline is None:
            return Limit(steps=self.steps)
        now = time.monotonic()
        return Limit(deadline=now + max(0.0, self.deadline - now) / max(1, waiting), steps=self.steps)
