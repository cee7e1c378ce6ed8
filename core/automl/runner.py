"""One experiment end to end: check the table, split it, search on the training part, score on the test part."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from core.automl.data import AutoMLInputError, Prepared, Task, prepare
from core.automl.metrics import all_metrics
from core.automl.search import Search, SearchResult, SearchSettings, TrialRecord
from core.tasks import CancelToken

if TYPE_CHECKING:
    from distributed import Client

MIN_TEST_ROWS = 5


@dataclass
class Experiment:
    """A finished experiment: the search, the held-out test metrics and the split it used."""

    prepared: Prepared
    result: SearchResult
    test_metrics: dict[str, float]
    test_rows: np.ndarray
    elapsed_s: float
    settings: SearchSettings
    test_size: float
    warnings: list[str] = field(default_factory=list)

    @property
    def metric(self) -> str:
        return self.result.metric

    @property
    def test_score(self) -> float:
        return self.test_metrics[self.metric]

    def summary(self) -> dict:
        """The CLI's JSON object."""
        return {
            "task": self.prepared.schema.task,
            "metric": self.metric,
            "test_score": _finite(self.test_score),
            "cv_score": _finite(self.result.model.cv_score),
            "best_model": self.result.model.description,
            "trials": len(self.result.trials),
            "elapsed_s": round(self.elapsed_s, 2),
        }


def _finite(score: float) -> float | None:
    """A score for JSON: rounded, or None where there is none (NaN is not JSON)."""
    return round(score, 6) if math.isfinite(score) else None


def split(prepared: Prepared, test_size: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Row positions of the training and test parts: stratified by class for classification, 75/25 by default."""
    if not 0.0 < test_size < 1.0:
        raise AutoMLInputError(f"The test share must lie between 0 and 1, not {test_size}.")
    rows = np.arange(len(prepared.target))
    stratify = None if prepared.schema.task == "regression" else prepared.target.to_numpy()
    try:
        train, test = train_test_split(rows, test_size=test_size, random_state=seed, stratify=stratify)
    except ValueError as exc:
        raise AutoMLInputError(f"The table cannot be split into training and test parts: {exc}") from exc
    if len(test) < MIN_TEST_ROWS:
        raise AutoMLInputError(f"The test part would hold {len(test)} rows; use a larger table or test share.")
    return train, test


def subset(prepared: Prepared, rows: np.ndarray) -> Prepared:
    """The same checked table restricted to some rows."""
    return Prepared(
        prepared.features.iloc[rows].reset_index(drop=True),
        prepared.target.iloc[rows].reset_index(drop=True),
        prepared.schema,
        prepared.warnings,
    )


def run_experiment(
    frame: pd.DataFrame,
    target: str,
    task: Task | Literal["auto"] = "auto",
    *,
    settings: SearchSettings | None = None,
    test_size: float = 0.25,
    exclude: tuple[str, ...] = (),
    on_trial: Callable[[TrialRecord, float], None] | None = None,
    stop: CancelToken | None = None,
    handle: Client | None = None,
) -> Experiment:
    """Check, split, search and score; the budget covers all of it. With a cluster `handle`, trials run on its
    workers (`core.automl.distributed`)."""
    began = time.monotonic()
    settings = settings or SearchSettings()
    prepared = prepare(frame, target, task, exclude)
    train, test = split(prepared, test_size, settings.seed)
    remaining = settings.budget_s - (time.monotonic() - began)
    inner = SearchSettings(
        max(remaining, 0.1), settings.seed, settings.families, settings.ensemble, settings.max_trials
    )
    if handle is None:
        result = Search(subset(prepared, train), inner, on_trial, stop).run()
    else:
        from core.automl.distributed import DistributedSearch  # noqa: PLC0415 - imports dask, only with a cluster

        result = DistributedSearch(subset(prepared, train), inner, on_trial, stop, handle=handle).run()
    held_out = subset(prepared, test)
    metrics = test_metrics(result, held_out)
    return Experiment(
        prepared,
        result,
        metrics,
        test,
        time.monotonic() - began,
        settings,
        test_size,
        list(prepared.warnings) + result.model.notes,
    )


def fit_table(
    frame: pd.DataFrame,
    target: str,
    task: Task | Literal["auto"] = "auto",
    *,
    settings: SearchSettings | None = None,
    stop: CancelToken | None = None,
) -> SearchResult:
    """Check and search on the whole table, for a caller that keeps its own test part (a temporal split, say)."""
    return Search(prepare(frame, target, task), settings or SearchSettings(), stop=stop).run()


def test_metrics(result: SearchResult, held_out: Prepared) -> dict[str, float]:
    """The model's metrics on rows it never saw."""
    model = result.model
    raw = model.raw_predictions(held_out.features)
    if model.task == "regression":
        return all_metrics("regression", held_out.target.to_numpy(dtype=float), raw)
    lookup = {label: code for code, label in enumerate(model.schema.classes)}
    truth = held_out.target.map(lookup).to_numpy(dtype=np.int64)
    return all_metrics(model.task, truth, raw, model.prior)
