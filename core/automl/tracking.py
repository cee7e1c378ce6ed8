"""Experiments and their trials as warehouse rows."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta

import pandas as pd

from core.automl.runner import Experiment
from core.automl.search import TrialRecord
from core.automl.store import AutomlStore
from core.warehouse import Warehouse


def trial_rows(trials: list[TrialRecord]) -> pd.DataFrame:
    """Trials in the warehouse's columns."""
    return pd.DataFrame(
        {
            "number": [t.number for t in trials],
            "model": [t.family for t in trials],
            "params": [json.dumps(t.params, default=str) for t in trials],
            "state": [t.state for t in trials],
            "cv_score": [_finite(t.cv_score) for t in trials],
            "fold_scores": [list(map(float, t.fold_scores)) for t in trials],
            "fit_s": [t.fit_s for t in trials],
            "predict_s": [t.predict_s for t in trials],
            "at_s": [t.at_s for t in trials],
            "message": [t.message for t in trials],
            "worker": [t.worker for t in trials],
        }
    )


def record(warehouse: Warehouse, experiment: Experiment, name: str, dataset: str) -> int:
    """Store a finished (or cancelled) experiment with every trial; returns its id."""
    model = experiment.result.model
    ended = datetime.now(UTC).replace(tzinfo=None)
    row = {
        "name": name,
        "dataset": dataset,
        "target": model.schema.target,
        "task": model.task,
        "metric": experiment.metric,
        "status": "cancelled" if experiment.result.cancelled else "finished",
        "rows": len(experiment.prepared.target),
        "budget_s": experiment.settings.budget_s,
        "seed": experiment.settings.seed,
        "test_size": experiment.test_size,
        "started_at": ended - timedelta(seconds=experiment.elapsed_s),
        "elapsed_s": experiment.elapsed_s,
        "cv_score": _finite(model.cv_score),
        "test_score": _finite(experiment.test_score),
        "best_model": model.description,
        "test_metrics": json.dumps(experiment.test_metrics),
        "warnings": json.dumps(experiment.warnings),
    }
    return AutomlStore(warehouse).record_experiment(row, trial_rows(experiment.result.trials))


def _finite(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)
