"""The model zoo: complementary families, each with a default, an Optuna search space and a cost measure."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

import optuna
from sklearn.base import BaseEstimator
from sklearn.compose import TransformedTargetRegressor
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC, SVR

from core.automl.data import Task
from core.automl.preprocess import Style

Params = dict[str, object]
CORES = os.cpu_count() or 1
# Every model fits on one thread: the search runs one fold per core instead (see search.PARALLEL_FOLDS).
FOREST_TREES = 300
# Optional feature selection for the distance-based families: keep this percentage of the columns, ranked by an
# ANOVA F-test against the target (a search parameter, not a model parameter).
FEATURE_PERCENT = "feature_percent"


@dataclass(frozen=True)
class Family:
    """A model family: how to build it, its default, its search space and the rows it is worth trying on."""

    name: str
    label: str
    style: Style
    default: Callable[[Task], Params]
    suggest: Callable[[optuna.Trial, Task], Params]
    build: Callable[[Params, Task, int, list[int]], BaseEstimator]
    max_rows: int = 10**9
    units: Callable[[Params], float] = lambda _params: 1.0
    # How a fold's cost grows with its rows: time ~ rows ** growth (used to extrapolate from a probe fit).
    growth: float = 1.0

    def fits(self, rows: int) -> bool:
        return rows <= self.max_rows


def _linear_default(task: Task) -> Params:
    return {"alpha": 1.0} if task == "regression" else {"C": 1.0, "class_weight": None}


def _linear_suggest(trial: optuna.Trial, task: Task) -> Params:
    if task == "regression":
        return {"alpha": trial.suggest_float("linear.alpha", 1e-3, 1e3, log=True)}
    return {
        "C": trial.suggest_float("linear.C", 1e-3, 1e2, log=True),
        "class_weight": trial.suggest_categorical("linear.class_weight", [None, "balanced"]),
    }


def _linear_build(params: Params, task: Task, seed: int, _cats: list[int]) -> BaseEstimator:
    if task == "regression":
        return Ridge(alpha=params["alpha"])
    return LogisticRegression(C=params["C"], class_weight=params["class_weight"], max_iter=3000)


def _hgb_default(_task: Task) -> Params:
    return {
        "learning_rate": 0.1,
        "max_leaf_nodes": 31,
        "min_samples_leaf": 20,
        "l2_regularization": 0.0,
        "max_features": 1.0,
        "max_iter": 200,
    }


def _hgb_suggest(trial: optuna.Trial, _task: Task) -> Params:
    return {
        "learning_rate": trial.suggest_float("hgb.learning_rate", 0.01, 0.3, log=True),
        "max_leaf_nodes": trial.suggest_int("hgb.max_leaf_nodes", 4, 128, log=True),
        "min_samples_leaf": trial.suggest_int("hgb.min_samples_leaf", 2, 100, log=True),
        "l2_regularization": trial.suggest_float("hgb.l2_regularization", 1e-6, 10.0, log=True),
        "max_features": trial.suggest_float("hgb.max_features", 0.3, 1.0),
        "max_iter": trial.suggest_int("hgb.max_iter", 50, 1000, log=True),
    }


def _hgb_build(params: Params, task: Task, seed: int, cats: list[int]) -> BaseEstimator:
    cls = HistGradientBoostingRegressor if task == "regression" else HistGradientBoostingClassifier
    options = {"early_stopping": "auto", "n_iter_no_change": 30, **params}
    return cls(**options, categorical_features=cats or None, random_state=seed)


# Boosting rarely runs past this many rounds before early stopping ends it: the cost estimate's cap.
HGB_TYPICAL_ITERATIONS = 400.0

# Tried right after the boosting default: slower, deeper boosting that stops on a 10 % validation split; strong on the
# larger tables (adult, california_housing) where the default stops short.
HGB_STRONG: Params = {
    "learning_rate": 0.05,
    "max_leaf_nodes": 63,
    "min_samples_leaf": 10,
    "l2_regularization": 1.0,
    "max_features": 0.8,
    "max_iter": 1000,
    "early_stopping": True,
}


def _forest_default(task: Task) -> Params:
    return {"max_features": 0.5 if task == "regression" else "sqrt", "min_samples_leaf": 1}


def _forest_suggest(prefix: str) -> Callable[[optuna.Trial, Task], Params]:
    def suggest(trial: optuna.Trial, task: Task) -> Params:
        params: Params = {
            "max_features": trial.suggest_float(f"{prefix}.max_features", 0.05, 1.0),
            "min_samples_leaf": trial.suggest_int(f"{prefix}.min_samples_leaf", 1, 20, log=True),
        }
        if task != "regression":
            params["criterion"] = trial.suggest_categorical(f"{prefix}.criterion", ["gini", "entropy"])
            params["class_weight"] = trial.suggest_categorical(f"{prefix}.class_weight", [None, "balanced_subsample"])
        return params

    return suggest


def _forest_build(regressor: type, classifier: type) -> Callable[[Params, Task, int, list[int]], BaseEstimator]:
    def build(params: Params, task: Task, seed: int, _cats: list[int]) -> BaseEstimator:
        cls = regressor if task == "regression" else classifier
        return cls(n_estimators=FOREST_TREES, **params, n_jobs=1, random_state=seed)

    return build


def _knn_default(_task: Task) -> Params:
    return {"n_neighbors": 15, "weights": "distance", "p": 2}


def _knn_suggest(trial: optuna.Trial, _task: Task) -> Params:
    return {
        "n_neighbors": trial.suggest_int("knn.n_neighbors", 1, 100, log=True),
        "weights": trial.suggest_categorical("knn.weights", ["uniform", "distance"]),
        "p": trial.suggest_categorical("knn.p", [1, 2]),
        FEATURE_PERCENT: trial.suggest_categorical("knn.feature_percent", [100, 50, 25]),
    }


def _knn_build(params: Params, task: Task, _seed: int, _cats: list[int]) -> BaseEstimator:
    cls = KNeighborsRegressor if task == "regression" else KNeighborsClassifier
    return cls(**params, n_jobs=1)


def _svm_default(_task: Task) -> Params:
    return {"C": 1.0, "gamma": "scale"}


def _svm_suggest(trial: optuna.Trial, _task: Task) -> Params:
    return {
        "C": trial.suggest_float("svm.C", 1e-2, 1e3, log=True),
        "gamma": trial.suggest_float("svm.gamma", 1e-4, 1.0, log=True),
        FEATURE_PERCENT: trial.suggest_categorical("svm.feature_percent", [100, 50, 25]),
    }


def _svm_build(params: Params, task: Task, seed: int, _cats: list[int]) -> BaseEstimator:
    if task == "regression":
        return TransformedTargetRegressor(SVR(**params), transformer=StandardScaler())
    return SVC(**params, probability=True, random_state=seed)


def _mlp_default(_task: Task) -> Params:
    return {"hidden": 64, "alpha": 1e-4, "learning_rate_init": 1e-3}


def _mlp_suggest(trial: optuna.Trial, _task: Task) -> Params:
    return {
        "hidden": trial.suggest_int("mlp.hidden", 16, 256, log=True),
        "alpha": trial.suggest_float("mlp.alpha", 1e-6, 1.0, log=True),
        "learning_rate_init": trial.suggest_float("mlp.learning_rate_init", 1e-4, 1e-2, log=True),
    }


def _mlp_build(params: Params, task: Task, seed: int, _cats: list[int]) -> BaseEstimator:
    shared = {
        "hidden_layer_sizes": (params["hidden"],),
        "alpha": params["alpha"],
        "learning_rate_init": params["learning_rate_init"],
        "early_stopping": True,
        "max_iter": 300,
        "n_iter_no_change": 15,
        "random_state": seed,
    }
    if task == "regression":
        return TransformedTargetRegressor(MLPRegressor(**shared), transformer=StandardScaler())
    return MLPClassifier(**shared)


FAMILIES: tuple[Family, ...] = (
    Family("linear", "Linear (logistic / ridge)", "linear", _linear_default, _linear_suggest, _linear_build),
    Family(
        "hgb",
        "Histogram gradient boosting",
        "native",
        _hgb_default,
        _hgb_suggest,
        _hgb_build,
        units=lambda p: min(float(p["max_iter"]), HGB_TYPICAL_ITERATIONS) / 100.0,
    ),
    Family(
        "random_forest",
        "Random forest",
        "trees",
        _forest_default,
        _forest_suggest("random_forest"),
        _forest_build(RandomForestRegressor, RandomForestClassifier),
        max_rows=200_000,
    ),
    Family(
        "extra_trees",
        "Extra trees",
        "trees",
        _forest_default,
        _forest_suggest("extra_trees"),
        _forest_build(ExtraTreesRegressor, ExtraTreesClassifier),
        max_rows=200_000,
    ),
    Family(
        "knn", "k nearest neighbours", "linear", _knn_default, _knn_suggest, _knn_build, max_rows=30_000, growth=1.5
    ),
    Family(
        "svm",
        "Support vector machine (RBF)",
        "linear",
        _svm_default,
        _svm_suggest,
        _svm_build,
        max_rows=4_000,
        growth=2.0,
    ),
    Family(
        "mlp", "Neural network (one hidden layer)", "linear", _mlp_default, _mlp_suggest, _mlp_build, max_rows=50_000
    ),
)
BY_NAME = {f.name: f for f in FAMILIES}
