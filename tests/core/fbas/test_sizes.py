"""Smallest answers without enumeration: equal to the scanner's minimum sizes and to brute force."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.fbas.analysis import SearchLimitError, compile_fbas, max_quorum
from core.fbas.model import Fbas, Node, QuorumSet, loads
from core.fbas.sizes import has_quorum_intersection, smallest_blocking_set, smallest_splitting_set
from core.fbas.synthetic import almost_symmetric
from tests.core.fbas.test_analysis import (
    CASES,
    EXPECTED,
    KEYS,
    _reference_blocking_sets,
    _reference_minimal_quorums,
    _reference_splitting_sets,
    majority_fbas,
    tiny_fbas,
)


@pytest.mark.parametrize("name", CASES)
def test_smallest_sizes_match_the_scanner(name: str, shared_data: Path) -> None:
    expected = EXPECTED[name]
    fbas = loads((shared_data / "fbas" / name).read_bytes())
    compiled = compile_fbas(fbas, stellarbeat_parity=True)
    faulty = frozenset(k for k, node in fbas.nodes.items() if node.is_validating is False)
    assert has_quorum_intersection(compiled) == expected["quorum_intersection"]
    splitting = smallest_splitting_set(compiled)
    assert (len(splitting) if splitting is not None else 0) == expected["mss"]["min"]
    blocking = smallest_blocking_set(compiled, faulty)
    assert (len(blocking) if blocking is not None else 0) == expected["mbs"]["min"]


@settings(max_examples=150, deadline=None)
@given(fbas=st.one_of(tiny_fbas(), majority_fbas()), faulty=st.sets(st.sampled_from(KEYS), max_size=1))
def test_smallest_sizes_equal_brute_force(fbas: Fbas, faulty: set[str]) -> None:
    compiled = compile_fbas(fbas)
    minimal = _reference_minimal_quorums(fbas, unconstrained=False)
    disjoint = any(not a & b for i, a in enumerate(minimal) for b in minimal[i + 1 :])
    assert has_quorum_intersection(compiled) == (bool(minimal) and not disjoint)
    splitting = _reference_splitting_sets(fbas)
    found = smallest_splitting_set(compiled)
    assert (None if found is None else len(found)) == (min(map(len, splitting)) if splitting else None)
    blocking = _reference_blocking_sets(minimal, frozenset(faulty))
    found = smallest_blocking_set(compiled, frozenset(faulty))
    assert (None if found is None else len(found)) == (min(map(len, blocking)) if blocking else None)


@st.composite
def ring_fbas(draw: st.DrawFn) -> Fbas:
    """Each node trusts a few of the nodes after it on a ring: without one node, quorums fall one per round."""
    keys = [f"r{i}" for i in range(draw(st.integers(min_value=3, max_value=10)))]
    nodes = {}
    for i, key in enumerate(keys):
        width = draw(st.integers(min_value=1, max_value=3))
        members = tuple(keys[(i + step) % len(keys)] for step in range(1, width + 1))
        nodes[key] = Node(key, QuorumSet(draw(st.integers(min_value=1, max_value=width)), members))
    return Fbas(nodes=nodes)


@settings(max_examples=60, deadline=None)
@given(fbas=ring_fbas())
def test_smallest_blocking_set_on_rings_equals_brute_force(fbas: Fbas) -> None:
    blocking = _reference_blocking_sets(_reference_minimal_quorums(fbas, unconstrained=False), frozenset())
    assert len(smallest_blocking_set(compile_fbas(fbas))) == min(map(len, blocking))


def test_a_ring_of_twelve_is_blocked_by_one_node_after_eleven_rounds() -> None:
    keys = [f"r{i}" for i in range(12)]
    fbas = Fbas(nodes={k: Node(k, QuorumSet(1, (keys[(i + 1) % 12],))) for i, k in enumerate(keys)})
    assert len(smallest_blocking_set(compile_fbas(fbas))) == 1


@pytest.mark.parametrize("organizations", [10, 16])
def test_synthetic_networks_answer_where_enumeration_explodes(organizations: int) -> None:
    """Every node asks for two thirds of the organizations, so blocking takes all but that many minus one
    organizations, two of three validators each; the deletions make single nodes easier, never the network."""
    compiled = compile_fbas(loads(json.dumps(almost_symmetric(organizations, deletions=3, seed=organizations))))
    assert has_quorum_intersection(compiled)
    outvoted = organizations - math.ceil(2 * organizations / 3) + 1
    assert len(smallest_splitting_set(compiled)) == outvoted  # two two-thirds majorities share this many
    blocking = smallest_blocking_set(compiled)
    assert len(blocking) == 2 * outvoted
    assert not max_quorum(compiled, frozenset(compiled.keys) - blocking)


def test_smallest_blocking_set_gives_up_at_its_time_limit() -> None:
    compiled = compile_fbas(loads(json.dumps(almost_symmetric(16, deletions=3, seed=16))))
    with pytest.raises(SearchLimitError, match="time limit"):
        smallest_blocking_set(compiled, seconds=0.0)


def test_smallest_splitting_set_gives_up_at_its_time_limit() -> None:
    compiled = compile_fbas(loads(json.dumps(almost_symmetric(16, deletions=3, seed=16))))
    for seconds in (0.0, 1e-4):  # past before the first call, and interrupted inside one
        with pytest.raises(SearchLimitError, match="smallest splitting set was not found within the time limit"):
            smallest_splitting_set(compiled, seconds=seconds)
    assert len(smallest_splitting_set(compiled, seconds=600.0)) == len(smallest_splitting_set(compiled))
