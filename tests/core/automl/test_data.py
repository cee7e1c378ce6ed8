"""Task detection and the input checks, on real tables and on tables made bad on purpose."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.pandas import column, data_frames

from core.automl.data import AutoMLInputError, date_parts, detect_task, prepare
from tests.core.automl.conftest import read


@pytest.mark.parametrize(
    ("name", "target", "task"),
    [
        ("breast_cancer", "target", "binary"),
        ("adult", "income", "binary"),
        ("vehicle", "class", "multiclass"),  # classes coded 0-3
        ("car", "class", "multiclass"),
        ("diabetes_reg", "target", "regression"),  # integers, but 214 distinct values
        ("california_housing", "median_house_value", "regression"),
    ],
)
def test_detects_the_task_of_every_shared_data_set(shared_data: Path, name: str, target: str, task: str) -> None:
    frame = read(shared_data, name)
    assert detect_task(frame[target]) == task
    prepared = prepare(frame, target)
    assert prepared.schema.task == task
    assert prepared.warnings == []  # none of the anchors' sets has a leak, an identifier or an empty column


def test_adult_column_kinds(shared_data: Path) -> None:
    prepared = prepare(read(shared_data, "adult"), "income")
    assert set(prepared.schema.categorical) == {
        "workclass",
        "education",
        "marital_status",
        "occupation",
        "relationship",
        "race",
        "sex",
        "native-country",
    }
    assert len(prepared.schema.numeric) == 6
    assert prepared.schema.classes == ("<=50K", ">50K")


def test_missing_target_column_names_the_columns(car: pd.DataFrame) -> None:
    with pytest.raises(AutoMLInputError, match=r"'klass' does not exist.*buying"):
        prepare(car, "klass")


def test_one_class_target_is_refused(car: pd.DataFrame) -> None:
    with pytest.raises(AutoMLInputError, match="one class only"):
        prepare(car[car["class"] == "unacceptable"], "class")


def test_fewer_than_20_rows_is_refused(car: pd.DataFrame) -> None:
    with pytest.raises(AutoMLInputError, match="Only 19 rows"):
        prepare(car.sample(19, random_state=0), "class")


def test_rows_without_target_are_left_out_with_a_warning(car: pd.DataFrame) -> None:
    frame = car.copy()
    frame.loc[:9, "class"] = None
    prepared = prepare(frame, "class")
    assert len(prepared.target) == len(car) - 10
    assert any("10 rows have no target" in w for w in prepared.warnings)


def test_all_empty_column_is_left_out_with_a_warning(car: pd.DataFrame) -> None:
    prepared = prepare(car.assign(notes=np.nan), "class")
    assert "notes" not in prepared.features.columns
    assert any("'notes' is empty in every row" in w for w in prepared.warnings)
    with pytest.raises(AutoMLInputError, match="No usable feature column"):
        prepare(pd.DataFrame({"y": ["a", "b"] * 15, "empty": [None] * 30}), "y")


def test_500_level_categorical_is_target_encoded_with_a_warning(car: pd.DataFrame) -> None:
    rng = np.random.default_rng(0)
    frame = car.assign(site=[f"site-{i % 500}" for i in rng.permutation(len(car))])
    prepared = prepare(frame, "class")
    assert "site" in prepared.schema.categorical
    assert any("'site' has 500 categories: encoded by target statistics" in w for w in prepared.warnings)


def test_a_500_class_target_is_refused() -> None:
    frame = pd.DataFrame({"x": np.arange(1000.0) % 7, "y": [f"c{i % 500}" for i in range(1000)]})
    with pytest.raises(AutoMLInputError, match="500 classes"):
        prepare(frame, "y", task="multiclass")


def test_identifier_and_leak_columns_are_flagged(car: pd.DataFrame) -> None:
    frame = car.assign(
        ticket=[f"T{i:05d}" for i in range(len(car))],
        row=np.arange(len(car)),
        verdict=car["class"].map(lambda c: f"was {c}"),
    )
    prepared = prepare(frame, "class")
    assert "ticket" not in prepared.features.columns and "row" not in prepared.features.columns
    assert any("'verdict' takes one value per target class" in w for w in prepared.warnings)
    excluded = prepare(frame, "class", exclude=("verdict",))
    assert not any("verdict" in w for w in excluded.warnings)


def test_regression_target_must_be_numeric(car: pd.DataFrame) -> None:
    with pytest.raises(AutoMLInputError, match="Regression needs a numeric target"):
        prepare(car, "class", task="regression")


def test_dates_become_parts() -> None:
    stamps = pd.date_range("2024-01-01", periods=40, freq="37h").astype(str)
    frame = pd.DataFrame({"when": stamps, "y": [0, 1] * 20, "x": np.arange(40) % 3})
    prepared = prepare(frame, "y")
    assert prepared.schema.datetime == ("when",)
    parts = date_parts(prepared.features, prepared.schema)
    assert parts["when.hour"].tolist()[:3] == [0.0, 13.0, 2.0]
    assert parts["when.day_of_week"].iloc[0] == 0.0  # 2024-01-01 was a Monday


cells = st.one_of(
    st.none(),
    st.integers(-5, 5),
    st.floats(allow_nan=True, allow_infinity=False, width=32),
    st.sampled_from(["a", "b", "", "?", "2024-01-01", "1e3"]),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data_frames([column("y", elements=cells), column("a", elements=cells), column("b", elements=cells)]),
    st.sampled_from(["auto", "binary", "multiclass", "regression"]),
)
def test_any_table_is_prepared_or_refused_with_a_message(frame: pd.DataFrame, task: str) -> None:
    try:
        prepared = prepare(frame.astype(object), "y", task)
    except AutoMLInputError as exc:
        assert str(exc)
    else:
        assert len(prepared.features) == len(prepared.target) >= 20
