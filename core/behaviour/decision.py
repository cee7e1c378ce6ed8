"""Fusion of modality scores and the trust state machine with hysteresis.

States are ordered, NORMAL < MONITORING < RESTRICTED < LOCKED, and compared as numbers (never as names). The fused
score's band says where a window points: ≥ 70 NORMAL, ≥ 50 MONITORING, ≥ 35 RESTRICTED, below LOCKED. The state
moves one step towards that band only after `escalate_after` consecutive windows point to a worse state, or
`recover_after` consecutive windows point to a better one; a window without any score changes nothing. Every move
raises an alert with a severity and a recommended step-up check: CTAS advises, it does not lock anybody out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import IntEnum


class TrustState(IntEnum):
    NORMAL = 0
    MONITORING = 1
    RESTRICTED = 2
    LOCKED = 3


WEIGHTS = {"keystroke": 0.40, "mouse": 0.35, "app": 0.25}
THRESHOLDS = ((70.0, TrustState.NORMAL), (50.0, TrustState.MONITORING), (35.0, TrustState.RESTRICTED))
SEVERITY = {TrustState.NORMAL: "info", TrustState.MONITORING: "low", TrustState.RESTRICTED: "high",
            TrustState.LOCKED: "critical"}  # fmt: skip
RECOMMENDATION = {
    TrustState.NORMAL: "Behaviour matches the profile again; no action needed.",
    TrustState.MONITORING: "Keep watching this session; no action needed yet.",
    TrustState.RESTRICTED: "Ask for a step-up check (MFA) before sensitive actions; review the session replay.",
    TrustState.LOCKED: "Require MFA re-authentication now and notify the SOC; if it fails, suspend the session.",
}


def fuse(scores: dict[str, float | None], weights: dict[str, float] = WEIGHTS) -> float | None:
    """Weighted mean of the modality scores present (weights renormalised over them); None when none is present."""
    present = {m: s for m, s in scores.items() if s is not None and not math.isnan(s) and m in weights}
    if not present:
        return None
    total = sum(weights[m] for m in present)
    return sum(weights[m] * s for m, s in present.items()) / total


def band(score: float) -> TrustState:
    """The state a single fused score points to."""
    for threshold, state in THRESHOLDS:
        if score >= threshold:
            return state
    return TrustState.LOCKED


@dataclass(frozen=True)
class Transition:
    """A state change, the alert it raises."""

    before: TrustState
    after: TrustState
    score: float

    @property
    def severity(self) -> str:
        return SEVERITY[self.after] if self.after > self.before else "info"

    @property
    def recommendation(self) -> str:
        return RECOMMENDATION[self.after]


class TrustStateMachine:
    """One user's trust state; `update` with each window's fused score."""

    def __init__(self, escalate_after: int = 3, recover_after: int = 4) -> None:
        if escalate_after < 1 or recover_after < 1:
            raise ValueError("escalate_after and recover_after must be at least 1")
        self.escalate_after = escalate_after
        self.recover_after = recover_after
        self.state = TrustState.NORMAL
        self._worse = 0
        self._better = 0

    def update(self, score: float | None) -> Transition | None:
        """Take one window's fused score; returns the transition when the state moved."""
        if score is None or math.isnan(score):
            return None
        target = band(score)
        self._worse = self._worse + 1 if target > self.state else 0
        self._better = self._better + 1 if target < self.state else 0
        before = self.state
        if self._worse >= self.escalate_after:
            self.state = TrustState(self.state + 1)
        elif self._better >= self.recover_after:
            self.state = TrustState(self.state - 1)
        else:
            return None
        self._worse = self._better = 0
        return Transition(before, self.state, score)
