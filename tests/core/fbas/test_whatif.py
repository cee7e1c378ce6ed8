"""What-if edits: applying them, checking quorum-set JSON, serialising the FBAS and saved scenarios."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.fbas.graph import ring_layout, topology_figure
from core.fbas.model import Fbas, FbasFormatError, Node, QuorumSet, loads
from core.fbas.scan import scan
from core.fbas.signals import worse_signals
from core.fbas.store import ScenarioStore
from core.fbas.whatif import (
    AddNode,
    Offline,
    RemoveNodes,
    SetQuorumSet,
    apply_edits,
    diff_frame,
    offline_nodes,
    qset_from_json,
    scenario_from_payload,
    scenario_payload,
    to_stellarbeat_json,
)
from core.warehouse import Warehouse, WarehouseError


@pytest.fixture(scope="module")
def stellar_2019(shared_data: Path):
    folder = shared_data / "fbas" / "fbas_analyzer"
    return loads(
        (folder / "stellarbeat_nodes_2019-09-17.json").read_bytes(),
        (folder / "stellarbeat_organizations_2019-09-17.json").read_bytes(),
    )


def test_edits_leave_the_original_alone_and_replay_in_order(stellar_2019) -> None:
    sdf = [k for k, org in stellar_2019.organizations.items() if org == "Stellar Development Foundation"]
    some = stellar_2019.validators[0]
    edits = [Offline(tuple(sdf)), SetQuorumSet(some, QuorumSet(1, (some,)))]
    edited = apply_edits(stellar_2019, edits)
    assert all(edited.nodes[k].qset is None for k in sdf)
    assert all(stellar_2019.nodes[k].qset is not None for k in sdf if k in stellar_2019.validators)
    assert edited.nodes[some].qset == QuorumSet(1, (some,))
    before, after = (scan(f, stellarbeat_parity=True).results["node"].headline() for f in (stellar_2019, edited))
    diff = diff_frame(before, after).set_index("figure")
    assert diff.loc["Top tier size", "before"] == "17"
    assert diff.loc["Top tier size", "changed"] == "yes"


def test_serialised_fbas_reads_back_the_same(stellar_2019) -> None:
    again = loads(to_stellarbeat_json(stellar_2019))
    assert {k: n.qset for k, n in again.nodes.items()} == {k: n.qset for k, n in stellar_2019.nodes.items()}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "not valid JSON"),
        ("[1, 2]", "must be an object"),
        ('{"threshold": 0, "validators": ["a"]}', "at least 1"),
        ('{"threshold": 2, "validators": ["a"]}', "could never be met"),
        ('{"threshold": 1, "validators": [1]}', "list of public keys"),
    ],
)
def test_bad_quorum_set_json_is_explained(text: str, message: str) -> None:
    with pytest.raises(FbasFormatError, match=message):
        qset_from_json(text)


def test_scenarios_round_trip_through_the_warehouse(stellar_2019, warehouse: Warehouse) -> None:
    edits = [Offline(("GABMKJM6I25XI4K7U6XWMULOUQIQ27BCTMLS6BYYSOWKTBUXVRJSXHYQ",))]
    ScenarioStore(warehouse).save("fbas", "  SDF 1  offline ", scenario_payload(stellar_2019, edits, "2019 snapshot"))
    assert [name for name, _ in ScenarioStore(warehouse).names("fbas")] == ["SDF 1 offline"]
    base, restored, source = scenario_from_payload(ScenarioStore(warehouse).load("fbas", "SDF 1 offline"))
    assert (restored, source) == (edits, "2019 snapshot")
    assert base.organizations == stellar_2019.organizations
    assert apply_edits(base, restored).nodes[edits[0].keys[0]].qset is None
    with pytest.raises(WarehouseError, match="exists already"):
        ScenarioStore(warehouse).save("fbas", "SDF 1 offline", "{}")
    with pytest.raises(WarehouseError, match="1 to 80 characters"):
        ScenarioStore(warehouse).save("fbas", "   ", "{}")
    with pytest.raises(WarehouseError, match="no saved scenario"):
        ScenarioStore(warehouse).load("fbas", "missing")
    assert ScenarioStore(warehouse).names("other kind") == []


def test_nodes_can_be_removed_and_added(stellar_2019) -> None:
    sdf = tuple(k for k, org in stellar_2019.organizations.items() if org == "Stellar Development Foundation")
    removed = apply_edits(stellar_2019, [RemoveNodes(sdf)])
    assert not set(sdf) & set(removed.nodes)
    assert not set(sdf) & set(removed.organizations)
    copy_of = removed.nodes[removed.validators[0]].qset
    added = apply_edits(removed, [AddNode("NEW", copy_of, "New Org")])
    assert added.nodes["NEW"].qset == copy_of
    assert added.group_of("NEW", "organization") == "New Org"
    with pytest.raises(FbasFormatError, match="exists already"):
        apply_edits(added, [AddNode("NEW", copy_of)])
    edits = [RemoveNodes(sdf), AddNode("NEW", copy_of, "New Org"), Offline(("NEW",))]
    _, restored, _ = scenario_from_payload(scenario_payload(stellar_2019, edits, "2019"))
    assert restored == edits


def test_offline_nodes_are_those_not_brought_back() -> None:
    qset = QuorumSet(1, ("a",))
    edits = [Offline(("a", "b", "c")), SetQuorumSet("b", qset), RemoveNodes(("c",)), Offline(("d",))]
    assert offline_nodes(edits) == {"a", "d"}
    assert offline_nodes([]) == frozenset()


def test_offline_nodes_are_drawn_apart_on_the_graph() -> None:
    base = Fbas(nodes={k: Node(k, QuorumSet(2, ("a", "b", "c"))) for k in "abc"})
    fbas = apply_edits(base, [Offline(("c",))])  # c keeps its entry but has no quorum set any more
    positions = ring_layout(base, frozenset("abc"))  # the page places nodes from the unedited network
    figure = topology_figure(fbas, frozenset("ab"), positions=positions, offline=frozenset("c"))
    offline = [t for t in figure.data if t.name == "offline (what-if)"]
    assert len(offline) == 1 and len(offline[0].x) == 1 and offline[0].marker.symbol == "x-thin-open"
    drawn = [t for t in figure.data if t.mode == "markers+text" and t.name != "offline (what-if)"]
    assert sum(len(t.x) for t in drawn) == 2  # a and b, each once; c only among the offline


def test_a_scenario_that_takes_the_top_organizations_offline_is_a_worse_finding(stellar_2019) -> None:
    before = scan(stellar_2019, stellarbeat_parity=True, merges=["organization"]).results["organization"]
    blocking = before.minimal_blocking_sets.sets[0]
    members = [k for k, org in stellar_2019.organizations.items() if org in blocking[:1]]
    after_fbas = apply_edits(stellar_2019, [Offline(tuple(members))])
    after = scan(after_fbas, stellarbeat_parity=True, merges=["organization"]).results["organization"]
    signals = worse_signals("one top organization offline", before, after)
    assert after.minimal_blocking_sets.min < before.minimal_blocking_sets.min
    blocking_signal = next(s for s in signals if s.rule == "smaller blocking set")
    assert blocking_signal.severity == "high" and blocking_signal.link.startswith("fbas?scenario=one+top")
    assert {e.value for e in blocking_signal.entities} == set(after.minimal_blocking_sets.sets[0])
    assert worse_signals("nothing changed", before, before) == []
