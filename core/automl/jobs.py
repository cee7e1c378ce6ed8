"""A small training queue: experiments from any browser session run one at a time on one worker thread.

Two cores cannot run two searches at once without both losing half their budget, so runs wait their turn; the
budget of a run starts when it starts. Each job carries its live progress (trials, best-so-far) for the page.
"""

from __future__ import annotations

import itertools
import math
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from core.automl.search import TrialRecord

KEEP_FINISHED = 50


@dataclass
class Job:
    """One queued or running experiment and what it has done so far."""

    id: int
    label: str
    budget_s: float
    work: Callable[[Job], object]
    state: str = "queued"
    stop: threading.Event = field(default_factory=threading.Event)
    trials: list[TrialRecord] = field(default_factory=list)
    best: list[tuple[float, float]] = field(default_factory=list)
    started: float | None = None
    ended: float | None = None
    result: object = None
    error: str = ""

    def on_trial(self, record: TrialRecord, best: float) -> None:
        """Progress callback for the search: keeps the trial and the best score so far."""
        self.trials.append(record)
        if not math.isnan(best):
            self.best.append((record.at_s, best))

    @property
    def elapsed_s(self) -> float:
        if self.started is None:
            return 0.0
        return (self.ended or time.monotonic()) - self.started

    @property
    def done(self) -> bool:
        return self.state in {"finished", "cancelled", "failed"}


class TrainingQueue:
    """First come, first served, one job at a time; cancel works on queued and running jobs alike."""

    def __init__(self) -> None:
        self._queue: queue.Queue[Job] = queue.Queue()
        self._jobs: dict[int, Job] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._worker = threading.Thread(target=self._serve, name="ctas-automl-queue", daemon=True)
        self._worker.start()

    def submit(self, label: str, budget_s: float, work: Callable[[Job], object]) -> Job:
        """Queue `work(job)`; its return value becomes `job.result`, an exception `job.error`."""
        with self._lock:
            job = Job(next(self._ids), label, budget_s, work)
            self._jobs[job.id] = job
            finished = [j for j in self._jobs.values() if j.done]
            for old in finished[:-KEEP_FINISHED]:
                del self._jobs[old.id]
        self._queue.put(job)
        return job

    def get(self, job_id: int) -> Job | None:
        return self._jobs.get(job_id)

    def position(self, job: Job) -> int:
        """0 while running; otherwise how many jobs run or wait before it."""
        if job.state != "queued":
            return 0
        with self._lock:
            ahead = [j for j in self._jobs.values() if j.id < job.id and j.state in {"queued", "running"}]
        return len(ahead)

    def cancel(self, job: Job) -> None:
        """Stop a running job at its next fold (it keeps its best model) or drop a queued one."""
        job.stop.set()
        with self._lock:
            if job.state == "queued":
                job.state = "cancelled"

    def _serve(self) -> None:
        while True:
            job = self._queue.get()
            with self._lock:
                if job.state != "queued":
                    continue
                job.state = "running"
            job.started = time.monotonic()
            try:
                job.result = job.work(job)
                job.state = "cancelled" if job.stop.is_set() else "finished"
            except Exception as exc:
                job.error = str(exc) or type(exc).__name__
                job.state = "failed"
            finally:
                job.ended = time.monotonic()
