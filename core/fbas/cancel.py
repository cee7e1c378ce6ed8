"""Cooperative cancellation of FBAS analyses running on another thread.

Run an analysis inside `cancellable(token)`; `token.cancel()` from any thread makes it raise `AnalysisCancelledError`
within milliseconds: the enumeration kernels poll the token's flag (they release the GIL, so the caller's thread
keeps running), and the Python-level loops call `check()`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import numpy as np


class AnalysisCancelledError(RuntimeError):
    """The analysis was cancelled before it finished."""


class CancelToken:
    """A flag another thread can raise; `flag` is what the kernels read."""

    def __init__(self) -> None:
        self.flag = np.zeros(1, np.uint8)

    def cancel(self) -> None:
        """Ask the analysis to stop."""
        self.flag[0] = 1

    @property
    def cancelled(self) -> bool:
        return bool(self.flag[0])


_NEVER = np.zeros(1, np.uint8)
_current: ContextVar[CancelToken | None] = ContextVar("fbas_cancel_token", default=None)


@contextmanager
def cancellable(token: CancelToken) -> Iterator[CancelToken]:
    """Make `token` the one the analyses in this block (and this thread) obey."""
    reset = _current.set(token)
    try:
        yield token
    finally:
        _current.reset(reset)


def stop_flag() -> np.ndarray:
    """The flag array kernels poll: the current token's, or one that is never raised."""
    token = _current.get()
    return token.flag if token is not None else _NEVER


def check() -> None:
    """Raise AnalysisCancelledError if the current token was cancelled."""
    token = _current.get()
    if token is not None and token.cancelled:
        raise AnalysisCancelledError("The analysis was cancelled.")
