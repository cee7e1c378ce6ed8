"""AutoML runs in the background: experiments from any browser session wait in one `core.tasks.JobQueue` and run
one at a time.

Two cores cannot run two searches at once without both losing half their budget, so runs wait their turn; the
budget of a run starts when it starts. Each job's progress (trials, best-so-far) is a `SearchProgress` the page
reads while the search fills it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from core.automl.search import TrialRecord
from core.tasks import JobQueue

MAX_WAITING = 20


@dataclass
class SearchProgress:
    """What a running search has done so far: its trials and the best score after each."""

    budget_s: float
    trials: list[TrialRecord] = field(default_factory=list)
    best: list[tuple[float, float]] = field(default_factory=list)

    def on_trial(self, record: TrialRecord, best: float) -> None:
        """Progress callback for the search: keeps the trial and the best score so far."""
        self.trials.append(record)
        if not math.isnan(best):
            self.best.append((record.at_s, best))


def training_queue() -> JobQueue:
    """A queue for AutoML runs (the app keeps one per server)."""
    return JobQueue("ctas-automl-queue", max_waiting=MAX_WAITING)
