"""Tracking experiments in the warehouse, the model registry, and batch prediction with its schema check."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import artifacts
from core.automl import registry, tracking
from core.automl.data import AutoMLInputError
from core.automl.model import TrainedModel
from core.automl.predict import predict_table
from core.automl.runner import Experiment, run_experiment
from core.automl.search import SearchSettings
from core.automl.store import AutomlStore
from core.automl.views import experiment_report, importance_frame
from core.warehouse import Warehouse

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def car_experiment(car: pd.DataFrame) -> Experiment:
    """Linear, boosting and a forest on car, in their default settings."""
    return run_experiment(car, "class", settings=SearchSettings(budget_s=120.0, max_trials=3))


def test_experiment_and_trials_are_recorded(warehouse: Warehouse, car_experiment: Experiment) -> None:
    experiment_id = tracking.record(warehouse, car_experiment, "car defaults", "car")
    stored = AutomlStore(warehouse).experiments()
    assert stored["id"].tolist() == [experiment_id]
    row = stored.iloc[0]
    assert (row["task"], row["metric"], row["status"], row["rows"]) == (
        "multiclass",
        "balanced_accuracy",
        "finished",
        1728,
    )
    assert row["test_score"] == pytest.approx(car_experiment.test_score)
    assert json.loads(row["test_metrics"])["accuracy"] > 0.9
    trials = AutomlStore(warehouse).experiment_trials(experiment_id)
    assert trials["model"].tolist() == ["linear", "hgb", "hgb"]
    assert all(len(f) == 5 for f in trials["fold_scores"])
    assert json.loads(trials["params"].iloc[1])["max_leaf_nodes"] == 31


def test_registered_model_loads_and_predicts_the_same(
    warehouse: Warehouse, car_experiment: Experiment, car: pd.DataFrame
) -> None:
    experiment_id = tracking.record(warehouse, car_experiment, "car", "car")
    assert registry.register(warehouse, "car model", car_experiment, experiment_id) == 1
    assert registry.register(warehouse, "car model", car_experiment, experiment_id) == 2
    models = AutomlStore(warehouse).registered_models()
    assert sorted(models["version"]) == [1, 2]
    loaded = registry.load(warehouse, "car model", 2)
    features = car.drop(columns=["class"]).head(50)
    assert (loaded.predict(features) == car_experiment.result.model.predict(features)).all()
    schema = json.loads(models.iloc[0]["features"])
    assert schema["categorical"] == ["buying", "maint", "doors", "persons", "lug_boot", "safety"]


def test_a_changed_model_file_is_refused(warehouse: Warehouse, car_experiment: Experiment) -> None:
    registry.register(warehouse, "m", car_experiment, None)
    entry = AutomlStore(warehouse).registered_model("m", 1)
    path = warehouse.models_folder / entry["file"]
    path.write_bytes(path.read_bytes() + b"\0")
    with pytest.raises(registry.RegistryError, match="is not signed by this installation's key"):
        registry.load(warehouse, "m", 1)


def test_bad_names_and_failed_writes_register_nothing(
    warehouse: Warehouse, car_experiment: Experiment, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(registry.RegistryError, match="A model name"):
        registry.register(warehouse, "../escape", car_experiment, None)

    def fail(*_args: object, **_kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(artifacts.joblib, "dump", fail)
    with pytest.raises(registry.RegistryError, match="disk full"):
        registry.register(warehouse, "m", car_experiment, None)
    assert AutomlStore(warehouse).registered_models().empty
    assert not any(warehouse.models_folder.iterdir())


def test_predict_checks_the_schema(car_experiment: Experiment, car: pd.DataFrame) -> None:
    model = car_experiment.result.model
    new = car.drop(columns=["class"]).head(20).assign(comment="x")
    new.loc[0, "doors"] = "seven"  # an unseen category
    predictions = predict_table(new, model)
    assert len(predictions.table) == 20
    assert "predicted class" in predictions.table.columns
    probabilities = predictions.table.filter(like="P(class=")
    assert probabilities.shape[1] == 4
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-4)
    assert any("'comment'" in w and "ignored" in w for w in predictions.warnings)
    with pytest.raises(AutoMLInputError, match=r"lacks 1 column.*safety"):
        predict_table(new.drop(columns=["safety"]), model)


@pytest.fixture(scope="module")
def diabetes_model(diabetes: pd.DataFrame) -> TrainedModel:
    return run_experiment(diabetes, "target", settings=SearchSettings(budget_s=60.0, max_trials=1)).result.model


def test_predict_coerces_numbers_with_a_warning(diabetes: pd.DataFrame, diabetes_model: TrainedModel) -> None:
    new = diabetes.drop(columns=["target"]).head(10).astype(object)
    new.loc[3, "bmi"] = "n/a"
    predictions = predict_table(new, diabetes_model)
    assert predictions.table["predicted target"].notna().all()
    assert any("1 value(s) in 'bmi' are not finite numbers" in w for w in predictions.warnings)


NOT_FINITE = st.sampled_from([math.inf, -math.inf, "inf", "Infinity", "-Infinity", "1e309", "-1e400", "NaN", "x"])


@given(st.lists(st.tuples(st.integers(0, 9), st.sampled_from(["bmi", "bp", "s1"]), NOT_FINITE), min_size=1))
@settings(max_examples=25, deadline=None)
def test_predict_reads_every_non_finite_number_as_missing(
    diabetes: pd.DataFrame, diabetes_model: TrainedModel, cells: list[tuple[int, str, object]]
) -> None:
    new = diabetes.drop(columns=["target"]).head(10).astype(object)
    for row, column, value in cells:
        new.loc[row, column] = value
    predictions = predict_table(new, diabetes_model)
    assert np.isfinite(predictions.table["predicted target"].astype(float)).all()
    assert all("not finite numbers" in w for w in predictions.warnings if "value(s) in" in w)


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "core.automl", *args], capture_output=True, text=True, cwd=REPO, check=False, timeout=300
    )


def test_cli_prints_the_contract_json(shared_data: Path) -> None:
    done = _cli(
        "run", str(shared_data / "automl" / "breast_cancer.csv"), "--target", "target", "--budget", "5", "--json"
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert set(summary) == {"task", "metric", "test_score", "cv_score", "best_model", "trials", "elapsed_s",
                            "budget_s", "startup_s", "wall_s"}  # fmt: skip
    assert summary["budget_s"] == 5 and 0 < summary["startup_s"] <= summary["wall_s"]
    assert (summary["task"], summary["metric"]) == ("binary", "roc_auc")
    assert summary["test_score"] > 0.95


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--target", "nope"], "'nope' does not exist"),
        (["--target", "class", "--test-size", "1.5"], "argument --test-size: 1.5 is outside 0.05 to 0.95"),
        (["--target", "class", "--budget", "inf"], "argument --budget: inf is outside 1 to 86400"),
        (["--target", "class", "--budget", "nan"], "argument --budget: nan is outside 1 to 86400"),
        (["--target", "class", "--budget", "1e308"], "argument --budget: 1e308 is outside 1 to 86400"),
        (["--target", "class", "--seed", "x"], "argument --seed: 'x' is not a whole number"),
        (["--target", "class", "--task", "regression"], "Regression needs a numeric target"),
    ],
)
def test_cli_bad_input_is_a_message_not_a_traceback(shared_data: Path, args: list[str], message: str) -> None:
    done = _cli("run", str(shared_data / "automl" / "car.csv"), "--budget", "2", *args)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: ") and message in done.stderr


def test_importance_and_report_on_car(car_experiment: Experiment) -> None:
    importance = importance_frame(car_experiment)
    ranked = importance["column"].tolist()
    assert ranked[0] == "safety"  # an unsafe car is unacceptable whatever else it offers
    assert ranked[-1] == "doors"  # the number of doors matters least
    assert (importance["importance"] > 0).all()  # in balanced accuracy every column counts for the rare classes
    html = experiment_report(car_experiment, "car defaults", "car", importance).to_html()
    assert "AutoML experiment: car defaults" in html
    assert "Confusion matrix on the test rows" in html
    assert "Permutation importance" in html


def test_cli_reads_latin_1_files_as_the_warehouse_does(shared_data: Path, tmp_path: Path) -> None:
    car = pd.read_csv(shared_data / "automl" / "car.csv")
    path = tmp_path / "voitures.csv"
    car.assign(remarque=["café crème"] * len(car)).to_csv(path, index=False, encoding="latin-1")
    done = _cli("run", str(path), "--target", "class", "--budget", "3", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["task"] == "multiclass"
