"""Input checks for a training table: task detection, column kinds, ID-like and leaking columns.

Everything an analyst can get wrong about a table is caught here, before any model is fitted: the error or warning
names the column and says what to do.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from core.errors import CtasError

Task = Literal["binary", "multiclass", "regression"]
TASKS: tuple[Task, ...] = ("binary", "multiclass", "regression")
MIN_ROWS = 20
MIN_ROWS_PER_CLASS = 2
MAX_CLASSES = 50
# An integer target with at most this many distinct values is read as classes, not as a quantity.
MAX_INTEGER_CLASSES = 10
# A text column with more distinct values than this is refused as a feature: it is free text or an identifier.
MAX_CATEGORIES = 1000
ID_UNIQUE_SHARE = 0.95
# Categories beyond this count are target-encoded for every model instead of one-hot or ordinal codes.
MAX_CODED = 255
DATE_PARTS = ("year", "month", "day", "day_of_week", "hour")


class AutoMLInputError(CtasError, ValueError):
    """The table cannot be used for training as it is; the message says why and what to change."""


@dataclass(frozen=True)
class Schema:
    """The feature columns a model expects, with their kinds, and the target's classes."""

    target: str
    task: Task
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    datetime: tuple[str, ...]
    classes: tuple[str, ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        return self.numeric + self.categorical + self.datetime


@dataclass
class Prepared:
    """A checked table: features, target, schema and the warnings an analyst should read."""

    features: pd.DataFrame
    target: pd.Series
    schema: Schema
    warnings: list[str] = field(default_factory=list)


def detect_task(target: pd.Series) -> Task:
    """Binary, multiclass or regression, from the target's type and number of distinct values."""
    values = target.dropna()
    distinct = values.nunique()
    if distinct <= 2:
        return "binary"
    if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
        return "multiclass"
    integral = bool(np.all(np.mod(values.to_numpy(dtype=float), 1.0) == 0.0))
    return "multiclass" if integral and distinct <= MAX_INTEGER_CLASSES else "regression"


def prepare(
    frame: pd.DataFrame,
    target: str,
    task: Task | Literal["auto"] = "auto",
    exclude: tuple[str, ...] = (),
) -> Prepared:
    """Check `frame` for training on `target`; raise AutoMLInputError with a clear message when it cannot be used."""
    if target not in frame.columns:
        raise AutoMLInputError(
            f"The target column {target!r} does not exist. Columns: {', '.join(map(str, frame.columns[:20]))}."
        )
    warnings: list[str] = []
    y = frame[target]
    labelled = y.notna()
    if not labelled.all():
        warnings.append(f"{int((~labelled).sum()):,} rows have no target value and are left out.")
    frame = frame.loc[labelled].reset_index(drop=True)
    y = frame[target]
    if len(frame) < MIN_ROWS:
        raise AutoMLInputError(f"Only {len(frame)} rows have a target value; training needs at least {MIN_ROWS}.")
    chosen: Task = detect_task(y) if task == "auto" else task
    if chosen not in TASKS:
        raise AutoMLInputError(f"Unknown task {chosen!r}: choose one of {', '.join(TASKS)} or auto.")
    y, classes = _check_target(y, target, chosen)
    features = frame.drop(columns=[target, *[c for c in exclude if c in frame.columns]])
    features, numeric, categorical, dates = _typed_features(features, warnings)
    warnings.extend(leakage_warnings(features, y, chosen))
    schema = Schema(target, chosen, numeric, categorical, dates, classes)
    return Prepared(features, y, schema, warnings)


def _check_target(y: pd.Series, name: str, task: Task) -> tuple[pd.Series, tuple[str, ...]]:
    if task == "regression":
        numbers = pd.to_numeric(y, errors="coerce")
        if numbers.isna().any():
            bad = y[numbers.isna()].iloc[0]
            raise AutoMLInputError(
                f"Regression needs a numeric target, but {name!r} holds {bad!r}. Choose a classification task."
            )
        if numbers.nunique() < 2:
            raise AutoMLInputError(f"The target {name!r} has a single value; there is nothing to predict.")
        return numbers.astype(float), ()
    labels = y.astype(str)
    counts = labels.value_counts()
    if len(counts) < 2:
        raise AutoMLInputError(
            f"The target {name!r} has one class only ({counts.index[0]!r}); a classifier needs at least two."
        )
    if task == "binary" and len(counts) > 2:
        raise AutoMLInputError(f"The target {name!r} has {len(counts)} classes; choose multiclass, not binary.")
    if len(counts) > MAX_CLASSES:
        raise AutoMLInputError(
            f"The target {name!r} has {len(counts)} classes (at most {MAX_CLASSES}); is it a quantity? "
            "Choose regression."
        )
    rare = counts[counts < MIN_ROWS_PER_CLASS]
    if len(rare):
        raise AutoMLInputError(
            f"Class {rare.index[0]!r} of {name!r} has {int(rare.iloc[0])} row; every class needs at least "
            f"{MIN_ROWS_PER_CLASS} rows to be split into training and test data."
        )
    return labels, tuple(sorted(counts.index))


def _typed_features(
    features: pd.DataFrame, warnings: list[str]
) -> tuple[pd.DataFrame, tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """Numeric, categorical and date columns; empty, constant and identifier columns are dropped with a warning."""
    kept: dict[str, pd.Series] = {}
    numeric, categorical, dates = [], [], []
    rows = len(features)
    for name in features.columns:
        column = features[name]
        if column.isna().all():
            warnings.append(f"Column {name!r} is empty in every row and is left out.")
            continue
        if column.nunique(dropna=True) == 1 and not column.isna().any():
            warnings.append(f"Column {name!r} has the same value in every row and is left out.")
            continue
        kind, converted = _column_kind(column)
        distinct = converted.nunique(dropna=True)
        if _identifier_like(converted, kind, rows):
            warnings.append(
                f"Column {name!r} looks like an identifier (a different value in almost every row) and is left out."
            )
            continue
        if kind == "categorical" and distinct > MAX_CATEGORIES:
            warnings.append(
                f"Column {name!r} is text with {distinct:,} distinct values (more than "
                f"{MAX_CATEGORIES:,}): free text, left out. Derive a coarser category from it."
            )
            continue
        if kind == "categorical" and distinct > MAX_CODED:
            warnings.append(
                f"Column {name!r} has {distinct:,} categories: encoded by target statistics "
                "(cross-fitted), not one column per category."
            )
        kept[str(name)] = converted
        {"numeric": numeric, "categorical": categorical, "datetime": dates}[kind].append(str(name))
    if not kept:
        raise AutoMLInputError(
            "No usable feature column is left once empty, constant and identifier columns are removed."
        )
    return pd.DataFrame(kept), tuple(numeric), tuple(categorical), tuple(dates)


def _column_kind(column: pd.Series) -> tuple[str, pd.Series]:
    if pd.api.types.is_bool_dtype(column):
        return "numeric", column.astype(float)
    if pd.api.types.is_numeric_dtype(column):
        return "numeric", column.astype(float)
    if pd.api.types.is_datetime64_any_dtype(column):
        return "datetime", pd.to_datetime(column, utc=True)
    text = column.astype("string")
    numbers = pd.to_numeric(text, errors="coerce")
    present = text.notna()
    if present.any() and numbers[present].notna().mean() == 1.0:
        return "numeric", numbers.astype(float)
    if present.any() and text[present].str.match(r"^\d{4}-\d{2}-\d{2}").mean() > 0.95:
        parsed = pd.to_datetime(text, errors="coerce", utc=True, format="mixed")
        if parsed[present].notna().mean() > 0.95:
            return "datetime", parsed
    return "categorical", text.astype(object).where(present, np.nan)


def _identifier_like(column: pd.Series, kind: str, rows: int) -> bool:
    distinct = column.nunique(dropna=True)
    if kind == "categorical":
        return rows >= MIN_ROWS and distinct >= ID_UNIQUE_SHARE * rows
    if kind == "numeric" and distinct == rows and rows >= MIN_ROWS:
        values = column.to_numpy()
        integral = bool(np.all(np.mod(values, 1.0) == 0.0))
        steps = np.diff(np.sort(values))
        return integral and bool(np.all(steps == 1.0))
    return False


def leakage_warnings(features: pd.DataFrame, target: pd.Series, task: Task) -> list[str]:
    """Columns that equal the target or are a deterministic function of it: a model would learn the answer key."""
    found = []
    for name in features.columns:
        column = features[name]
        present = column.notna()
        if present.sum() < MIN_ROWS or column[present].nunique() < 2:
            continue
        if task == "regression":
            if pd.api.types.is_numeric_dtype(column):
                rho = pd.Series(column[present].to_numpy()).corr(
                    pd.Series(target[present].to_numpy()), method="spearman"
                )
                if abs(rho) > 0.999:
                    found.append(
                        f"Column {name!r} rises or falls exactly with the target: a leak? "
                        "Exclude it if it is only known after the outcome."
                    )
            continue
        per_class = column[present].astype(str).groupby(target[present].to_numpy()).nunique()
        if bool((per_class == 1).all()):
            found.append(
                f"Column {name!r} takes one value per target class: it gives the answer away (a leak?). "
                "Exclude it if it is only known after the outcome."
            )
    return found


def date_parts(frame: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """The model's input table: date columns replaced by their parts (year, month, day, weekday, hour)."""
    missing = [c for c in schema.columns if c not in frame.columns]
    if missing:
        raise AutoMLInputError(f"Missing columns: {', '.join(missing)}.")
    out = frame.loc[:, list(schema.numeric + schema.categorical)].copy()
    for name in schema.datetime:
        stamps = pd.to_datetime(frame[name], errors="coerce", utc=True)
        for part in DATE_PARTS:
            out[f"{name}.{part}"] = getattr(stamps.dt, part).astype(float)
    return out


def read_csv_bytes(data: bytes, name: str, max_rows: int = 1_000_000) -> pd.DataFrame:
    """An uploaded CSV file as a table ("?" and empty fields are missing); a clear error if it cannot be read."""
    try:
        frame = pd.read_csv(
            io.BytesIO(data),
            na_values=["?"],
            skipinitialspace=True,
            nrows=max_rows + 1,
            encoding_errors="replace",
            sep=None,
            engine="python",
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, csv.Error) as exc:
        raise AutoMLInputError(f"{name} cannot be read as CSV: {exc}") from exc
    if len(frame) > max_rows:
        raise AutoMLInputError(f"{name} has more than {max_rows:,} rows; predict on smaller batches.")
    return frame
