"""The search on a Dask cluster: one trial per worker at a time, its folds fitted one after another on that worker.

Each worker gets its own copy of the search rows once; a trial is a task beside that copy that returns its fold
predictions and models and the worker that ran it. Proposals come from the same TPE sampler (with the constant-liar
rule, so trials in flight are not proposed twice); Hyperband pruning needs the folds' scores as they come and is left
to the serial search. The budget holds for the whole run: a trial checks before each fold that the fold fits in the
time left (a family's first trial has no estimate yet), and at the deadline the trials still running are given up;
their results are dropped, though a fold already running finishes on its worker. A trial whose worker dies is marked
failed and run once more on a live worker; a second loss leaves it failed. Without a cluster,
`core.automl.search.Search` runs as before.
"""

from __future__ import annotations

import itertools
import time
import uuid
import warnings
from collections import Counter
from concurrent.futures import CancelledError
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import optuna
from distributed import get_worker, wait
from distributed.scheduler import KilledWorker

from core.automl.search import (
    ESSENTIAL_DEFAULTS,
    MAX_BLOCKED,
    MAX_TRIAL_SHARE,
    SAFETY,
    FoldData,
    Search,
    SearchResult,
    TrialRecord,
    fit_fold,
)
from core.automl.zoo import BY_NAME, Family

if TYPE_CHECKING:
    from distributed import Client, Future

POLL_S = 0.1
MAX_ATTEMPTS = 2  # a trial whose worker died runs once more


@dataclass
class TrialOutcome:
    """What a worker sends back for one trial: each fold's test rows and prediction, the models, the times."""

    worker: str
    folds_done: int
    predictions: list[np.ndarray]
    pipelines: list[Any]
    fit_s: list[float]
    predict_s: list[float]
    out_of_time: bool


def run_trial(
    data: FoldData,
    *,
    folds: list[tuple[np.ndarray, np.ndarray]],
    family_name: str,
    params: dict,
    deadline: float,
    estimate: float | None,
) -> TrialOutcome:
    """Every fold of one configuration, in turn, on the worker running it; stops before a fold that would end past
    `deadline` (a `time.time()` instant: the worker may be another machine)."""
    family = BY_NAME[family_name]
    outcome = TrialOutcome(get_worker().address, 0, [], [], [], [], False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence and deprecation notices: the trial reports its result
        _fit_folds(
            data, folds=folds, family=family, params=params, deadline=deadline, estimate=estimate, outcome=outcome
        )
    return outcome


def _fit_folds(
    data: FoldData,
    *,
    folds: list[tuple[np.ndarray, np.ndarray]],
    family: Family,
    params: dict,
    deadline: float,
    estimate: float | None,
    outcome: TrialOutcome,
) -> None:
    for train, test in folds:
        if estimate is not None and time.time() + estimate * SAFETY > deadline:
            outcome.out_of_time = True
            break
        prediction, pipeline, fit_s, predict_s = fit_fold(data, family, params, train, test)
        outcome.predictions.append(prediction)
        outcome.pipelines.append(pipeline)
        outcome.fit_s.append(fit_s)
        outcome.predict_s.append(predict_s)
        outcome.folds_done += 1
        estimate = max(fit_s + predict_s, estimate or 0.0)


@dataclass
class _InFlight:
    record: TrialRecord
    trial: optuna.Trial | None
    attempt: int
    worker: str = ""  # the worker it was sent to


class DistributedSearch(Search):
    """`Search` with its trials spread over the workers of `handle`."""

    def __init__(self, *args: Any, handle: Client, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.handle = handle

    def run(self) -> SearchResult:
        """Keep every worker busy with a trial until the budget (less a small reserve) is spent; then ensemble."""
        self.started = started = time.monotonic()
        self.deadline = self._deadline()
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.defaults = self._defaults()
        self.study = optuna.create_study(
            direction="maximize",
            sampler=optuna.samplers.TPESampler(
                seed=self.settings.seed, multivariate=True, group=True, n_startup_trials=5, constant_liar=True
            ),
        )
        self.searched: list[str] = []
        self.numbers = itertools.count()
        self.run_id = uuid.uuid4().hex  # task keys unique to this run: a cancelled trial may still run on a worker
        self.blocked = 0
        slots = max(1, len(self.handle.scheduler_info(n_workers=-1)["workers"]))
        self.shared: dict[str, Future] = {}  # the search rows on each worker
        flying: dict[Future, _InFlight] = {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                while True:
                    while len(flying) < slots and not self._done() and self.blocked < MAX_BLOCKED:
                        proposal = self._propose()
                        if proposal is None and flying:
                            break  # too slow for the time left: propose again when a running trial is done
                        if proposal is not None:
                            flying[self._submit(proposal, flying)] = proposal
                    if not flying:
                        break
                    if self.stop.is_set() or time.monotonic() >= self.deadline:
                        self._give_up(flying)
                        break
                    for future in [f for f in flying if f.done()] or self._wait(flying):
                        self._settle(future, flying.pop(future), flying)
            finally:
                self._give_up(flying)
            model = self._final_model()
        return SearchResult(model, self.trials, self.metric, time.monotonic() - started, self.stop.is_set())

    def _propose(self) -> _InFlight | None:
        """The next configuration (defaults first, then TPE over the promising families), or None when it is too
        slow for the budget."""
        trial = self.study.ask()
        essential = len(self.trials) < ESSENTIAL_DEFAULTS and bool(self.defaults)
        if self.defaults:
            family, params = self.defaults.pop(0)
            trial.set_user_attr("family", family.name)
        else:
            self.searched = self.searched or self._promising_families()
            family = BY_NAME[trial.suggest_categorical("family", self.searched)]
            params = family.suggest(trial, self.task)
        estimate = self._estimate(family, params)
        too_slow = (
            not essential
            and estimate is not None
            and estimate * len(self.folds) > MAX_TRIAL_SHARE * (self.settings.budget_s)
        )
        past_budget = estimate is not None and time.monotonic() + estimate * SAFETY > self.deadline
        if too_slow or past_budget:
            self.study.tell(trial, state=optuna.trial.TrialState.PRUNED)
            self.blocked += past_budget
            return None
        self.blocked = 0
        record = TrialRecord(next(self.numbers), family.name, params, at_s=time.monotonic() - self.started)
        self.trials.append(record)
        return _InFlight(record, trial, 1)

    def _submit(self, flight: _InFlight, flying: dict[Future, _InFlight]) -> Future:
        """Send a trial to the worker running the fewest of this search's trials, beside that worker's own copy of
        the rows: a worker that dies takes only its own trials with it, never a trial running elsewhere."""
        record, attempt = flight.record, flight.attempt
        workers = list(self.handle.scheduler_info(n_workers=-1)["workers"])
        load = Counter(f.worker for f in flying.values())
        flight.worker = min(workers, key=lambda w: load[w]) if workers else ""
        family: Family = BY_NAME[record.family]
        remote_deadline = time.time() + (self.deadline - self._refit_reserve() - time.monotonic())
        rows = self.shared.get(flight.worker)
        if rows is None or rows.status != "finished":  # first trial there, or lost with a worker of that address
            rows = self.shared[flight.worker] = self.handle.scatter(
                self.data, workers=[flight.worker] if flight.worker else None, hash=False
            )
        return self.handle.submit(
            run_trial,
            rows,
            folds=self.folds,
            family_name=family.name,
            params=record.params,
            deadline=remote_deadline,
            estimate=self._estimate(family, record.params),
            key=f"ctas-trial-{record.number}-{attempt}-{self.run_id}",
            workers=[flight.worker] if flight.worker else None,
            pure=False,
        )

    def _wait(self, flying: dict[Future, _InFlight]) -> list[Future]:
        timeout = max(0.01, min(POLL_S, self.deadline - time.monotonic()))
        try:
            with self.handle.as_current():
                done, _ = wait(list(flying), timeout=timeout, return_when="FIRST_COMPLETED")
        except TimeoutError:
            return []
        except CancelledError:  # a task lost with its worker: `_settle` handles it as a lost worker
            return [f for f in flying if f.done()]
        return list(done)

    def _settle(self, future: Future, flight: _InFlight, flying: dict[Future, _InFlight]) -> None:
        """Record a finished task: a scored trial, a failure, or a lost worker (and its one retry)."""
        record = flight.record
        try:
            outcome: TrialOutcome = future.result()
        except (KilledWorker, CancelledError):
            record.worker = flight.worker  # killed there, or cancelled as its copy of the rows died there
            record.state = "failed"
            record.message = "its worker died mid-trial"
            if flight.attempt < MAX_ATTEMPTS:
                retry = TrialRecord(
                    next(self.numbers), record.family, record.params, at_s=time.monotonic() - self.started,
                    message=f"retry of trial {record.number}",
                )  # fmt: skip
                record.message += f"; retried as trial {retry.number}"
                self.trials.append(retry)
                again = _InFlight(retry, None, flight.attempt + 1)
                flying[self._submit(again, flying)] = again
            self._failed(flight)
            return
        except Exception as exc:  # the model's own error: the trial failed, the search goes on
            record.state, record.message = "failed", f"{type(exc).__name__}: {exc}"[:300]
            self._failed(flight)
            return
        record.worker = outcome.worker
        self._score(record, outcome)
        if flight.trial is not None:
            if record.state == "complete":
                self.study.tell(flight.trial, record.cv_score)
            else:
                self.study.tell(flight.trial, state=optuna.trial.TrialState.PRUNED)

    def _score(self, record: TrialRecord, outcome: TrialOutcome) -> None:
        oof = self._empty_oof()
        for (_, test), prediction, fit_s, predict_s in zip(
            self.folds, outcome.predictions, outcome.fit_s, outcome.predict_s, strict=False
        ):
            self._add_fold(record, oof, test, prediction, fit_s=fit_s, predict_s=predict_s)
        if outcome.folds_done == len(self.folds):
            self._complete(record, oof, list(outcome.pipelines))
        elif outcome.folds_done == 0 and not record.message:
            self.trials.remove(record)  # never started: not worth a row in the leaderboard
            self.blocked += 1
            return
        else:
            record.state = "out of time"
            stopped = f"stopped after {outcome.folds_done} of {len(self.folds)} folds at the budget"
            record.message = f"{record.message}; {stopped}" if record.message else stopped
        if self.on_trial is not None:
            self.on_trial(record, self.best_score)

    def _failed(self, flight: _InFlight) -> None:
        if flight.trial is not None:
            self.study.tell(flight.trial, state=optuna.trial.TrialState.FAIL)
        if self.on_trial is not None:
            self.on_trial(flight.record, self.best_score)

    def _give_up(self, flying: dict[Future, _InFlight]) -> None:
        """The trials still running at the deadline or on cancel: marked and released."""
        for future, flight in list(flying.items()):
            future.cancel()
            flight.record.state = "cancelled" if self.stop.is_set() else "out of time"
            flight.record.message = (
                "still running when the run was cancelled" if self.stop.is_set() else "still running at the budget"
            )
            if flight.trial is not None:
                self.study.tell(flight.trial, state=optuna.trial.TrialState.PRUNED)
        flying.clear()
