"""Verification metrics: ROC and DET curves, equal error rate, area under the ROC curve."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.metrics import roc_auc_score, roc_curve


@dataclass(frozen=True)
class Verification:
    """Error rates of genuine-vs-impostor scores (higher score = more likely genuine)."""

    far: np.ndarray  # false accept rate per threshold
    frr: np.ndarray  # false reject rate per threshold
    thresholds: np.ndarray
    eer: float
    auc: float
    genuine: int
    impostor: int


def verification(genuine: np.ndarray, impostor: np.ndarray) -> Verification:
    """ROC/DET figures of two score samples; needs at least one score in each."""
    genuine, impostor = np.asarray(genuine, np.float64), np.asarray(impostor, np.float64)
    if not len(genuine) or not len(impostor):
        raise ValueError("the evaluation needs both genuine and impostor scores")
    labels = np.r_[np.ones(len(genuine)), np.zeros(len(impostor))]
    scores = np.nan_to_num(np.r_[genuine, impostor], nan=-np.inf)
    scores = np.where(np.isneginf(scores), np.nanmin(np.where(np.isfinite(scores), scores, np.nan)) - 1, scores)
    far, tpr, thresholds = roc_curve(labels, scores)
    frr = 1 - tpr
    return Verification(far, frr, thresholds, equal_error_rate(far, frr), float(roc_auc_score(labels, scores)),
                        len(genuine), len(impostor))  # fmt: skip


def equal_error_rate(far: np.ndarray, frr: np.ndarray) -> float:
    """Where the false accept and false reject curves cross (linear interpolation between ROC points)."""
    diff = far - frr  # rises from ≤ 0 to ≥ 0 along the ROC
    cross = int(np.argmax(diff >= 0))
    if cross == 0:
        return float((far[0] + frr[0]) / 2)
    d0, d1 = diff[cross - 1], diff[cross]
    t = d0 / (d0 - d1) if d1 != d0 else 0.0
    return float(far[cross - 1] + t * (far[cross] - far[cross - 1]))
