"""Answers without the minimal quorums, and analyses that each complete or fall back on their own budget.

`top_tier_by_structure`, `blocking_sets_by_closure` (its kernel `blocking_sets_by_closure64`) and
`quorum_intersection_by_sat` are held equal to brute force over every set of nodes (test_analysis's references).
"""

from __future__ import annotations

import itertools
import json
import math
import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.fbas.analysis import SearchLimitError, compile_fbas, minimal_blocking_sets, minimal_quorums, top_tier
from core.fbas.budget import Budget, Limit
from core.fbas.model import Fbas, loads
from core.fbas.scan import scan
from core.fbas.sizes import quorum_intersection_by_sat
from core.fbas.structure import blocking_sets_by_closure, top_tier_by_structure
from core.fbas.synthetic import almost_symmetric
from core.tasks import CancelToken, cancellable
from tests.core.fbas.test_analysis import (
    KEYS,
    _reference_blocking_sets,
    _reference_minimal_quorums,
    majority_fbas,
    small_fbas,
)


@settings(max_examples=300, deadline=None)
@given(fbas=st.one_of(small_fbas(), majority_fbas()), faulty=st.sets(st.sampled_from(KEYS), max_size=2))
def test_top_tier_and_blocking_sets_without_minimal_quorums_equal_brute_force(fbas: Fbas, faulty: set[str]) -> None:
    compiled = compile_fbas(fbas)
    minimal = _reference_minimal_quorums(fbas, unconstrained=False)
    tier = frozenset().union(*minimal) if minimal else frozenset()
    assert top_tier_by_structure(compiled) == tier
    expected = _reference_blocking_sets(minimal, frozenset(faulty))
    assert blocking_sets_by_closure(compiled, tier, frozenset(faulty)) == expected


@settings(max_examples=300, deadline=None)
@given(fbas=st.one_of(small_fbas(), majority_fbas()))
def test_intersection_by_sat_equals_brute_force_with_a_witness(fbas: Fbas) -> None:
    compiled = compile_fbas(fbas)
    minimal = _reference_minimal_quorums(fbas, unconstrained=False)
    disjoint = any(not a & b for a, b in itertools.combinations(minimal, 2))
    result = quorum_intersection_by_sat(compiled)
    assert result.intersects == (bool(minimal) and not disjoint)
    if result.witness is not None:
        first, second = result.witness
        assert not first & second and first in minimal and second in minimal
    else:
        assert result.intersects or not minimal  # no quorum at all: nothing to show


def _network(organizations: int) -> Fbas:
    return loads(json.dumps(almost_symmetric(organizations, deletions=3, seed=organizations)))


def test_each_analysis_falls_back_on_its_own_where_the_quorums_are_too_many() -> None:
    """12 organizations: about 3 million minimal quorums. The step cap stops that enumeration and the blocking one;
    the rest is still answered: intersection, the whole top tier, all smallest sizes."""
    report = scan(_network(12), max_steps=200_000)
    status = report.analyses
    assert status["minimal_quorums"].fallback == "not answered"
    assert "200,000 search steps" in status["minimal_quorums"].reason
    assert status["quorum_intersection"].complete and status["top_tier"].complete
    assert status["minimal_blocking_sets"].fallback == "smallest set only"
    node = report.results["node"]
    assert node.quorum_intersection and node.minimal_quorums is None
    assert len(node.top_tier) == 36 and node.symmetric_top_tier is None
    outvoted = 12 - math.ceil(2 * 12 / 3) + 1
    assert node.minimal_blocking_sets.count is None and node.minimal_blocking_sets.min == 2 * outvoted
    assert not report.complete and "Minimal quorums: not answered" in report.enumeration


def test_a_time_budget_stops_the_enumerations_and_keeps_the_fallbacks() -> None:
    report = scan(_network(12), seconds=2.0)
    status = report.analyses
    assert not status["minimal_quorums"].complete and "time limit" in status["minimal_quorums"].reason
    assert status["top_tier"].complete and len(report.results["node"].top_tier) == 36
    assert report.results["node"].minimal_splitting_sets.min == 4  # two 8-of-12 majorities share 4 organizations


def test_a_network_that_needs_many_steps_completes_within_its_time() -> None:
    """No step cap by default: what a scaled step budget cut short is listed in full when the time allows."""
    report = scan(_network(6), seconds=60.0)
    assert report.complete and all(status.complete for status in report.analyses.values())
    assert report.results["node"].minimal_quorums.count == len(minimal_quorums(compile_fbas(_network(6))))


@pytest.mark.parametrize("organizations", [4, 6, 7])
def test_answers_without_the_minimal_quorums_equal_those_from_them(organizations: int) -> None:
    """On networks too large for brute force, against the analyses from the minimal quorums (held equal to brute
    force in test_analysis)."""
    compiled = compile_fbas(_network(organizations))
    minimal = minimal_quorums(compiled)
    tier = top_tier(minimal)
    assert top_tier_by_structure(compiled) == tier
    faulty = frozenset(sorted(tier)[:2])
    for down in (frozenset(), faulty):
        assert blocking_sets_by_closure(compiled, tier, down) == minimal_blocking_sets(compiled, minimal, down)


def test_blocking_sets_by_closure_stop_at_their_limits() -> None:
    compiled = compile_fbas(_network(12))
    tier = top_tier_by_structure(compiled)
    with pytest.raises(SearchLimitError, match="search steps"):
        blocking_sets_by_closure(compiled, tier, limit=Limit(steps=10_000))
    with pytest.raises(SearchLimitError, match="more than 100 minimal blocking sets"):
        blocking_sets_by_closure(compiled, tier, limit=Limit(max_listed=100))


def test_a_limit_flag_is_raised_by_its_deadline_and_by_cancellation() -> None:
    with Limit(deadline=0.0).flag() as flag:  # a deadline already past: the timer fires at once
        assert _becomes_raised(flag)
    token = CancelToken()
    with cancellable(token), Limit().flag() as flag:
        assert flag[0] == 0
        token.cancel()
        assert flag[0] == 1


def _becomes_raised(flag: np.ndarray) -> bool:
    """Whether the flag is raised (by the deadline timer's thread) within 5 s."""
    pause = threading.Event()
    for _ in range(5000):
        if flag[0]:
            return True
        pause.wait(0.001)
    return False


def test_budgets_refuse_non_positive_figures() -> None:
    with pytest.raises(ValueError, match="positive number of seconds"):
        Budget(0.0)
    with pytest.raises(ValueError, match="positive number of steps"):
        Budget(1.0, max_steps=0)


def test_the_fallbacks_share_the_time_left() -> None:
    budget = Budget(100.0)
    first, last = budget.rest(2).remaining(), budget.rest().remaining()
    assert 0 < first <= 50.0 < last <= 100.0
    assert Budget().rest(2).deadline is None
