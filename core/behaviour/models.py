"""Per-user verification models over feature rows, with scores calibrated to [0, 100] (100 = surely the user).

Three methods, as the biometrics literature compares them:
- `manhattan`: the scaled-Manhattan template (Killourhy & Maxion 2009): mean absolute deviation from the user's mean,
  each feature divided by its mean absolute deviation (floored, so a feature that never varied cannot dominate).
- `one_class`: an isolation forest on the user's rows alone (works with a single enrolled user).
- `two_class`: gradient-boosted trees (mouse) or extremely randomised trees (keystrokes) trained to tell the user's
  rows from every other enrolled user's rows.

Calibration: with other users' rows, a logistic map (Platt) from raw score to the chance the row is the user's,
fitted on cross-validated scores; with none, the user's own cross-validated score distribution (a raw score at the
user's 5th percentile maps to 35, the LOCKED threshold).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from sklearn.ensemble import ExtraTreesClassifier, HistGradientBoostingClassifier, IsolationForest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from threadpoolctl import threadpool_limits

from core.errors import CtasError

METHODS = ("manhattan", "one_class", "two_class")
MIN_ENROL_ROWS = 5
FLOOR_SHARE = 0.1
"""A feature's spread is floored at this share of its spread over all enrolment rows (scaled Manhattan)."""
CV_FOLDS = 3
LOW_PERCENTILE = 5.0


class EnrolmentError(CtasError, ValueError):
    """Enrolment cannot proceed (too few rows, an unknown method); the message says why."""


def clean_rows(rows: np.ndarray) -> np.ndarray:
    """Infinite values become NaN (missing), as every model treats them."""
    rows = np.asarray(rows, np.float64)
    return np.where(np.isfinite(rows), rows, np.nan)


@dataclass
class ScaledManhattan:
    """The scaled-Manhattan template; `score` is the negative mean scaled distance over the features present."""

    floor: np.ndarray | None = None
    mean_: np.ndarray = field(init=False, repr=False)
    spread_: np.ndarray = field(init=False, repr=False)

    def fit(self, rows: np.ndarray) -> ScaledManhattan:
        rows = clean_rows(rows)
        rare = np.isfinite(rows).sum(axis=0) < 2  # a feature seen less than twice has no spread: left out
        self.mean_ = np.where(rare, np.nan, _nan_to(np.nanmean(_quiet(rows), axis=0), 0.0))
        spread = _nan_to(np.nanmean(_quiet(np.abs(rows - self.mean_)), axis=0), 0.0)
        floor = self.floor if self.floor is not None else FLOOR_SHARE * _nan_to(np.nanstd(_quiet(rows), axis=0), 0.0)
        self.spread_ = np.maximum(spread, np.maximum(floor, np.maximum(0.01 * np.abs(self.mean_), 1e-6)))
        return self

    def score(self, rows: np.ndarray) -> np.ndarray:
        distance = np.abs(clean_rows(rows) - self.mean_) / self.spread_
        present = np.isfinite(distance).sum(axis=1)
        return -np.where(present > 0, np.nansum(distance, axis=1) / np.maximum(present, 1), np.inf)


def _quiet(rows: np.ndarray) -> np.ndarray:
    """All-NaN columns get one 0 so nan-statistics stay silent; callers map the result back with _nan_to."""
    if rows.size and np.isnan(rows).all(axis=0).any():
        rows = np.vstack([rows, np.where(np.isnan(rows).all(axis=0), 0.0, np.nan)])
    return rows


def _nan_to(values: np.ndarray, fill: float) -> np.ndarray:
    return np.where(np.isfinite(values), values, fill)


@dataclass
class _Imputed:
    """Median imputation learnt on the enrolment rows (the tree and forest models need complete rows)."""

    median_: np.ndarray = field(init=False, repr=False)

    def fit_medians(self, rows: np.ndarray) -> None:
        self.median_ = _nan_to(np.nanmedian(_quiet(rows), axis=0), 0.0)

    def fill(self, rows: np.ndarray) -> np.ndarray:
        rows = clean_rows(rows)
        return np.where(np.isnan(rows), self.median_, rows)


@dataclass
class OneClass(_Imputed):
    """An isolation forest on the user's rows; `score` is higher for rows that look like them."""

    random_state: int = 0
    forest_: IsolationForest = field(init=False, repr=False)

    def fit(self, rows: np.ndarray) -> OneClass:
        self.fit_medians(clean_rows(rows))
        self.forest_ = IsolationForest(n_estimators=200, random_state=self.random_state).fit(self.fill(rows))
        return self

    def score(self, rows: np.ndarray) -> np.ndarray:
        return self.forest_.score_samples(self.fill(rows))


@dataclass
class TwoClass(_Imputed):
    """Trees that tell the user's rows from other users' rows; `score` is the log-odds of being the user."""

    learner: str = "boosting"
    random_state: int = 0
    model_: HistGradientBoostingClassifier | ExtraTreesClassifier = field(init=False, repr=False)

    def fit(self, rows: np.ndarray, others: np.ndarray) -> TwoClass:
        rows, others = clean_rows(rows), clean_rows(others)
        both = np.vstack([rows, others])
        labels = np.r_[np.ones(len(rows)), np.zeros(len(others))]
        self.fit_medians(both)
        if self.learner == "boosting":
            # One OpenMP thread: two-core OpenMP barriers stall beside any other busy process.
            with threadpool_limits(1, user_api="openmp"):
                self.model_ = HistGradientBoostingClassifier(max_iter=200, random_state=self.random_state).fit(
                    both, labels
                )  # native missing values; no class weights (weighted binning is 50× slower), Platt rebalances
        else:
            self.model_ = ExtraTreesClassifier(
                n_estimators=300, class_weight="balanced", n_jobs=1, random_state=self.random_state
            ).fit(self.fill(both), labels)
        return self

    def probability(self, rows: np.ndarray) -> np.ndarray:
        rows = clean_rows(rows)
        data = rows if self.learner == "boosting" else self.fill(rows)
        with threadpool_limits(1, user_api="openmp"):
            return self.model_.predict_proba(data)[:, 1]

    def score(self, rows: np.ndarray) -> np.ndarray:
        p = np.clip(self.probability(rows), 1e-4, 1 - 1e-4)
        return np.log(p / (1 - p))


@dataclass
class Calibration:
    """Raw score → [0, 100]: Platt (slope, intercept) when impostor scores were seen, else a genuine-tail map."""

    slope: float
    intercept: float

    @classmethod
    def platt(cls, genuine: np.ndarray, impostor: np.ndarray) -> Calibration:
        raw = np.r_[genuine, impostor].reshape(-1, 1)
        raw = np.where(np.isfinite(raw), raw, np.nanmin(np.where(np.isfinite(raw), raw, np.nan)))
        labels = np.r_[np.ones(len(genuine)), np.zeros(len(impostor))]
        fit = LogisticRegression(class_weight="balanced").fit(raw, labels)
        return cls(float(fit.coef_[0, 0]), float(fit.intercept_[0]))

    @classmethod
    def genuine_tail(cls, genuine: np.ndarray) -> Calibration:
        """A logistic through (median → 90) and (5th percentile → 35) of the user's own scores (cross-validated for
        the verifiers, in-sample for the app profile)."""
        finite = genuine[np.isfinite(genuine)]
        low, mid = np.percentile(finite, [LOW_PERCENTILE, 50]) if len(finite) else (0.0, 1.0)
        logit = lambda p: np.log(p / (1 - p))  # noqa: E731
        slope = (logit(0.90) - logit(0.35)) / max(mid - low, 1e-9)
        return cls(float(slope), float(logit(0.35) - slope * low))

    def __call__(self, raw: np.ndarray) -> np.ndarray:
        z = np.clip(self.slope * np.asarray(raw, np.float64) + self.intercept, -50, 50)
        return np.where(np.isfinite(raw), 100 / (1 + np.exp(-z)), 0.0)


@dataclass
class Verifier:
    """One user's model for one modality: `fit` on their rows (and other users'), `score` rows in [0, 100]."""

    method: str = "two_class"
    learner: str = "boosting"
    random_state: int = 0
    model_: ScaledManhattan | OneClass | TwoClass = field(init=False, repr=False)
    calibration_: Calibration = field(init=False, repr=False)

    def fit(self, rows: np.ndarray, others: np.ndarray | None = None, floor: np.ndarray | None = None) -> Verifier:
        if self.method not in METHODS:
            raise EnrolmentError(f"unknown method {self.method!r}; choose one of {', '.join(METHODS)}")
        rows = clean_rows(rows)
        others = np.empty((0, rows.shape[1])) if others is None else clean_rows(others)
        if len(rows) < MIN_ENROL_ROWS:
            raise EnrolmentError(f"enrolment needs at least {MIN_ENROL_ROWS} windows of this user; got {len(rows)}")
        if len(others) < MIN_ENROL_ROWS:
            if self.method == "two_class":
                raise EnrolmentError("a two-class model needs other users' windows (5 or more); use one_class")
            others = others[:0]  # too few to calibrate against: the user's own scores calibrate
        genuine, impostor = self._cross_scores(rows, others, floor)
        self.model_ = self._fit_model(rows, others, floor)
        self.calibration_ = Calibration.platt(genuine, impostor) if len(impostor) else Calibration.genuine_tail(genuine)
        return self

    def _fit_model(self, rows, others, floor):
        if self.method == "manhattan":
            return ScaledManhattan(floor).fit(rows)
        if self.method == "one_class":
            return OneClass(self.random_state).fit(rows)
        return TwoClass(self.learner, self.random_state).fit(rows, others)

    def _cross_scores(self, rows, others, floor) -> tuple[np.ndarray, np.ndarray]:
        """Scores of every row from a model that did not see it (stratified folds over user and others)."""
        labels = np.r_[np.ones(len(rows)), np.zeros(len(others))]
        both = np.vstack([rows, others])
        scores = np.empty(len(both))
        folds = min(CV_FOLDS, len(rows), len(others)) if len(others) else min(CV_FOLDS, len(rows))
        if len(others):
            splits = StratifiedKFold(folds, shuffle=True, random_state=self.random_state).split(both, labels)
        else:
            tests = np.array_split(np.arange(len(rows)), folds)
            splits = ((np.setdiff1d(np.arange(len(rows)), test), test) for test in tests)
        for train, test in splits:
            train_rows = both[train][labels[train] == 1]
            model = self._fit_model(train_rows, both[train][labels[train] == 0], floor)
            scores[test] = model.score(both[test])
        return scores[: len(rows)], scores[len(rows) :]

    def raw(self, rows: np.ndarray) -> np.ndarray:
        """Uncalibrated scores (higher = more like the user)."""
        return self.model_.score(rows)

    def score(self, rows: np.ndarray) -> np.ndarray:
        """Calibrated scores in [0, 100]."""
        return self.calibration_(self.raw(rows))
