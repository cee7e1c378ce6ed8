"""The time-boxed search: default configurations first, then Optuna TPE across families, then an ensemble.

Every trial is scored by k-fold cross-validation on the training part only; Optuna's Hyperband pruner stops a
trial early when its first folds trail the others. Before each fold the run estimates how long the fold will take
from what the family has cost so far, and skips the fold rather than overrun the budget. The best trials are then
combined by greedy ensemble selection (Caruana et al. 2004) on their out-of-fold predictions.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import optuna
import pandas as pd
from sklearn.feature_selection import SelectPercentile, f_classif, f_regression
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.pipeline import Pipeline

from core.automl.data import Prepared, date_parts
from core.automl.metrics import baseline_score, primary_metric, score
from core.automl.model import Member, TrainedModel, predict_raw, single_threaded_native_code
from core.automl.preprocess import native_categories, preprocessor
from core.automl.zoo import BY_NAME, CORES, FAMILIES, FEATURE_PERCENT, HGB_STRONG, Family
from core.tasks import CancelToken

# Large training parts get fewer folds, so a 60 s budget still sees several families.
FOLDS_SMALL, FOLDS_LARGE, LARGE_ROWS = 5, 4, 10_000
# Folds fitted at once, one per core; native code inside each fit runs on one thread.
PARALLEL_FOLDS = CORES
KEEP_TRIALS = 12
ENSEMBLE_ROUNDS = 40
# Share of the budget kept for ensemble selection and the final checks.
RESERVE_SHARE, RESERVE_MIN_S = 0.04, 0.5
SAFETY = 1.25
# The refit check slice of a large table, and how much worse than the fold models a refit may score on it.
CHECK_SHARE, CHECK_MIN_ROWS, REFIT_TOLERANCE = 0.05, 500, 0.01
PROBE_ROWS = 200
# The search ends when this many proposals in a row cannot start a fold within the budget.
MAX_BLOCKED = 5
# No trial may take more than this share of the budget, except the first ESSENTIAL_DEFAULTS defaults.
MAX_TRIAL_SHARE, ESSENTIAL_DEFAULTS = 0.15, 3
# After the defaults, TPE tunes only the families whose default came this close to the best default's score.
FAMILY_MARGIN = 0.02


@dataclass(frozen=True)
class SearchSettings:
    """What a run may do: its time budget, seed, families and whether to ensemble."""

    budget_s: float = 60.0
    seed: int = 0
    families: tuple[str, ...] = tuple(f.name for f in FAMILIES)
    ensemble: bool = True
    max_trials: int | None = None
    refit: bool = True

    def __post_init__(self) -> None:
        if not self.budget_s > 0:
            raise ValueError("budget_s must be positive")
        unknown = [f for f in self.families if f not in BY_NAME]
        if unknown or not self.families:
            raise ValueError(f"unknown or no model families: {unknown}; choose from {sorted(BY_NAME)}")


@dataclass
class TrialRecord:
    """One configuration tried: its scores per fold and what it cost."""

    number: int
    family: str
    params: dict
    state: str = "running"
    cv_score: float = float("nan")
    fold_scores: list[float] = field(default_factory=list)
    fit_s: float = 0.0
    predict_s: float = 0.0
    at_s: float = 0.0
    message: str = ""
    worker: str = ""


@dataclass
class SearchResult:
    """A finished run: the model, every trial, the chosen metric and how long it took."""

    model: TrainedModel
    trials: list[TrialRecord]
    metric: str
    elapsed_s: float
    cancelled: bool = False


@dataclass(frozen=True)
class FoldData:
    """What fitting a fold needs, and nothing that cannot travel to another process: the search rows, their
    target codes, the categorical columns, the task, the number of classes and the seed."""

    table: pd.DataFrame
    y: np.ndarray
    categorical: tuple[str, ...]
    task: str
    classes: int
    seed: int


def build_pipeline(data: FoldData, family: Family, params: dict) -> Pipeline:
    """Preprocessing, the optional feature selection (`feature_percent`) and the model, unfitted."""
    cats = native_categories(data.table, data.categorical) if family.style == "native" else []
    steps: list[tuple[str, object]] = [("columns", preprocessor(data.table, data.categorical, family.style))]
    percent = params.get(FEATURE_PERCENT, 100)
    if percent < 100:
        test = f_regression if data.task == "regression" else f_classif
        steps.append(("select", SelectPercentile(test, percentile=percent)))
    model_params = {k: v for k, v in params.items() if k != FEATURE_PERCENT}
    steps.append(("model", family.build(model_params, data.task, data.seed, cats)))
    return Pipeline(steps)


def fit_fold(data: FoldData, family: Family, params: dict, train: np.ndarray, test: np.ndarray) -> tuple:
    """Fit on the `train` rows, predict the `test` rows: (prediction, pipeline, fit seconds, predict seconds)."""
    x_train = data.table.iloc[train]
    pipeline = build_pipeline(data, family, params)
    began = time.monotonic()
    with single_threaded_native_code():
        pipeline.fit(x_train, data.y[train])
    fitted_at = time.monotonic()
    x_test = data.table.iloc[test]
    with single_threaded_native_code():
        prediction = predict_raw(pipeline, x_test, data.task, data.classes)
    return prediction, pipeline, fitted_at - began, time.monotonic() - fitted_at


@dataclass
class _Kept:
    record: TrialRecord
    oof: np.ndarray
    folds: list[Pipeline]


class Search:
    """Runs one time-boxed search over `prepared` (its training part) and returns a SearchResult."""

    def __init__(
        self,
        prepared: Prepared,
        settings: SearchSettings,
        on_trial: Callable[[TrialRecord, float], None] | None = None,
        stop: CancelToken | None = None,
    ) -> None:
        self.prepared = prepared
        self.settings = settings
        self.on_trial = on_trial
        self.stop = stop or CancelToken()
        schema = prepared.schema
        self.task = schema.task
        self.metric = primary_metric(self.task)
        table = date_parts(prepared.features, schema).reset_index(drop=True)
        if self.task == "regression":
            y = prepared.target.to_numpy(dtype=float)
            self.prior = np.ones(1)
        else:
            lookup = {label: code for code, label in enumerate(schema.classes)}
            y = prepared.target.map(lookup).to_numpy(dtype=np.int64)
            self.prior = np.bincount(y, minlength=len(schema.classes)) / len(y)
        rows = len(table)
        self.large = rows > LARGE_ROWS
        # Large tables: 4 folds, then the ensemble is refitted on every search row, and the refit is accepted only
        # if it scores as well as the fold models on a slice neither saw.
        check = np.zeros(rows, dtype=bool)
        if self.large and settings.refit:
            picked = np.random.default_rng(settings.seed).choice(
                rows, max(CHECK_MIN_ROWS, int(CHECK_SHARE * rows)), replace=False
            )
            check[picked] = True
        self.check_table, self.check_y = table[check].reset_index(drop=True), y[check]
        self.table, self.y = table[~check].reset_index(drop=True), y[~check]
        self.categorical = tuple(c for c in schema.categorical if c in self.table.columns)
        self.data = FoldData(self.table, self.y, self.categorical, self.task, len(self.prior), settings.seed)
        n_folds = FOLDS_LARGE if self.large else FOLDS_SMALL
        splitter = (KFold if self.task == "regression" else StratifiedKFold)(
            n_folds, shuffle=True, random_state=settings.seed
        )
        self.folds = list(splitter.split(self.table, self.y))
        self.families = [BY_NAME[n] for n in settings.families if BY_NAME[n].fits(rows)] or [BY_NAME["linear"]]
        self.cost_per_unit: dict[str, list[float]] = {}
        self.trials: list[TrialRecord] = []
        self.kept: list[_Kept] = []

    def run(self) -> SearchResult:
        """Search until the budget (less a small reserve) is spent, then build the ensemble."""
        self.started = started = time.monotonic()
        self.deadline = self._deadline()
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        defaults = self._defaults()
        with warnings.catch_warnings(), ThreadPoolExecutor(PARALLEL_FOLDS, thread_name_prefix="ctas-fold") as pool:
            warnings.simplefilter("ignore")  # convergence and experimental-feature notices: trials report results
            study = optuna.create_study(
                direction="maximize",
                sampler=optuna.samplers.TPESampler(
                    seed=self.settings.seed, multivariate=True, group=True, n_startup_trials=5
                ),
                pruner=optuna.pruners.HyperbandPruner(min_resource=1, max_resource=len(self.folds), reduction_factor=3),
            )
            self.pool = pool
            blocked = 0
            searched: list[str] = []
            while not self._done():
                trial = study.ask()
                essential = len(self.trials) < ESSENTIAL_DEFAULTS and bool(defaults)
                if defaults:
                    family, params = defaults.pop(0)
                    trial.set_user_attr("family", family.name)
                    prune = False
                else:
                    searched = searched or self._promising_families()
                    name = trial.suggest_categorical("family", searched)
                    family = BY_NAME[name]
                    params = family.suggest(trial, self.task)
                    prune = True
                record = self._evaluate(trial, family, params, prune, essential)
                if record.state == "out of time" and not record.fold_scores:
                    self.trials.remove(record)  # never started: not worth a row in the leaderboard
                    blocked += 1
                    if blocked >= MAX_BLOCKED:
                        break
                elif record.state == "too slow" and prune:
                    self.trials.remove(record)  # a proposal, not a default: the leaderboard lists what ran
                else:
                    blocked = 0
                if record.state == "complete":
                    study.tell(trial, record.cv_score)
                elif record.state == "failed":
                    study.tell(trial, state=optuna.trial.TrialState.FAIL)
                else:
                    study.tell(trial, state=optuna.trial.TrialState.PRUNED)
            model = self._final_model()
        return SearchResult(model, self.trials, self.metric, time.monotonic() - started, self.stop.is_set())

    def _defaults(self) -> list[tuple[Family, dict]]:
        """Each family's default configuration, the deeper boosting right after the default (it pays on large
        tables): what every run tries first."""
        defaults = [(f, f.default(self.task)) for f in self.families]
        if BY_NAME["hgb"] in self.families:
            defaults.insert(self.families.index(BY_NAME["hgb"]) + 1, (BY_NAME["hgb"], dict(HGB_STRONG)))
        return defaults

    def _deadline(self) -> float:
        """When the search stops proposing: the budget less a reserve for the ensemble and the final checks."""
        budget = self.settings.budget_s
        return self.started + budget - max(RESERVE_MIN_S, RESERVE_SHARE * budget)

    def _done(self) -> bool:
        if self.stop.is_set() or time.monotonic() >= self.deadline:
            return True
        if len(self.cost_per_unit) == len(self.families):
            cheapest = min(self._estimate(f, f.default(self.task)) or 0.0 for f in self.families)
            if time.monotonic() + cheapest * SAFETY > self.deadline - self._refit_reserve():
                return True
        limit = self.settings.max_trials
        return limit is not None and len(self.trials) >= limit

    def _evaluate(
        self, trial: optuna.Trial, family: Family, params: dict, prune: bool, essential: bool = False
    ) -> TrialRecord:
        """Cross-validate one configuration, two folds at a time (one per core), checking time and pruning.

        A trial estimated to take more than MAX_TRIAL_SHARE of the budget is skipped, unless it is one of the
        essential defaults (linear and the two boosting settings), which every run tries.
        """
        record = TrialRecord(len(self.trials), family.name, params, at_s=time.monotonic() - self.started)
        self.trials.append(record)
        oof = self._empty_oof()
        fitted: list[Pipeline] = []
        estimate = self._estimate(family, params)
        if estimate is None and not self.stop.is_set():
            estimate = self._probe(family, params, record)
        batches = -(-len(self.folds) // PARALLEL_FOLDS)
        if not essential and estimate is not None and estimate * batches > MAX_TRIAL_SHARE * self.settings.budget_s:
            record.state = "too slow"
            record.message = (
                f"would take about {estimate * batches:.0f} s, more than {MAX_TRIAL_SHARE:.0%} of the budget"
            )
            if self.on_trial is not None and not prune:
                self.on_trial(record, self.best_score)
            return record
        for first in range(0, len(self.folds), PARALLEL_FOLDS):
            batch = self.folds[first : first + PARALLEL_FOLDS]
            if self.stop.is_set():
                record.state, record.message = "cancelled", "the run was cancelled"
                break
            if estimate is not None and time.monotonic() + estimate * SAFETY > self.deadline - self._refit_reserve():
                record.state = "out of time"
                record.message = f"fold {first + 1} would take about {estimate:.1f} s, past the budget"
                break
            futures = [self.pool.submit(self._fit_fold, family, params, train, test) for train, test in batch]
            try:
                results = [f.result() for f in futures]
            except Exception as exc:
                record.state, record.message = "failed", f"{type(exc).__name__}: {exc}"[:300]
                break
            for (_, test), (fold_oof, pipeline, fit_s, predict_s) in zip(batch, results, strict=True):
                self._add_fold(record, oof, test, fold_oof, fit_s=fit_s, predict_s=predict_s)
                fitted.append(pipeline)
                estimate = max(fit_s + predict_s, estimate or 0.0)
            step = len(record.fold_scores) - 1
            trial.report(float(np.mean(record.fold_scores)), step)
            if prune and step < len(self.folds) - 1 and trial.should_prune():
                record.state, record.message = "pruned", f"trailing the other trials after {step + 1} folds"
                break
        if record.state == "running":
            self._complete(record, oof, fitted)
        if self.on_trial is not None and (record.fold_scores or record.state != "out of time"):
            self.on_trial(record, self.best_score)
        return record

    def _empty_oof(self) -> np.ndarray:
        """Out-of-fold predictions to fill: one value per row (regression) or one per class."""
        width = len(self.prior) if self.task != "regression" else 0
        return np.zeros((len(self.y), width)) if width else np.zeros(len(self.y))

    def _add_fold(
        self, record: TrialRecord, oof: np.ndarray, test: np.ndarray, prediction: np.ndarray, *, fit_s: float,
        predict_s: float,
    ) -> None:  # fmt: skip
        """A fitted fold: its predictions into `oof`, its score and times into the record, its cost per unit into
        the family's estimate."""
        family = BY_NAME[record.family]
        oof[test] = prediction
        record.fit_s += fit_s
        record.predict_s += predict_s
        record.fold_scores.append(score(self.task, self.y[test], prediction, self.prior))
        self.cost_per_unit.setdefault(family.name, []).append((fit_s + predict_s) / family.units(record.params))

    def _complete(self, record: TrialRecord, oof: np.ndarray, fitted: list[Pipeline]) -> None:
        """Every fold done: the trial's cross-validated score, and the trial kept for the ensemble."""
        record.state = "complete"
        record.cv_score = score(self.task, self.y, oof, self.prior)
        self._keep(_Kept(record, oof, fitted))

    def _refit_reserve(self) -> float:
        """Time kept for refitting the likely core of the ensemble (the best two trials) on every search row."""
        if not (self.large and self.settings.refit and self.kept):
            return 0.0
        return sum(self._refit_cost(k) for k in self.kept[:2]) * SAFETY

    def _refit_cost(self, kept: _Kept) -> float:
        """A refit's time: one fold's, scaled to the rows of all folds."""
        per_fold = (kept.record.fit_s + kept.record.predict_s) / max(len(kept.folds), 1)
        growth = BY_NAME[kept.record.family].growth
        return per_fold * (len(self.folds) / (len(self.folds) - 1)) ** growth

    def _estimate(self, family: Family, params: dict) -> float | None:
        costs = self.cost_per_unit.get(family.name)
        return None if not costs else float(np.median(costs)) * family.units(params)

    def _probe(self, family: Family, params: dict, record: TrialRecord) -> float | None:
        """A family's first fold cost, from fits on an eighth and a quarter of the fold (at least PROBE_ROWS each).

        The two times give a fixed cost and a cost per row (time ~ a + b * rows ** growth); the estimate for the
        whole fold lies between the larger probe's time and four times it. Without it, the first fit of an
        expensive family on a large table could overrun the budget unseen.
        """
        train, test = self.folds[0]
        small, large = (min(len(train), max(PROBE_ROWS, len(train) // d)) for d in (8, 4))
        if large == len(train) or small == large:
            return None
        rng = np.random.default_rng(self.settings.seed)
        times = []
        for rows in (small, large):
            if time.monotonic() >= self.deadline:
                return float("inf")
            sample = rng.choice(train, rows, replace=False)
            try:
                _, _, fit_s, predict_s = self._fit_fold(
                    family, params, sample, test[: max(1, len(test) * rows // len(train))]
                )
            except Exception:
                return None
            record.fit_s += fit_s
            times.append(fit_s + predict_s)
        g = family.growth
        slope = max(times[1] - times[0], 0.0) / (large**g - small**g)
        fixed = max(times[0] - slope * small**g, 0.0)
        return float(np.clip(fixed + slope * len(train) ** g, times[1], 4.0 * times[1]))

    def _fit_fold(self, family: Family, params: dict, train: np.ndarray, test: np.ndarray) -> tuple:
        return fit_fold(self.data, family, params, train, test)

    def _pipeline(self, family: Family, params: dict) -> Pipeline:
        return build_pipeline(self.data, family, params)

    def _promising_families(self) -> list[str]:
        """Families worth tuning: those whose default came within FAMILY_MARGIN of the best default's score."""
        scores: dict[str, float] = {}
        for t in self.trials:
            if t.state == "complete":
                scores[t.family] = max(scores.get(t.family, float("-inf")), t.cv_score)
        if not scores:
            return [f.name for f in self.families]
        best = max(scores.values())
        return [f.name for f in self.families if scores.get(f.name, float("-inf")) >= best - FAMILY_MARGIN]

    def _keep(self, kept: _Kept) -> None:
        self.kept.append(kept)
        self.kept.sort(key=lambda k: -k.record.cv_score)
        del self.kept[KEEP_TRIALS:]

    @property
    def best_score(self) -> float:
        return self.kept[0].record.cv_score if self.kept else float("nan")

    def _final_model(self) -> TrainedModel:
        schema = self.prepared.schema
        if not self.kept:
            return self._fallback_model()
        weights = self._ensemble_weights() if self.settings.ensemble else {0: 1.0}
        members = [
            Member(
                self.kept[i].record.number,
                self.kept[i].record.family,
                self.kept[i].record.params,
                w,
                self.kept[i].folds,
            )
            for i, w in weights.items()
        ]
        oof = sum(w * self.kept[i].oof for i, w in weights.items())
        cv = score(self.task, self.y, oof, self.prior)
        model = TrainedModel(schema, members, self.prior, cv)
        if len(self.check_y):
            model = self._refit(model)
        baseline = baseline_score(self.task, len(self.prior))
        if not cv > baseline + 0.01:
            model.notes.append(
                f"No model did clearly better than guessing: cross-validated {self.metric} {cv:.3f} against "
                f"{baseline:.3f} for the baseline. Check the target and the features before using it."
            )
        return model

    def _refit(self, bagged: TrainedModel) -> TrainedModel:
        """Refit the members on every search row while time allows; keep the refit only if the check slice agrees."""
        hard_stop = self.started + self.settings.budget_s - RESERVE_MIN_S / 2
        by_trial = {k.record.number: k for k in self.kept}
        members = []
        for member in sorted(bagged.members, key=lambda m: -m.weight):
            cost = self._refit_cost(by_trial[member.trial]) * SAFETY
            if self.stop.is_set() or time.monotonic() + cost > hard_stop:
                members.append(member)
                continue
            pipeline = self._pipeline(BY_NAME[member.family], member.params)
            try:
                with single_threaded_native_code():
                    pipeline.fit(self.table, self.y)
            except Exception:
                members.append(member)
                continue
            members.append(Member(member.trial, member.family, member.params, member.weight, [pipeline]))
        refitted = sum(len(m.folds) == 1 for m in members)
        if not refitted:
            bagged.check = "Kept the cross-validation fold models: no time was left to refit them."
            return bagged
        candidate = TrainedModel(bagged.schema, members, self.prior, bagged.cv_score)
        rows = len(self.check_y)
        before = score(self.task, self.check_y, bagged.raw_predictions_table(self.check_table), self.prior)
        after = score(self.task, self.check_y, candidate.raw_predictions_table(self.check_table), self.prior)
        if after >= before - REFIT_TOLERANCE:
            candidate.check = (
                f"Refitted {refitted} of {len(members)} members on every search row; on {rows:,} "
                f"held-out check rows it scores {after:.4f} against {before:.4f} for the fold models."
            )
            return candidate
        bagged.check = (
            f"The refit scored {after:.4f} on {rows:,} held-out check rows against {before:.4f} for the "
            "fold models, so the fold models were kept."
        )
        return bagged

    def _ensemble_weights(self) -> dict[int, float]:
        """Greedy ensemble selection with replacement; the best-scoring prefix of the greedy path wins."""
        counts = np.zeros(len(self.kept), dtype=int)
        counts[0] = 1
        total = self.kept[0].oof.copy()
        best, best_counts = self.kept[0].record.cv_score, counts.copy()
        hard_stop = self.started + self.settings.budget_s - RESERVE_MIN_S / 2
        for _ in range(ENSEMBLE_ROUNDS):
            if time.monotonic() > hard_stop:
                break
            size = counts.sum() + 1
            scores = [score(self.task, self.y, (total + k.oof) / size, self.prior) for k in self.kept]
            pick = int(np.argmax(scores))
            counts[pick] += 1
            total += self.kept[pick].oof
            if scores[pick] > best + 1e-12:
                best, best_counts = scores[pick], counts.copy()
        return {i: c / best_counts.sum() for i, c in enumerate(best_counts) if c}

    def _fallback_model(self) -> TrainedModel:
        """No trial finished in time: the default linear model, fitted on every search row, with a note."""
        family = BY_NAME["linear"]
        pipeline = self._pipeline(family, family.default(self.task))
        pipeline.fit(self.table, self.y)
        member = Member(-1, "linear", family.default(self.task), 1.0, [pipeline])
        model = TrainedModel(self.prepared.schema, [member], self.prior, float("nan"))
        model.notes.append(
            "No trial finished within the budget: this is the default linear model, unscored. Give the run more time."
        )
        return model


def trials_frame(trials: list[TrialRecord]) -> pd.DataFrame:
    """The trials as a table, one row per configuration; on a cluster, with the worker that ran each."""
    frame = pd.DataFrame(
        {
            "trial": [t.number for t in trials],
            "model": [t.family for t in trials],
            "state": [t.state for t in trials],
            "cv score": [t.cv_score for t in trials],
            "folds": [len(t.fold_scores) for t in trials],
            "fit s": [round(t.fit_s, 2) for t in trials],
            "predict s": [round(t.predict_s, 3) for t in trials],
            "at s": [round(t.at_s, 1) for t in trials],
            "params": [", ".join(f"{k}={_short(v)}" for k, v in t.params.items()) for t in trials],
            "note": [t.message for t in trials],
        }
    )
    if any(t.worker for t in trials):
        frame["worker"] = [t.worker for t in trials]
    return frame


def _short(value: object) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)
