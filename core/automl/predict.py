"""Batch prediction on a new table, with a schema check against what the model was trained on."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.automl.data import AutoMLInputError
from core.automl.model import TrainedModel


@dataclass
class Predictions:
    """The input rows with the model's predictions appended, and what the schema check found."""

    table: pd.DataFrame
    warnings: list[str] = field(default_factory=list)


def conform(frame: pd.DataFrame, model: TrainedModel) -> tuple[pd.DataFrame, list[str]]:
    """The model's feature columns from `frame`, coerced to their trained types; missing columns are an error."""
    schema = model.schema
    missing = [c for c in schema.columns if c not in frame.columns]
    if missing:
        raise AutoMLInputError(
            f"The table lacks {len(missing)} column(s) the model was trained on: {', '.join(missing[:10])}."
        )
    warnings = []
    extra = [c for c in frame.columns if c not in schema.columns and c != schema.target]
    if extra:
        warnings.append(
            f"{len(extra)} column(s) the model does not use are ignored: {', '.join(map(repr, extra[:10]))}."
        )
    out = pd.DataFrame(index=frame.index)
    for name in schema.numeric:
        values = pd.to_numeric(frame[name], errors="coerce").astype(float)
        infinite = np.isinf(values.to_numpy())
        values[infinite] = np.nan  # inf, Infinity and 1e309 hold no measurement; no model takes them
        bad = int((values.isna() & frame[name].notna()).sum())
        if bad:
            warnings.append(f"{bad:,} value(s) in {name!r} are not finite numbers and are treated as missing.")
        out[name] = values
    for name in schema.categorical:
        column = frame[name]
        out[name] = column.astype("string").astype(object).where(column.notna(), None)
    for name in schema.datetime:
        stamps = pd.to_datetime(frame[name], errors="coerce", utc=True, format="mixed")
        bad = int((stamps.isna() & frame[name].notna()).sum())
        if bad:
            warnings.append(f"{bad:,} value(s) in {name!r} are not dates and are treated as missing.")
        out[name] = stamps
    return out, warnings


def predict_table(frame: pd.DataFrame, model: TrainedModel) -> Predictions:
    """Predictions for every row of `frame`: the label or value, and class probabilities for classifiers."""
    if frame.empty:
        raise AutoMLInputError("The table has no rows to predict.")
    features, warnings = conform(frame, model)
    target = model.schema.target
    out = frame.copy()
    out[f"predicted {target}"] = model.predict(features)
    if model.task != "regression":
        proba = model.predict_proba(features)
        for label in proba.columns:
            out[f"P({target}={label})"] = proba[label].to_numpy().round(6)
    return Predictions(out, warnings)
