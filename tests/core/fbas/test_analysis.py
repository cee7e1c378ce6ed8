"""Quorum analyses: the stellarbeat scanner's answers on real snapshots, and a brute-force reference on small FBASs."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.fbas import analysis
from core.fbas.analysis import (
    SearchLimitError,
    _hitting_sets_reference,
    canonical,
    compile_fbas,
    is_quorum,
    max_quorum,
    merge_sets,
    minimal_blocking_sets,
    minimal_quorums,
    quorum_intersection,
    symmetric_top_tier,
    top_tier,
)
from core.fbas.budget import Limit
from core.fbas.model import Fbas, Node, QuorumSet, loads
from core.fbas.splitting import minimal_splitting_sets
from core.fbas.symmetric import shared_qset
from tests.conftest import SHARED_DATA

EXPECTED = json.loads((SHARED_DATA / "fbas" / "expected_wasm_dev.json").read_text())
CASES = sorted(name for name in EXPECTED if name != "_about")
ORGANIZATIONS = {
    "fbas_analyzer/stellarbeat_nodes_2019-09-17.json": "fbas_analyzer/stellarbeat_organizations_2019-09-17.json",
    "python-fbas/network-2025-01-03.json": "python-fbas/organizations-2025-01-03.json",
    "nodejs_fbas_analyzer/nodes.json": "nodejs_fbas_analyzer/organizations.json",
}


def _load(name: str) -> Fbas:
    folder = SHARED_DATA / "fbas"
    organizations = (folder / ORGANIZATIONS[name]).read_bytes() if name in ORGANIZATIONS else None
    return loads((folder / name).read_bytes(), organizations)


def _qset_from_json(raw: dict) -> QuorumSet:
    inner = tuple(_qset_from_json(c) for c in raw.get("innerQuorumSets", []))
    return QuorumSet(raw["threshold"], tuple(raw["validators"]), inner)


def _summary(sets: list[frozenset[str]]) -> tuple[int, int]:
    return len(sets), min((len(s) for s in sets), default=0)


@pytest.mark.parametrize("name", CASES)
def test_matches_the_stellarbeat_scanner(name: str, shared_data: Path) -> None:
    expected = EXPECTED[name]
    fbas = _load(name)
    compiled = compile_fbas(fbas, stellarbeat_parity=True)
    minimal = minimal_quorums(compiled)
    assert len(minimal) == expected["mq"]["count"]
    assert min((len(q) for q in minimal), default=0) == expected["mq"]["min"]
    assert len(top_tier(minimal)) == expected["top_tier_size"]
    result = quorum_intersection(compiled, minimal)
    assert result.intersects == expected["quorum_intersection"]
    if result.witness is not None:
        first, second = result.witness
        assert not first & second
        assert is_quorum(compiled, first) and is_quorum(compiled, second)
    symmetric = symmetric_top_tier(fbas, top_tier(minimal), compiled.removed)
    expected_symmetric = expected["symmetric_top_tier"]
    assert (symmetric is None) == (expected_symmetric is None)
    if symmetric is not None:
        assert symmetric == canonical(_qset_from_json(expected_symmetric))
    faulty = frozenset(k for k, node in fbas.nodes.items() if node.is_validating is False)
    blocking = minimal_blocking_sets(compiled, minimal, faulty)
    assert _summary(blocking) == (expected["mbs"]["count"], expected["mbs"]["min"])
    for merge, figures in expected.get("merged", {}).items():

        def group(key: str, merge: str = merge) -> str:
            return fbas.group_of(key, merge) or key

        assert len({group(k) for k in top_tier(minimal)}) == figures["top_tier_size"], merge
        assert _summary(merge_sets(blocking, group)) == (figures["mbs"]["count"], figures["mbs"]["min"]), merge


def test_parity_mode_removes_self_quorums_and_says_so(shared_data: Path) -> None:
    fbas = loads((shared_data / "fbas" / "fbas_analyzer" / "broken_trivial.json").read_bytes())
    plain = compile_fbas(fbas)
    assert not quorum_intersection(plain).intersects  # two disjoint quorums exist as written
    parity = compile_fbas(fbas, stellarbeat_parity=True)
    assert len(parity.removed) == 1
    assert quorum_intersection(parity).intersects


def test_missing_quorum_sets_read_both_ways(shared_data: Path) -> None:
    folder = shared_data / "fbas" / "python-fbas"
    one = compile_fbas(loads((folder / "missing_1.json").read_bytes()))
    assert minimal_quorums(one) == []  # PK3 has no quorum set, and PK1 and PK2 need it
    one = compile_fbas(loads((folder / "missing_1.json").read_bytes()), missing_qset="unconstrained")
    assert minimal_quorums(one) == [frozenset({"PK1", "PK3"}), frozenset({"PK2", "PK3"})]
    assert quorum_intersection(one).intersects  # both lean on PK3
    two = compile_fbas(loads((folder / "missing_2.json").read_bytes()), missing_qset="unconstrained")
    assert quorum_intersection(two).witness == (frozenset({"PK1", "PK3"}), frozenset({"PK2", "PK4"}))
    lone = compile_fbas(Fbas(nodes={"a": Node("a", None)}), missing_qset="unconstrained")
    assert minimal_quorums(lone) == []  # no quorum is made of nodes without a quorum set alone


# -- brute-force reference ------------------------------------------------------------------------------------------
def _satisfied(qset: QuorumSet | None, members: frozenset[str], unconstrained: bool) -> bool:
    if qset is None:
        return unconstrained
    met = sum(v in members for v in qset.validators) + sum(_satisfied(c, members, False) for c in qset.inner)
    return met >= qset.threshold


def _reference_minimal_quorums(fbas: Fbas, unconstrained: bool) -> list[frozenset[str]]:
    universe = set(fbas.nodes) | {m for n in fbas.nodes.values() if n.qset for m in n.qset.members()}
    qsets = {k: (fbas.nodes[k].qset if k in fbas.nodes else None) for k in universe}
    quorums = [
        frozenset(c)
        for r in range(1, len(universe) + 1)
        for c in itertools.combinations(sorted(universe), r)
        if is_reference_quorum(qsets, frozenset(c), unconstrained)
    ]
    return sorted((q for q in quorums if not any(o < q for o in quorums)), key=lambda q: (len(q), sorted(q)))


def is_reference_quorum(qsets: dict[str, QuorumSet | None], nodes: frozenset[str], unconstrained: bool) -> bool:
    """Every member satisfied; read unconstrained, a node without a quorum set always is, but one with a quorum set
    must be among the members (python-fbas)."""
    if unconstrained and all(qsets[k] is None for k in nodes):
        return False
    return all(_satisfied(qsets[k], nodes, unconstrained) for k in nodes)


KEYS = ["a", "b", "c", "d", "e", "f"]


@st.composite
def qsets(draw: st.DrawFn, depth: int = 0) -> QuorumSet:
    validators = tuple(draw(st.lists(st.sampled_from([*KEYS, "x"]), max_size=4, unique=True)))
    inner = tuple(draw(st.lists(qsets(depth + 1), max_size=2))) if depth < 1 else ()
    threshold = draw(st.integers(min_value=0, max_value=len(validators) + len(inner) + 1))
    return QuorumSet(threshold, validators, inner)


@st.composite
def small_fbas(draw: st.DrawFn) -> Fbas:
    count = draw(st.integers(min_value=1, max_value=len(KEYS)))
    nodes = {k: Node(k, draw(st.none() | qsets())) for k in KEYS[:count]}
    return Fbas(nodes=nodes)


@st.composite
def majority_fbas(draw: st.DrawFn) -> Fbas:
    """Nodes trusting most of the others with a threshold above half: intersecting, with real splitting sets."""
    keys = KEYS[: draw(st.integers(min_value=3, max_value=5))]
    nodes = {}
    for key in keys:
        members = draw(st.lists(st.sampled_from(keys), min_size=len(keys) - 1, max_size=len(keys), unique=True))
        threshold = draw(st.integers(min_value=len(members) // 2 + 1, max_value=len(members)))
        inner = (QuorumSet(1, (key,)),) if draw(st.booleans()) else ()
        nodes[key] = Node(key, QuorumSet(threshold, tuple(members), inner))
    return Fbas(nodes=nodes)


@settings(max_examples=300, deadline=None)
@given(fbas=st.one_of(small_fbas(), majority_fbas()), word_bits=st.sampled_from([64, 0]))
def test_minimal_quorums_equal_brute_force(fbas: Fbas, word_bits: int) -> None:
    compiled = compile_fbas(fbas)
    expected = _reference_minimal_quorums(fbas, unconstrained=False)
    assert minimal_quorums(compiled, word_bits=word_bits) == expected  # 0: the general (byte mask) kernel
    union = frozenset().union(*expected) if expected else frozenset()
    assert max_quorum(compiled) >= union
    disjoint = any(not a & b for a, b in itertools.combinations(expected, 2))
    assert quorum_intersection(compiled, expected).intersects == (bool(expected) and not disjoint)


def _reference_blocking_sets(minimal: list[frozenset[str]], faulty: frozenset[str]) -> list[frozenset[str]]:
    family = [q for q in minimal if not q & faulty]
    if not minimal:
        return []
    if not family:
        return [frozenset()]
    nodes = sorted(frozenset().union(*family))
    hitting = [
        frozenset(c)
        for r in range(1, len(nodes) + 1)
        for c in itertools.combinations(nodes, r)
        if all(q & set(c) for q in family)
    ]
    return sorted((h for h in hitting if not any(o < h for o in hitting)), key=lambda h: (len(h), sorted(h)))


@settings(max_examples=300, deadline=None)
@given(fbas=st.one_of(small_fbas(), majority_fbas()), faulty=st.sets(st.sampled_from(KEYS), max_size=2))
def test_blocking_sets_equal_brute_force(fbas: Fbas, faulty: set[str]) -> None:
    minimal = _reference_minimal_quorums(fbas, unconstrained=False)
    expected = _reference_blocking_sets(minimal, frozenset(faulty))
    assert minimal_blocking_sets(compile_fbas(fbas), minimal, frozenset(faulty)) == expected
    assert minimal_blocking_sets(compile_fbas(fbas), minimal, frozenset(faulty), family_scan=0) == expected
    family = [q for q in minimal if not q & frozenset(faulty)]
    if family:  # the plain-set fallback used beyond 64 top-tier nodes
        assert _hitting_sets_reference(family) == expected


def test_merging_keeps_minimal_group_sets() -> None:
    groups = {"a1": "A", "a2": "A", "b1": "B", "c1": "C"}
    sets = [frozenset({"a1", "b1"}), frozenset({"a2", "b1"}), frozenset({"a1", "a2"}), frozenset({"a1", "b1", "c1"})]
    assert merge_sets(sets, groups.__getitem__) == [frozenset({"A"})]
    assert merge_sets([frozenset({"a1", "c1"}), frozenset({"b1"})], groups.__getitem__) == [
        frozenset({"B"}),
        frozenset({"A", "C"}),
    ]


def _reference_splitting_sets(fbas: Fbas) -> list[frozenset[str]]:
    """The definition, by brute force: Byzantine S, honest disjoint sides A and B in the consensus cluster."""
    qsets = {k: n.qset for k, n in fbas.nodes.items()}
    universe = set(qsets) | {m for q in qsets.values() if q for m in q.members()}
    qsets = {k: qsets.get(k) for k in universe}

    def closed(side: frozenset[str], helpers: frozenset[str], within: frozenset[str]) -> bool:
        present = (side | helpers) & within
        return all(_satisfied(qsets[k], present, False) for k in side)

    everyone = frozenset(universe)
    quorum_nodes = frozenset().union(*_reference_minimal_quorums(fbas, unconstrained=False) or [frozenset()])
    biggest = max(
        (
            frozenset(c)
            for r in range(1, len(universe) + 1)
            for c in itertools.combinations(sorted(universe), r)
            if closed(frozenset(c), frozenset(), everyone)
        ),
        key=len,
        default=frozenset(),
    )
    graph = nx.DiGraph()
    graph.add_nodes_from(biggest)
    graph.add_edges_from((k, m) for k in biggest for m in qsets[k].members() if m in biggest)
    clusters = [frozenset(c) for c in nx.strongly_connected_components(graph) if frozenset(c) & quorum_nodes]
    if not clusters:
        return []
    if len(clusters) > 1:
        return [frozenset()]
    cluster = sorted(clusters[0])
    splitting = []
    for r in range(len(cluster) + 1):
        for byzantine in map(frozenset, itertools.combinations(cluster, r)):
            honest = [k for k in cluster if k not in byzantine]
            for sides in itertools.product((0, 1, 2), repeat=len(honest)):
                a = frozenset(k for k, side in zip(honest, sides, strict=True) if side == 1)
                b = frozenset(k for k, side in zip(honest, sides, strict=True) if side == 2)
                within = frozenset(cluster)
                if a and b and closed(a, byzantine, within) and closed(b, byzantine, within):
                    splitting.append(byzantine)
                    break
    return sorted((s for s in set(splitting) if not any(o < s for o in splitting)), key=lambda s: (len(s), sorted(s)))


@st.composite
def tiny_fbas(draw: st.DrawFn) -> Fbas:
    count = draw(st.integers(min_value=1, max_value=5))
    return Fbas(nodes={k: Node(k, draw(st.none() | qsets())) for k in KEYS[:count]})


@settings(max_examples=200, deadline=None)
@given(fbas=st.one_of(tiny_fbas(), majority_fbas()))
def test_splitting_sets_equal_brute_force(fbas: Fbas) -> None:
    assert minimal_splitting_sets(compile_fbas(fbas)) == _reference_splitting_sets(fbas)


def test_merged_quorum_sets_read_over_groups() -> None:
    from core.fbas.analysis import merge_qset

    groups = {"a1": "A", "a2": "A", "b1": "B", "b2": "B", "c1": "C"}
    qset = QuorumSet(2, ("c1",), (QuorumSet(1, ("a1", "a2")), QuorumSet(2, ("b1", "b2", "a1"))))
    merged = merge_qset(qset, groups.__getitem__)
    assert merged.to_json() == {  # A's own set becomes A; the mixed set stays a set, duplicates counted
        "threshold": 2,
        "validators": ["A", "C"],
        "innerQuorumSets": [{"threshold": 2, "validators": ["A", "B", "B"], "innerQuorumSets": []}],
    }


def test_splitting_enumeration_stops_at_its_sat_call_budget(shared_data: Path) -> None:
    from core.fbas.scan import scan
    from core.fbas.splitting import minimal_splitting_sets

    fbas = _load("fbas_analyzer/stellarbeat_nodes_2019-09-17.json")  # 378 minimal splitting sets
    compiled = compile_fbas(fbas, stellarbeat_parity=True)
    with pytest.raises(SearchLimitError, match="Stopped after 50 SAT calls"):
        minimal_splitting_sets(compiled, max_solves=50)
    assert len(minimal_splitting_sets(compiled, max_solves=100_000)) == 378
    report = scan(fbas, stellarbeat_parity=True, max_steps=200_000)  # 200 SAT calls
    splitting = report.analyses["minimal_splitting_sets"]
    assert not splitting.complete and splitting.fallback == "smallest set only" and "SAT calls" in splitting.reason
    assert report.results["node"].minimal_splitting_sets.min == 3  # the smallest, found without listing
    assert report.analyses["minimal_quorums"].complete and report.analyses["minimal_blocking_sets"].complete
    assert report.results["node"].minimal_blocking_sets.count is not None  # the others are not held back


@settings(max_examples=300, deadline=None)
@given(fbas=small_fbas(), faulty=st.sets(st.sampled_from(KEYS), max_size=1))
def test_unconstrained_reading_equals_brute_force(fbas: Fbas, faulty: set[str]) -> None:
    compiled = compile_fbas(fbas, missing_qset="unconstrained")
    expected = _reference_minimal_quorums(fbas, unconstrained=True)
    assert minimal_quorums(compiled) == expected
    disjoint = any(not a & b for a, b in itertools.combinations(expected, 2))
    assert quorum_intersection(compiled, expected).intersects == (bool(expected) and not disjoint)
    blocking = _reference_blocking_sets(expected, frozenset(faulty))
    assert minimal_blocking_sets(compiled, expected, frozenset(faulty)) == blocking


@settings(max_examples=150, deadline=None)
@given(fbas=tiny_fbas())
def test_unconstrained_splitting_sets_equal_brute_force(fbas: Fbas) -> None:
    """The reading spelled out as quorum sets: a node without one needs one node that has one."""
    assert minimal_splitting_sets(compile_fbas(fbas, missing_qset="unconstrained")) == _reference_splitting_sets(
        spelled_out(fbas)
    )


def spelled_out(fbas: Fbas) -> Fbas:
    universe = set(fbas.nodes) | {m for n in fbas.nodes.values() if n.qset for m in n.qset.members()}
    with_qset = tuple(sorted(k for k in universe if k in fbas.nodes and fbas.nodes[k].qset is not None))
    qset = {k: fbas.nodes[k].qset if k in fbas.nodes else None for k in universe}
    return Fbas(nodes={k: Node(k, QuorumSet(1, with_qset) if qset[k] is None else qset[k]) for k in sorted(universe)})


@pytest.mark.parametrize("split", [2, 64])
def test_searches_shared_among_threads_find_what_one_thread_finds(
    shared_data: Path, monkeypatch: pytest.MonkeyPatch, split: int
) -> None:
    folder = shared_data / "fbas" / "python-fbas"
    fbas = loads(
        (folder / "network-2025-01-03.json").read_bytes(), (folder / "organizations-2025-01-03.json").read_bytes()
    )
    compiled = compile_fbas(fbas, stellarbeat_parity=True)
    faulty = frozenset(k for k, node in fbas.nodes.items() if node.is_validating is False)
    monkeypatch.setattr(analysis, "shared_qset", lambda part: None)  # the search kernels, not the products
    monkeypatch.setattr(analysis, "THREADS", 1)
    alone = minimal_quorums(compiled)
    alone_blocking = minimal_blocking_sets(compiled, alone, faulty)
    monkeypatch.setattr(analysis, "THREADS", 3)
    monkeypatch.setattr(analysis, "SPLIT_STATES", split)
    shared = minimal_quorums(compiled)
    assert len(shared) == 13_608 and shared == alone
    assert minimal_blocking_sets(compiled, shared, faulty) == alone_blocking and len(alone_blocking) == 1_890


@st.composite
def symmetric_fbas(draw: st.DrawFn) -> Fbas:
    """A symmetric top tier (every node has the same quorum set, each validator named once), and maybe a node
    outside it that trusts it."""
    names = iter("abcdefghijk")
    inner = []
    for size in draw(st.lists(st.integers(min_value=1, max_value=3), max_size=3)):
        members = tuple(next(names) for _ in range(size))
        inner.append(QuorumSet(draw(st.integers(min_value=1, max_value=size)), members))
    validators = tuple(next(names) for _ in range(draw(st.integers(min_value=0 if inner else 1, max_value=2))))
    qset = QuorumSet(draw(st.integers(min_value=1, max_value=len(validators) + len(inner))), validators, tuple(inner))
    nodes = {k: Node(k, qset) for k in sorted(qset.members())}
    if draw(st.booleans()):
        nodes["z"] = Node("z", QuorumSet(1, (min(nodes),)))
    return Fbas(nodes=nodes)


@settings(max_examples=150, deadline=None)
@given(fbas=symmetric_fbas(), faulty=st.sets(st.sampled_from(["a", "c", "z"]), max_size=1))
def test_symmetric_top_tiers_as_products_equal_the_search_and_brute_force(fbas: Fbas, faulty: set[str]) -> None:
    compiled = compile_fbas(fbas)
    (cluster,) = analysis.quorum_clusters(compiled)
    assert shared_qset(analysis.restrict(compiled, compiled.keys_of(cluster))) is not None
    expected = _reference_minimal_quorums(fbas, unconstrained=False)
    blocking = _reference_blocking_sets(expected, frozenset(faulty))
    assert minimal_quorums(compiled) == expected
    assert minimal_blocking_sets(compiled, expected, frozenset(faulty)) == blocking
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(analysis, "shared_qset", lambda part: None)
        assert minimal_quorums(compiled) == expected
        assert minimal_blocking_sets(compiled, expected, frozenset(faulty)) == blocking


def test_symmetric_products_beyond_the_step_budget_stop() -> None:
    organizations = [QuorumSet(2, tuple(f"o{o}v{v}" for v in range(3))) for o in range(12)]
    qset = QuorumSet(8, (), tuple(organizations))
    compiled = compile_fbas(Fbas(nodes={k: Node(k, qset) for k in sorted(qset.members())}))
    with pytest.raises(SearchLimitError, match="3,247,695 sets to list"):  # C(12, 8) x 3^8
        minimal_quorums(compiled, limit=Limit(steps=1_000_000))
