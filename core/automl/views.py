"""What the AutoML page and its report show: leaderboard, progress curve, diagnostics and comparisons."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from sklearn import metrics
from sklearn.inspection import permutation_importance

from core.automl.metrics import METRIC_LABELS, score
from core.automl.model import TrainedModel
from core.automl.runner import Experiment, subset
from core.automl.search import TrialRecord, trials_frame
from core.automl.zoo import BY_NAME
from core.report import Report

IMPORTANCE_ROWS = 2000
IMPORTANCE_REPEATS = 3
LAYOUT = {"template": "plotly_white", "margin": {"l": 60, "r": 20, "t": 50, "b": 50}, "height": 420}


def metric_label(metric: str) -> str:
    return METRIC_LABELS.get(metric, metric)


def leaderboard(trials: list[TrialRecord]) -> pd.DataFrame:
    """Complete trials best first, then the rest in the order they ran; family names in words."""
    frame = trials_frame(trials)
    frame["model"] = frame["model"].map(lambda n: BY_NAME[n].label if n in BY_NAME else n)
    frame["cv score"] = frame["cv score"].round(4)
    done = frame[frame["state"] == "complete"].sort_values("cv score", ascending=False)
    rest = frame[frame["state"] != "complete"]
    return pd.concat([done, rest], ignore_index=True)


def progress_figure(
    best: list[tuple[float, float]], trials: list[TrialRecord], metric: str, budget_s: float
) -> go.Figure:
    """Every complete trial's CV score over time, and the best so far as a step line."""
    fig = go.Figure()
    done = [t for t in trials if t.state == "complete"]
    if done:
        fig.add_scatter(
            x=[t.at_s for t in done],
            y=[t.cv_score for t in done],
            mode="markers",
            name="trial",
            marker={"size": 8, "color": "#8da9d6"},
            text=[BY_NAME[t.family].label if t.family in BY_NAME else t.family for t in done],
            hovertemplate="%{text}<br>%{y:.4f} at %{x:.1f} s<extra></extra>",
        )
    if best:
        xs, ys = zip(*best, strict=True)
        fig.add_scatter(
            x=list(xs),
            y=list(ys),
            mode="lines",
            line={"shape": "hv", "color": "#1f5fbf", "width": 3},
            name="best so far",
        )
    fig.update_layout(title=f"Search progress: cross-validated {metric_label(metric)}", **LAYOUT)
    fig.update_xaxes(title="seconds into the run", range=[0, max(budget_s, 1.0)])
    fig.update_yaxes(title=metric_label(metric))
    return fig


def diagnostics_figure(experiment: Experiment) -> go.Figure:
    """Confusion matrix (multiclass), ROC curve (binary) or predicted against actual (regression), on test rows."""
    model = experiment.result.model
    held_out = subset(experiment.prepared, experiment.test_rows)
    raw = model.raw_predictions(held_out.features)
    if model.task == "regression":
        return _residual_figure(held_out.target.to_numpy(dtype=float), raw, model.schema.target)
    truth = held_out.target.to_numpy().astype(str)
    if model.task == "binary":
        positive = model.schema.classes[1]
        fpr, tpr, _ = metrics.roc_curve(truth == positive, raw[:, 1])
        auc = metrics.auc(fpr, tpr)
        fig = go.Figure(
            go.Scatter(x=fpr, y=tpr, mode="lines", line={"color": "#1f5fbf", "width": 3}, name=f"model (AUC {auc:.3f})")
        )
        fig.add_scatter(x=[0, 1], y=[0, 1], mode="lines", line={"dash": "dot", "color": "#999"}, name="chance")
        fig.update_layout(title=f"ROC curve on the test rows (positive class: {positive})", **LAYOUT)
        fig.update_xaxes(title="false positive rate", range=[0, 1])
        fig.update_yaxes(title="true positive rate", range=[0, 1.02])
        return fig
    labels = list(model.schema.classes)
    predicted = model.predict(held_out.features).astype(str)
    matrix = metrics.confusion_matrix(truth, predicted, labels=labels)
    share = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    fig = go.Figure(
        go.Heatmap(
            z=share,
            x=labels,
            y=labels,
            colorscale="Blues",
            zmin=0,
            zmax=1,
            text=matrix,
            texttemplate="%{text}",
            hovertemplate="actual %{y}<br>predicted %{x}<br>%{text} rows<extra></extra>",
            colorbar={"title": "row share"},
        )
    )
    fig.update_layout(title="Confusion matrix on the test rows (counts; colour: share of the actual class)", **LAYOUT)
    fig.update_xaxes(title="predicted")
    fig.update_yaxes(title="actual", autorange="reversed")
    return fig


def _residual_figure(truth: np.ndarray, predicted: np.ndarray, target: str) -> go.Figure:
    low, high = float(min(truth.min(), predicted.min())), float(max(truth.max(), predicted.max()))
    fig = go.Figure(
        go.Scattergl(
            x=truth,
            y=predicted,
            mode="markers",
            marker={"size": 5, "opacity": 0.5, "color": "#1f5fbf"},
            name="test row",
        )
    )
    fig.add_scatter(x=[low, high], y=[low, high], mode="lines", line={"dash": "dot", "color": "#999"}, name="perfect")
    fig.update_layout(title=f"Predicted against actual {target} on the test rows", **LAYOUT)
    fig.update_xaxes(title=f"actual {target}")
    fig.update_yaxes(title=f"predicted {target}")
    return fig


class _Scorer:
    """The model as a scikit-learn scorer input for permutation importance, scoring its own metric."""

    def __init__(self, model: TrainedModel) -> None:
        self.model = model

    def fit(self, *_args: object) -> _Scorer:
        return self

    def score(self, features: pd.DataFrame, truth: np.ndarray) -> float:
        raw = self.model.raw_predictions(features)
        return score(self.model.task, truth, raw, self.model.prior)


def importance_frame(experiment: Experiment, seed: int = 0) -> pd.DataFrame:
    """Permutation importance of each input column on (up to 2,000) test rows: the drop in the run's metric."""
    model = experiment.result.model
    held_out = subset(experiment.prepared, experiment.test_rows[:IMPORTANCE_ROWS])
    if model.task == "regression":
        truth = held_out.target.to_numpy(dtype=float)
    else:
        lookup = {label: code for code, label in enumerate(model.schema.classes)}
        truth = held_out.target.map(lookup).to_numpy(dtype=np.int64)
    found = permutation_importance(
        _Scorer(model),
        held_out.features,
        truth,
        scoring=lambda est, x, y: est.score(x, y),
        n_repeats=IMPORTANCE_REPEATS,
        random_state=seed,
    )
    frame = pd.DataFrame(
        {"column": held_out.features.columns, "importance": found.importances_mean, "spread": found.importances_std}
    )
    return frame.sort_values("importance", ascending=False, ignore_index=True)


def importance_figure(frame: pd.DataFrame, metric: str, top: int = 20) -> go.Figure:
    shown = frame.head(top).iloc[::-1]
    fig = go.Figure(
        go.Bar(
            x=shown["importance"],
            y=shown["column"],
            orientation="h",
            marker_color="#1f5fbf",
            error_x={"type": "data", "array": shown["spread"], "color": "#777"},
        )
    )
    fig.update_layout(
        title=f"Permutation importance: drop in {metric_label(metric)} when a column is shuffled",
        **{**LAYOUT, "height": max(300, 28 * len(shown) + 120)},
    )
    fig.update_xaxes(title=f"drop in {metric_label(metric)}")
    return fig


def metrics_frame(test_metrics: dict[str, float]) -> pd.DataFrame:
    return pd.DataFrame(
        {"metric": [metric_label(k) for k in test_metrics], "test rows": [round(v, 4) for v in test_metrics.values()]}
    )


def comparison_frame(experiments: pd.DataFrame) -> pd.DataFrame:
    """Two or more recorded experiments side by side: settings, scores and test metrics."""
    rows = {}
    for _, row in experiments.iterrows():
        column = f"#{row['id']} {row['name']}"
        values = {
            "data set": row["dataset"],
            "target": row["target"],
            "task": row["task"],
            "metric": metric_label(row["metric"]),
            "budget s": row["budget_s"],
            "elapsed s": round(row["elapsed_s"], 1),
            "rows": row["rows"],
            "model": row["best_model"],
            "CV score": _round(row["cv_score"]),
            "test score": _round(row["test_score"]),
        }
        for key, value in json.loads(row["test_metrics"]).items():
            values[f"test {metric_label(key)}"] = round(value, 4)
        rows[column] = values
    return pd.DataFrame(rows).astype(str)


def comparison_figure(curves: dict[str, pd.DataFrame], metric: str) -> go.Figure:
    """Best-so-far CV score over time for several recorded experiments."""
    fig = go.Figure()
    for name, trials in curves.items():
        done = trials[trials["state"] == "complete"].sort_values("at_s")
        if done.empty:
            continue
        fig.add_scatter(
            x=done["at_s"], y=done["cv_score"].cummax(), mode="lines", line={"shape": "hv", "width": 3}, name=name
        )
    fig.update_layout(title=f"Best cross-validated {metric_label(metric)} so far", **LAYOUT)
    fig.update_xaxes(title="seconds into the run")
    fig.update_yaxes(title=metric_label(metric))
    return fig


def _round(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else round(float(value), 4)


def experiment_report(experiment: Experiment, name: str, dataset: str, importance: pd.DataFrame | None) -> Report:
    """A self-contained report of one experiment: settings, metrics, leaderboard and figures."""
    model = experiment.result.model
    schema = model.schema
    report = Report(f"AutoML experiment: {name}")
    report.add_markdown(
        f"Data set **{dataset}**, target **{schema.target}** ({schema.task}), {len(experiment.prepared.target):,} "
        f"rows, {len(schema.columns)} input columns; test share {experiment.test_size:.0%}, seed "
        f"{experiment.settings.seed}. Budget {experiment.settings.budget_s:.0f} s, used {experiment.elapsed_s:.1f} s "
        f"for {len(experiment.result.trials)} trials.\n\n"
        f"Model: **{model.description}**. Cross-validated {metric_label(experiment.metric)} "
        f"{model.cv_score:.4f}; on the test rows {experiment.test_score:.4f}."
    )
    if experiment.warnings:
        report.add_markdown("Warnings:\n\n" + "\n".join(f"- {w}" for w in experiment.warnings))
    report.add_table(metrics_frame(experiment.test_metrics), "Metrics on the test rows")
    report.add_figure(diagnostics_figure(experiment))
    report.add_table(leaderboard(experiment.result.trials), "Trials, best first")
    best = best_curve(experiment.result.trials)
    report.add_figure(progress_figure(best, experiment.result.trials, experiment.metric, experiment.settings.budget_s))
    if importance is not None:
        report.add_figure(importance_figure(importance, experiment.metric))
    return report


def best_curve(trials: list[TrialRecord]) -> list[tuple[float, float]]:
    """The best complete trial's CV score at each trial's start time."""
    curve, best = [], float("-inf")
    for t in trials:
        if t.state == "complete" and t.cv_score > best:
            best = t.cv_score
        if best > float("-inf"):
            curve.append((t.at_s, best))
    return curve
