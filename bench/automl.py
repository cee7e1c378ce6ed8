"""Benchmark: our AutoML runner against FLAML and Optuna-TPE over HistGradientBoosting, at the same budget.

    python bench/automl.py [--data ../shared/data/automl] [--budget 60] [--only car,vehicle]

For every CSV in the folder (targets as its README lists them; otherwise the last column), the same stratified
75/25 split (seed 0) is given to each system in a fresh process, one after the other:
- ours: `core.automl.runner.run_experiment` with the budget;
- FLAML 2.7 `AutoML.fit(time_budget=budget)` with its default metric, refit included;
- Optuna TPE (seed 0) over HistGradientBoosting with native categories, k-fold CV on the training part (no fold
  starts after budget × 0.9 s), the best refitted on it.
Scores on the test part: ROC AUC (binary), balanced accuracy (multiclass), R² (regression). Prints one JSON line per
data set and system, then one summary line with mean ranks, the worst gap of ours to the best of the others, and
the worst budget overrun of ours.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
DEFAULT_DATA = REPO.parent / "shared" / "data" / "automl"
TARGETS = {
    "breast_cancer": "target",
    "credit_g": "class",
    "blood_transfusion": "Class",
    "phoneme": "Class",
    "adult": "income",
    "vehicle": "class",
    "car": "class",
    "diabetes_reg": "target",
    "california_housing": "median_house_value",
}
SYSTEMS = ("ours", "flaml", "optuna_hgb")


def load(path: Path) -> tuple[pd.DataFrame, str]:
    frame = pd.read_csv(path, na_values=["?"], skipinitialspace=True)
    return frame, TARGETS.get(path.stem, frame.columns[-1])


def split_frames(frame: pd.DataFrame, target: str, seed: int = 0) -> tuple:
    """The anchors' split: train_test_split(test_size=0.25, random_state=seed, stratify=y for classes)."""
    from core.automl.data import prepare
    from core.automl.runner import split

    prepared = prepare(frame, target)
    train, test = split(prepared, 0.25, seed)
    x = frame.drop(columns=[target])
    for name in x.columns:
        if x[name].dtype == object or str(x[name].dtype).startswith("str"):
            x[name] = x[name].astype("category")
    return prepared.schema.task, x.iloc[train], x.iloc[test], prepared.target.iloc[train], prepared.target.iloc[test]


def test_score(task: str, y_test: pd.Series, proba: np.ndarray | None, labels: np.ndarray, classes: list) -> float:
    from sklearn import metrics

    if task == "regression":
        return float(metrics.r2_score(y_test.to_numpy(dtype=float), labels))
    if task == "binary":
        return float(metrics.roc_auc_score(y_test.to_numpy() == classes[1], proba[:, 1]))
    return float(metrics.balanced_accuracy_score(y_test.astype(str), np.asarray(labels).astype(str)))


def run_ours(frame: pd.DataFrame, target: str, budget: float) -> dict:
    from core.automl.runner import run_experiment
    from core.automl.search import SearchSettings

    began = time.monotonic()
    experiment = run_experiment(frame, target, settings=SearchSettings(budget_s=budget))
    return {
        "score": experiment.test_score,
        "elapsed_s": time.monotonic() - began,
        "model": experiment.result.model.description,
        "trials": len(experiment.result.trials),
    }


def run_flaml(frame: pd.DataFrame, target: str, budget: float) -> dict:
    from flaml import AutoML

    task, x_train, x_test, y_train, y_test = split_frames(frame, target)
    automl = AutoML()
    began = time.monotonic()
    automl.fit(
        x_train,
        y_train,
        task="regression" if task == "regression" else "classification",
        time_budget=budget,
        seed=0,
        verbose=0,
    )
    elapsed = time.monotonic() - began
    if task == "regression":
        return {
            "score": test_score(task, y_test, None, automl.predict(x_test), []),
            "elapsed_s": elapsed,
            "model": automl.best_estimator,
        }
    classes = [str(c) for c in automl.classes_]
    proba = automl.predict_proba(x_test)
    labels = np.asarray(automl.predict(x_test)).astype(str)
    return {
        "score": test_score(task, y_test, proba, labels, classes),
        "elapsed_s": elapsed,
        "model": automl.best_estimator,
    }


def run_optuna_hgb(frame: pd.DataFrame, target: str, budget: float) -> dict:
    import optuna
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.metrics import get_scorer
    from sklearn.model_selection import KFold, StratifiedKFold

    task, x_train, x_test, y_train, y_test = split_frames(frame, target)
    regression = task == "regression"
    model_cls = HistGradientBoostingRegressor if regression else HistGradientBoostingClassifier
    scoring = {"binary": "roc_auc", "multiclass": "balanced_accuracy", "regression": "r2"}[task]
    folds = 5 if len(x_train) <= 10_000 else 3
    cv = (KFold if regression else StratifiedKFold)(folds, shuffle=True, random_state=0)

    def build(params: dict) -> object:
        return model_cls(**params, categorical_features="from_dtype", random_state=0)

    def objective(trial: optuna.Trial) -> float:
        params = {
            "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.3, log=True),
            "max_leaf_nodes": trial.suggest_int("max_leaf_nodes", 4, 128, log=True),
            "min_samples_leaf": trial.suggest_int("min_samples_leaf", 2, 100, log=True),
            "l2_regularization": trial.suggest_float("l2_regularization", 1e-6, 10.0, log=True),
            "max_iter": trial.suggest_int("max_iter", 50, 1000, log=True),
        }
        scores = []
        for train, test in cv.split(x_train, y_train):
            if time.monotonic() > deadline:  # no fold starts past the search's time
                raise optuna.TrialPruned
            model = build(params).fit(x_train.iloc[train], y_train.iloc[train])
            scores.append(scorer(model, x_train.iloc[test], y_train.iloc[test]))
        return float(np.mean(scores))

    scorer = get_scorer(scoring)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    began = time.monotonic()
    deadline = began + budget * 0.9
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=0))
    study.optimize(objective, timeout=budget * 0.9)
    model = build(study.best_params).fit(x_train, y_train)
    elapsed = time.monotonic() - began
    if regression:
        return {
            "score": test_score(task, y_test, None, model.predict(x_test), []),
            "elapsed_s": elapsed,
            "model": "hgb",
            "trials": len(study.trials),
        }
    classes = [str(c) for c in model.classes_]
    return {
        "score": test_score(task, y_test, model.predict_proba(x_test), model.predict(x_test), classes),
        "elapsed_s": elapsed,
        "model": "hgb",
        "trials": len(study.trials),
    }


RUNNERS = {"ours": run_ours, "flaml": run_flaml, "optuna_hgb": run_optuna_hgb}


def one(system: str, path: Path, budget: float) -> dict:
    import warnings

    warnings.simplefilter("ignore")
    frame, target = load(path)
    out = RUNNERS[system](frame, target, budget)
    return {"data": path.stem, "system": system, **out}


def ranks(scores: dict[str, float]) -> dict[str, float]:
    series = pd.Series(scores)
    return series.rank(ascending=False, method="average").to_dict()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--budget", type=float, default=60.0)
    parser.add_argument("--only", default="", help="comma-separated data set names")
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    parser.add_argument("--one", nargs=2, metavar=("SYSTEM", "CSV"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one[0], Path(args.one[1]), args.budget)))
        return
    files = sorted(args.data.glob("*.csv"))
    if args.only:
        files = [f for f in files if f.stem in args.only.split(",")]
    systems = args.systems.split(",")
    table: dict[str, dict[str, float]] = {}
    overrun = 0.0
    for path in files:
        for system in systems:
            done = subprocess.run(
                [sys.executable, __file__, "--one", system, str(path), "--budget", str(args.budget)],
                capture_output=True,
                text=True,
                check=False,
                cwd=REPO,
            )
            lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
            if done.returncode or not lines:
                print(json.dumps({"data": path.stem, "system": system, "error": done.stderr[-500:]}), flush=True)
                continue
            row = json.loads(lines[-1])
            print(json.dumps(row), flush=True)
            table.setdefault(path.stem, {})[system] = row["score"]
            if system == "ours":
                overrun = max(overrun, row["elapsed_s"] / args.budget - 1.0)
    mean_rank = {s: float(np.mean([ranks(v)[s] for v in table.values() if s in v])) for s in systems}
    gaps = {d: v["ours"] - max(v[s] for s in v if s != "ours") for d, v in table.items() if "ours" in v and len(v) > 1}
    print(
        json.dumps(
            {
                "summary": True,
                "budget_s": args.budget,
                "mean_rank": mean_rank,
                "worst_gap_ours_to_best_other": min(gaps.values()) if gaps else None,
                "gaps": {d: round(g, 4) for d, g in gaps.items()},
                "max_budget_overrun_ours": round(overrun, 4),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
