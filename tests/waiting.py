"""Waiting on a condition, the one way tests wait for background work (never a fixed sleep)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

POLL_S = 0.05


def wait_until(condition: Callable[[], object], *, timeout: float, what: str, poll: float = POLL_S) -> None:
    """Return as soon as `condition()` is true (checked every `poll` s); fail the test, saying `what` did not
    happen, after `timeout` s."""
    pause = threading.Event()  # never set: waits `poll` between checks
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {timeout:g} s")
        pause.wait(poll)
