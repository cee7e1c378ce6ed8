"""Smallest answers without enumeration: equal to the scanner's minimum sizes and to brute force."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.fbas.analysis import SearchLimitError, compile_fbas
from core.fbas.model import Fbas, loads
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


def test_synthetic_networks_answer_where_enumeration_explodes() -> None:
    compiled = compile_fbas(loads(json.dumps(almost_symmetric(16, deletions=3, seed=16))))
    assert has_quorum_intersection(compiled)
    assert len(smallest_splitting_set(compiled)) == 6  # two 11-of-16 majorities share at least 6 organizations
    with pytest.raises(SearchLimitError, match="time limit"):
        smallest_blocking_set(compiled, seconds=0.5)
