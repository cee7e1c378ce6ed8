"""Scores for each task, from class probabilities or predicted values (higher is better for the primary metric)."""

from __future__ import annotations

import numpy as np
from sklearn import metrics

from core.automl.data import Task

PRIMARY = {"binary": "roc_auc", "multiclass": "balanced_accuracy", "regression": "r2"}
METRIC_LABELS = {
    "roc_auc": "ROC AUC",
    "balanced_accuracy": "balanced accuracy",
    "accuracy": "accuracy",
    "log_loss": "log loss",
    "r2": "R²",
    "rmse": "RMSE",
    "mae": "MAE",
}


def primary_metric(task: Task) -> str:
    """The metric a run optimises: ROC AUC (binary), balanced accuracy (multiclass), R² (regression)."""
    return PRIMARY[task]


def decide(proba: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """Class codes from probabilities, each class's probability divided by its training share.

    This is the Bayes decision for balanced accuracy: every class counts equally, so a rare class wins as soon as
    it is likelier than its base rate suggests.
    """
    return np.argmax(proba / prior, axis=1)


def score(task: Task, truth: np.ndarray, prediction: np.ndarray, prior: np.ndarray | None = None) -> float:
    """The task's primary metric for class codes `truth` against probabilities (or values for regression)."""
    if task == "regression":
        return float(metrics.r2_score(truth, prediction))
    if task == "binary":
        return float(metrics.roc_auc_score(truth, prediction[:, 1]))
    weights = prior if prior is not None else np.full(prediction.shape[1], 1.0 / prediction.shape[1])
    return float(metrics.balanced_accuracy_score(truth, decide(prediction, weights)))


def all_metrics(task: Task, truth: np.ndarray, prediction: np.ndarray, prior: np.ndarray | None = None) -> dict:
    """Every metric shown for a model: the primary one and the usual companions."""
    if task == "regression":
        return {
            "r2": float(metrics.r2_score(truth, prediction)),
            "rmse": float(np.sqrt(metrics.mean_squared_error(truth, prediction))),
            "mae": float(metrics.mean_absolute_error(truth, prediction)),
        }
    labels = np.arange(prediction.shape[1])
    weights = prior if prior is not None else np.full(len(labels), 1.0 / len(labels))
    decided = decide(prediction, weights) if task == "multiclass" else (prediction[:, 1] >= 0.5).astype(int)
    out = {
        "balanced_accuracy": float(metrics.balanced_accuracy_score(truth, decided)),
        "accuracy": float(metrics.accuracy_score(truth, decided)),
        "log_loss": float(metrics.log_loss(truth, np.clip(prediction, 1e-15, 1.0), labels=labels)),
    }
    if task == "binary":
        out = {"roc_auc": float(metrics.roc_auc_score(truth, prediction[:, 1])), **out}
    return out


def baseline_score(task: Task, classes: int) -> float:
    """What guessing from the class shares (or the mean) scores: a model must do better to be kept."""
    return {"regression": 0.0, "binary": 0.5}.get(task, 1.0 / max(classes, 1))
