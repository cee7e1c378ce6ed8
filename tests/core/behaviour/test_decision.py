"""Fusion and the trust state machine."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.behaviour.decision import TrustState, TrustStateMachine, band, fuse


def test_fusion_weights_and_missing_modalities() -> None:
    assert fuse({"keystroke": 80, "mouse": 60, "app": 40}) == pytest.approx(0.40 * 80 + 0.35 * 60 + 0.25 * 40)
    assert fuse({"keystroke": 80, "mouse": None, "app": 40}) == pytest.approx((0.40 * 80 + 0.25 * 40) / 0.65)
    assert fuse({"keystroke": None, "mouse": float("nan")}) is None


def test_bands_follow_the_thresholds() -> None:
    assert [band(s) for s in (100, 70, 69.9, 50, 49.9, 35, 34.9, 0)] == [
        TrustState.NORMAL, TrustState.NORMAL, TrustState.MONITORING, TrustState.MONITORING, TrustState.RESTRICTED,
        TrustState.RESTRICTED, TrustState.LOCKED, TrustState.LOCKED,
    ]  # fmt: skip


def test_escalation_needs_consecutive_low_windows_and_recovery_likewise() -> None:
    machine = TrustStateMachine(escalate_after=3, recover_after=4)
    assert [machine.update(s) for s in (10, 10, 90, 10, 10)] == [None] * 5  # a good window resets the count
    moved = machine.update(10)
    assert moved is not None and (moved.before, moved.after) == (TrustState.NORMAL, TrustState.MONITORING)
    assert moved.severity == "low"
    for _ in range(6):
        machine.update(10)
    assert machine.state == TrustState.LOCKED
    for _ in range(3):
        assert machine.update(95) is None
    back = machine.update(95)
    assert back is not None and back.after == TrustState.RESTRICTED and back.severity == "info"
    assert machine.update(None) is None and machine.state == TrustState.RESTRICTED


def test_locked_recommends_a_step_up_check_not_a_lockout() -> None:
    machine = TrustStateMachine(escalate_after=1, recover_after=1)
    transitions = [machine.update(5) for _ in range(3)]
    assert [t.after for t in transitions] == [TrustState.MONITORING, TrustState.RESTRICTED, TrustState.LOCKED]
    assert transitions[-1].severity == "critical" and "MFA" in transitions[-1].recommendation


@given(st.lists(st.one_of(st.none(), st.floats(0, 100)), max_size=80), st.integers(1, 5), st.integers(1, 5))
@settings(max_examples=200, deadline=None)
def test_the_state_moves_one_step_at_a_time_and_only_after_a_run(scores, escalate_after, recover_after) -> None:
    machine = TrustStateMachine(escalate_after, recover_after)
    worse_run = better_run = 0
    for score in scores:
        before = machine.state
        transition = machine.update(score)
        if score is not None:
            worse_run = worse_run + 1 if band(score) > before else 0
            better_run = better_run + 1 if band(score) < before else 0
        assert abs(machine.state - before) <= 1
        if machine.state > before:
            assert worse_run >= escalate_after and transition is not None
            worse_run = better_run = 0
        elif machine.state < before:
            assert better_run >= recover_after and transition is not None
            worse_run = better_run = 0
        else:
            assert transition is None
