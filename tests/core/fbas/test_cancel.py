"""Cancelling a long FBAS analysis from another thread stops it at once, and leaves other analyses alone."""

from __future__ import annotations

import json
import threading

from core.fbas.model import loads
from core.fbas.scan import scan
from core.fbas.synthetic import almost_symmetric
from core.tasks import CancelToken, TaskCancelledError, cancellable


def test_a_long_scan_stops_soon_after_cancel() -> None:
    fbas = loads(json.dumps(almost_symmetric(12, deletions=3, seed=12)))  # ~20 s of enumeration uncancelled
    token = CancelToken()
    outcome: list[BaseException | dict] = []

    def work() -> None:
        with cancellable(token):
            try:
                outcome.append(scan(fbas))  # no time limit
            except BaseException as error:  # recorded for the assertion below
                outcome.append(error)

    worker = threading.Thread(target=work)
    worker.start()
    worker.join(timeout=0.5)
    assert worker.is_alive()  # still enumerating, and this thread was free to run meanwhile
    token.cancel()
    worker.join(timeout=10)
    assert not worker.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], TaskCancelledError)
