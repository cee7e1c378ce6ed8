"""The trained model a run delivers: a weighted ensemble of cross-validation fold models, with its schema."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from core.automl.data import Schema, date_parts
from core.automl.metrics import decide


@dataclass
class Member:
    """One trial's fold models (each fitted without one fold) and its weight in the ensemble."""

    trial: int
    family: str
    params: dict
    weight: float
    folds: list[Pipeline]


@dataclass
class TrainedModel:
    """Predicts from a raw feature table: date parts, then the weighted mean of every member's fold models.

    Each member is either its cross-validation fold models (each checked on the fold it did not see) or, on large
    tables, one refit on every search row, accepted only after scoring on a held-out check slice (`check`).
    Classes are predicted with the balanced-accuracy decision for multiclass tasks and at probability 0.5 for
    binary ones.
    """

    schema: Schema
    members: list[Member]
    prior: np.ndarray
    cv_score: float
    notes: list[str] = field(default_factory=list)
    check: str = ""

    @property
    def task(self) -> str:
        return self.schema.task

    @property
    def description(self) -> str:
        parts = [f"{m.family} × {m.weight:.2f}" for m in sorted(self.members, key=lambda m: -m.weight)]
        return parts[0].split(" × ")[0] if len(parts) == 1 else "ensemble: " + ", ".join(parts)

    def raw_predictions(self, features: pd.DataFrame) -> np.ndarray:
        """Class probabilities (rows × classes) or values (rows) for a table of the schema's columns."""
        return self.raw_predictions_table(date_parts(features, self.schema))

    def raw_predictions_table(self, table: pd.DataFrame) -> np.ndarray:
        """The same for a table whose dates are already split into parts."""
        total = None
        with single_threaded_native_code():
            for member in self.members:
                for pipeline in member.folds:
                    part = member.weight / len(member.folds) * predict_raw(pipeline, table, self.task, len(self.prior))
                    total = part if total is None else total + part
        return total

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        """Predicted labels (classification) or values (regression)."""
        raw = self.raw_predictions(features)
        if self.task == "regression":
            return raw
        codes = decide(raw, self.prior) if self.task == "multiclass" else (raw[:, 1] >= 0.5).astype(int)
        return np.asarray(self.schema.classes, dtype=object)[codes]

    def predict_proba(self, features: pd.DataFrame) -> pd.DataFrame:
        """Class probabilities, one column per class."""
        if self.task == "regression":
            raise ValueError("A regression model has no class probabilities.")
        return pd.DataFrame(self.raw_predictions(features), columns=list(self.schema.classes))


def predict_raw(pipeline: Pipeline, table: pd.DataFrame, task: str, classes: int) -> np.ndarray:
    """One fitted pipeline's values, or its probabilities with a column for every class (unseen ones at 0)."""
    if task == "regression":
        return np.asarray(pipeline.predict(table), dtype=float)
    proba = pipeline.predict_proba(table)
    seen = pipeline.classes_
    if len(seen) == classes:
        return proba
    full = np.zeros((len(table), classes))
    full[:, seen] = proba
    return full


def single_threaded_native_code() -> threadpool_limits:
    """OpenMP on one thread for parallel regions this thread starts (an OpenMP setting is per thread).

    The search fits one fold per core instead. On two cores shared with any other busy process, OpenMP's barriers
    stall: one gradient-boosting fit on car took 391 s with two OpenMP threads beside another process, 0.8 s with one.
    """
    return threadpool_limits(1, user_api="openmp")
