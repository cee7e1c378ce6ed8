"""History-critical sets against brute force on small FBASs, and on the 2025-01-03 Stellar snapshot."""

from __future__ import annotations

import itertools
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from core.fbas.analysis import compile_fbas, is_quorum
from core.fbas.history import history_critical_set, working_archives
from core.fbas.model import Fbas, Node, loads
from core.fbas.scan import scan
from tests.core.fbas.test_analysis import is_reference_quorum, majority_fbas, small_fbas


def _reference_cost(fbas: Fbas, working: frozenset[str], unconstrained: bool) -> int | None:
    """The fewest working archives in any quorum, by trying every set of nodes."""
    universe = sorted(set(fbas.nodes) | {m for n in fbas.nodes.values() if n.qset for m in n.qset.members()})
    qsets = {k: (fbas.nodes[k].qset if k in fbas.nodes else None) for k in universe}
    costs = [
        len(set(c) & working)
        for r in range(1, len(universe) + 1)
        for c in itertools.combinations(universe, r)
        if is_reference_quorum(qsets, frozenset(c), unconstrained)
    ]
    return min(costs, default=None)


@settings(max_examples=300, deadline=None)
@given(fbas=st.one_of(small_fbas(), majority_fbas()), data=st.data(), unconstrained=st.booleans())
def test_smallest_history_critical_set_equals_brute_force(fbas: Fbas, data: st.DataObject, unconstrained: bool) -> None:
    working = frozenset(data.draw(st.sets(st.sampled_from(sorted(fbas.nodes)))))
    compiled = compile_fbas(fbas, missing_qset="unconstrained" if unconstrained else "unsatisfiable")
    found = history_critical_set(compiled, working)
    expected = _reference_cost(fbas, working, unconstrained)
    if expected is None:
        assert found is None
        return
    assert found is not None and len(found.critical) == expected
    assert is_quorum(compiled, found.quorum) and found.critical == found.quorum & working


def test_archive_errors_follow_python_fbas_reading() -> None:
    nodes = {
        "a": Node("a", None, attrs={"historyArchiveHasError": True}),
        "b": Node("b", None, attrs={"historyArchiveHasError": False}),
        "c": Node("c", None),  # field missing: counted as an error
    }
    assert working_archives(Fbas(nodes=nodes)) == {"b"}
    assert working_archives(Fbas(nodes={"c": Node("c", None)})) is None


def test_the_2025_network_and_its_history_critical_set(shared_data: Path) -> None:
    folder = shared_data / "fbas" / "python-fbas"
    fbas = loads(
        (folder / "network-2025-01-03.json").read_text(), (folder / "organizations-2025-01-03.json").read_text()
    )
    working = working_archives(fbas)
    assert len(fbas.nodes) - len(working) == 22  # archive errors
    compiled = compile_fbas(fbas)
    found = history_critical_set(compiled, working)
    assert is_quorum(compiled, found.quorum)
    assert found.critical == found.quorum & working and 0 < len(found.critical) < len(found.quorum)
    report = scan(fbas, merges=("node", "organization"))
    by_node, by_org = (report.results[m].history_critical_set for m in ("node", "organization"))
    assert by_node.size == len(found.critical) and by_node.reason is None
    assert set(by_org.groups) == {fbas.organizations.get(k, k) for k in by_node.nodes}
