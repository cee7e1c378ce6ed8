"""The one way CTAS runs cancellable background work: a cancel token, a job and a bounded queue.

A `Job` runs `work(job)` on a thread of its own or in a `JobQueue`, under its `CancelToken`. `token.cancel()` from
any thread stops it cooperatively: Python loops call `check()` or `token.is_set()` / `token.wait()`, numba kernels
poll `stop_flag()` (they release the GIL, so the caller's thread keeps running). A job has a state, progress that
its work reports, a result or an error, and its elapsed time; a time limit cancels it from a watchdog thread.
"""

from __future__ import annotations

import itertools
import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

import numpy as np

from core.errors import CtasError

T = TypeVar("T")
JobState = Literal["queued", "running", "finished", "cancelled", "failed"]
DONE_STATES = frozenset({"finished", "cancelled", "failed"})


class TaskCancelledError(CtasError):
    """The work was cancelled before it finished."""


class QueueFullError(CtasError):
    """The queue holds as many waiting jobs as it may."""


class CancelToken:
    """A flag another thread raises. `is_set()` and `wait()` serve Python loops, `flag` the numba kernels."""

    def __init__(self) -> None:
        self.flag = np.zeros(1, np.uint8)
        self._event = threading.Event()
        self._linked: list[np.ndarray] = []
        self._lock = threading.Lock()

    def cancel(self) -> None:
        """Ask the work to stop."""
        with self._lock:
            self.flag[0] = 1
            for flag in self._linked:
                flag[0] = 1
            self._event.set()

    def link(self, flag: np.ndarray) -> None:
        """Raise `flag` too on cancellation (at once if already cancelled): for a kernel flag that something else,
        such as a deadline, may also raise."""
        with self._lock:
            self._linked.append(flag)
            if self._event.is_set():
                flag[0] = 1

    def unlink(self, flag: np.ndarray) -> None:
        with self._lock:
            self._linked = [f for f in self._linked if f is not flag]

    def is_set(self) -> bool:
        """Whether cancellation was asked for."""
        return self._event.is_set()

    cancelled = property(is_set)

    def wait(self, timeout: float | None = None) -> bool:
        """Sleep up to `timeout` seconds, waking at once on cancellation; returns whether it was cancelled."""
        return self._event.wait(timeout)


_NEVER = np.zeros(1, np.uint8)
_current: ContextVar[CancelToken | None] = ContextVar("ctas_cancel_token", default=None)


@contextmanager
def cancellable(token: CancelToken) -> Iterator[CancelToken]:
    """Make `token` the one that `check()` and `stop_flag()` obey in this block (and this thread)."""
    reset = _current.set(token)
    try:
        yield token
    finally:
        _current.reset(reset)


def current_token() -> CancelToken | None:
    """The token `check()` obeys here, if any."""
    return _current.get()


def stop_flag() -> np.ndarray:
    """The flag array kernels poll: the current token's, or one that is never raised."""
    token = _current.get()
    return token.flag if token is not None else _NEVER


def check() -> None:
    """Raise TaskCancelledError if the current token was cancelled."""
    token = _current.get()
    if token is not None and token.cancelled:
        raise TaskCancelledError("The work was cancelled.")


@dataclass(eq=False)
class Job(Generic[T]):
    """One piece of background work: `work(job)` returns the result; `job.progress` is what it reports meanwhile."""

    work: Callable[[Job[T]], T]
    label: str = ""
    limit_s: float | None = None
    id: int = 0
    progress: Any = None
    token: CancelToken = field(default_factory=CancelToken)
    state: JobState = "queued"
    result: T | None = None
    error: BaseException | None = None
    timed_out: bool = False
    started: float | None = None
    ended: float | None = None
    _thread: threading.Thread | None = field(default=None, repr=False)

    def run(self) -> None:
        """Run the work in this thread (once; a job cancelled while queued does not run)."""
        if self.state != "queued":
            return
        self.state, self.started = "running", time.monotonic()
        watchdog = None
        if self.limit_s is not None:
            watchdog = threading.Timer(self.limit_s, self._time_out)
            watchdog.daemon = True
            watchdog.start()
        try:
            with cancellable(self.token):
                self.result = self.work(self)
            self.state = "cancelled" if self.token.cancelled else "finished"
        except TaskCancelledError:
            self.state = "cancelled"
        except Exception as exc:  # kept for whoever watches the job
            self.error, self.state = exc, "failed"
        finally:
            self.ended = time.monotonic()
            if watchdog is not None:
                watchdog.cancel()

    def start(self, name: str = "ctas-job") -> Job[T]:
        """Run the work on a daemon thread of its own."""
        self._thread = threading.Thread(target=self.run, name=name, daemon=True)
        self._thread.start()
        return self

    def cancel(self) -> None:
        """Stop the work at its next check; a queued job is dropped."""
        self.token.cancel()
        if self.state == "queued":
            self.state, self.ended = "cancelled", time.monotonic()

    def join(self, timeout: float | None = None) -> bool:
        """Wait up to `timeout` seconds for a started job; returns whether it is done."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self.done

    def _time_out(self) -> None:
        self.timed_out = True
        self.token.cancel()

    @property
    def done(self) -> bool:
        return self.state in DONE_STATES

    @property
    def elapsed_s(self) -> float:
        """Seconds it has run (0 while queued)."""
        if self.started is None:
            return 0.0
        return (self.ended or time.monotonic()) - self.started

    @property
    def error_message(self) -> str:
        """The error in one line, for the page ('' when there is none)."""
        if self.error is None:
            return ""
        return str(self.error) or type(self.error).__name__


class JobQueue:
    """First come, first served on one worker thread, at most `max_waiting` jobs waiting; cancel works on queued and
    running jobs alike. The last `keep_finished` finished jobs stay available to `get`."""

    def __init__(self, name: str = "ctas-queue", *, max_waiting: int = 20, keep_finished: int = 50) -> None:
        if max_waiting < 1 or keep_finished < 0:
            raise ValueError("max_waiting must be at least 1 and keep_finished at least 0")
        self.max_waiting = max_waiting
        self.keep_finished = keep_finished
        self._queue: queue.Queue[Job] = queue.Queue()
        self._jobs: dict[int, Job] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._worker = threading.Thread(target=self._serve, name=name, daemon=True)
        self._worker.start()

    def submit(self, work: Callable[[Job[T]], T], *, label: str = "", progress: Any = None) -> Job[T]:
        """Queue `work(job)`; its return value becomes `job.result`, an exception `job.error`."""
        with self._lock:
            waiting = sum(j.state == "queued" for j in self._jobs.values())
            if waiting >= self.max_waiting:
                raise QueueFullError(f"{waiting} runs are waiting already; try again when one has finished.")
            job = Job(work, label=label, id=next(self._ids), progress=progress)
            self._jobs[job.id] = job
            finished = [j for j in self._jobs.values() if j.done]
            for old in finished[: max(0, len(finished) - self.keep_finished)]:
                del self._jobs[old.id]
        self._queue.put(job)
        return job

    def get(self, job_id: int) -> Job | None:
        """A job still known to the queue, by id."""
        return self._jobs.get(job_id)

    def position(self, job: Job) -> int:
        """0 unless queued; otherwise how many jobs run or wait before it."""
        if job.state != "queued":
            return 0
        with self._lock:
            return sum(j.id < job.id and j.state in ("queued", "running") for j in self._jobs.values())

    def _serve(self) -> None:
        while True:
            self._queue.get().run()
