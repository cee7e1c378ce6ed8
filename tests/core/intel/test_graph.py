"""The correlation graph: kernels held equal to plain references, a build over a small warehouse (hubs counted,
exclusions honoured, each rule's edges with premises), explanations, and properties over generated events."""

from __future__ import annotations

import json
from collections import deque
from ipaddress import IPv4Address, IPv4Network

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.intel import service, stix
from core.intel.attack.bundle import read_bundle
from core.intel.attack.store import AttackStore
from core.intel.graph import _kernels
from core.intel.graph.build import MIN_HUB_EVENTS, EventColumn, alias_key, build_graph
from core.intel.graph.explain import explain, nearest
from core.intel.graph.model import Graph
from core.intel.graph.store import ExclusionError, GraphStore
from core.intel.stix import graph_bundle
from core.intel.store import IntelStore
from core.warehouse import Warehouse
from core.warehouse.ingest import ingest_csv

FEED = """value,family
198.51.100.7,agenttesla
203.0.113.0/24,emotet
bad-domain.com,agenttesla
45.9.9.9,
"""


def adjacency_reference(src: list[int], dst: list[int], nodes: int) -> list[list[tuple[int, int]]]:
    around: list[list[tuple[int, int]]] = [[] for _ in range(nodes)]
    for e, (a, b) in enumerate(zip(src, dst, strict=True)):
        around[a].append((b, e))
        around[b].append((a, e))
    return around


def nearest_reference(around, edge_on, kind, expand, quota, start, max_depth):  # noqa: PLR0917 (the kernel's own)
    parent = [-1] * len(around)
    depth = [-1] * len(around)
    wanted = list(quota)
    left = sum(wanted)
    targets = []
    queue = deque([start])
    depth[start] = 0
    while queue and left > 0:
        v = queue.popleft()
        if depth[v] >= max_depth or (v != start and not expand[kind[v]]):
            continue
        for u, e in around[v]:
            if depth[u] >= 0 or not edge_on[e]:
                continue
            depth[u], parent[u] = depth[v] + 1, e
            queue.append(u)
            if wanted[kind[u]] > 0:
                wanted[kind[u]] -= 1
                left -= 1
                targets.append(u)
                if left == 0:
                    break
        else:
            continue
        break
    return targets, parent


graphs = st.integers(2, 30).flatmap(
    lambda n: st.tuples(
        st.just(n),
        st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=80),
        st.lists(st.integers(0, 3), min_size=n, max_size=n),
    )
)


@settings(max_examples=200, deadline=None)
@given(graphs, st.data())
def test_kernels_equal_their_references(graph, data):
    n, pairs, kinds = graph
    src = np.array([a for a, _ in pairs], np.int64)
    dst = np.array([b for _, b in pairs], np.int64)
    indptr, neighbour, via = _kernels.adjacency(src, dst, n)
    around = adjacency_reference(src.tolist(), dst.tolist(), n)
    assert [list(zip(neighbour[indptr[v] : indptr[v + 1]], via[indptr[v] : indptr[v + 1]], strict=True))
            for v in range(n)] == around  # fmt: skip
    edge_on = data.draw(st.lists(st.booleans(), min_size=len(pairs), max_size=len(pairs)))
    expand = data.draw(st.lists(st.booleans(), min_size=4, max_size=4))
    quota = data.draw(st.lists(st.integers(0, 3), min_size=4, max_size=4))
    start, depth = data.draw(st.integers(0, n - 1)), data.draw(st.integers(0, 5))
    targets, parent = _kernels.nearest_targets(
        indptr, neighbour, via, np.array(edge_on, np.bool_), np.array(kinds, np.int32), np.array(expand, np.bool_),
        np.array(quota, np.int64), start, depth,
    )  # fmt: skip
    want_targets, want_parent = nearest_reference(around, edge_on, kinds, expand, quota, start, depth)
    assert targets.tolist() == want_targets and parent.tolist() == want_parent


@pytest.fixture(scope="module")
def release(shared_data):
    return read_bundle((shared_data / "intel" / "enterprise-attack.json.gz").read_bytes(), "enterprise")


def _events(folder, name: str, ips: list[str], hosts: list[str]):
    """A CSV of events: a time, a source IP and a host name per row."""
    path = folder / f"{name}.csv"
    pd.DataFrame({"time": "2026-01-01 00:00:00", "src_ip": ips, "host": hosts}).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def small(tmp_path_factory, release) -> Warehouse:
    """Feeds (an analyst's CSV), ATT&CK v18.1, events with a listed IP, an IP in a listed network, a host under a
    listed domain, a value in most events and an excluded one, and a saved report."""
    folder = tmp_path_factory.mktemp("graph")
    wh = Warehouse(folder / "g.duckdb")
    intel = IntelStore(wh)
    service.load_upload(intel, "analyst", "analyst.csv", FEED.encode())
    AttackStore(wh).save(release, "v18.1")
    ips = ["198.51.100.7", "203.0.113.45", "10.1.2.3"] + ["192.0.2.1"] * (MIN_HUB_EVENTS + 10)
    hosts = ["example.org", "login.bad-domain.com", "intranet.local"] + ["example.net"] * (MIN_HUB_EVENTS + 10)
    ingest_csv(wh, _events(folder, "events", ips, hosts), "events")
    GraphStore(wh).set_exclusions(pd.DataFrame({"match": ["prefix"], "pattern": ["10."], "reason": ["internal"]}))
    intel.save_report(
        "phishing report",
        "We saw 198.51.100.7 in spearphishing (T1566.001).",
        pd.DataFrame({"kind": ["indicator", "technique"], "type": ["ipv4", "technique"],
                      "value": ["198.51.100.7", "T1566.001"], "confidence": [1.0, 1.0],
                      "evidence": ["named", "named"]}),
    )  # fmt: skip
    return wh


COLUMNS = [EventColumn("events", "src_ip", "ipv4"), EventColumn("events", "host", "domain")]


@pytest.fixture(scope="module")
def graph(small) -> Graph:
    return build_graph(small, COLUMNS, "v18.1", max_share=0.01)


def _check_paths(graph: Graph, paths) -> None:
    """Every path walks existing edges between consecutive nodes."""
    for path in paths:
        assert len(path.edges) == len(path.nodes) - 1
        for i, edge in enumerate(path.edges):
            assert {int(graph.src[edge]), int(graph.dst[edge])} == {path.nodes[i], path.nodes[i + 1]}


def _check_inferred(graph: Graph, release) -> None:
    """Every inferred edge names its rule and two stored premises, one touching each of its ends, and its rule
    holds for its ends (an alias: the family's name equals a name or alias the ATT&CK release gives the object)."""
    inferred = graph.edge_frame(list(range(graph.first_inferred, graph.edges)))
    nodes = graph.node_frame(list(range(graph.nodes))).set_index("id")
    names = release.objects.set_index("attack_id")
    for edge in inferred.itertuples(index=False):
        first, second = edge.premises
        assert first < graph.first_inferred and second < graph.first_inferred
        assert edge.src in (graph.src[first], graph.dst[first]) and edge.dst in (graph.src[second], graph.dst[second])
        a, b = nodes.loc[edge.src], nodes.loc[edge.dst]
        first_relation, second_relation = (
            graph.relations[graph.relation[first]],
            graph.relations[graph.relation[second]],
        )
        if edge.rule == "alias":
            assert first_relation == "listed_as" and second_relation in ("uses", "attributed-to", "subtechnique-of")
        else:
            assert first_relation in ("observed", "mentions") and second_relation == "listed_by"
        if edge.rule == "cidr":
            assert IPv4Address(a.key) in IPv4Network(b.key)
        elif edge.rule == "host":
            assert a.key.endswith("." + b.key) or f"//{b.key}" in a.key or a.key.endswith("@" + b.key)
        else:
            assert edge.rule == "alias" and a.kind == "family" and b.kind in ("software", "group")
            named = edge.evidence.split(" is named ", 1)[1]
            known = names.loc[[b.key]]
            assert named in set(known["name"]) | {x for aliases in known["aliases"] for x in aliases}
            assert alias_key(a.key) == alias_key(named)


def test_common_and_excluded_values_are_counted_not_linked(small, graph):
    attributes = GraphStore(small).attributes().set_index("value")
    assert attributes.at["192.0.2.1", "events"] == MIN_HUB_EVENTS + 10
    assert attributes.at["example.net", "reason"] == "in more than the share of events"
    assert attributes.at["10.1.2.3", "reason"] == "on the exclusion list"
    assert graph.find("192.0.2.1") is None and graph.find("10.1.2.3") is None
    assert graph.find("example.org", "domain") is not None


def test_each_rule_makes_its_edges_with_premises(graph, release):
    inferred = graph.edge_frame(list(range(graph.first_inferred, graph.edges)))
    ends = {
        (graph.node_frame([s])["key"][0], rule, graph.node_frame([d])["key"][0])
        for s, rule, d in zip(inferred["src"], inferred["rule"], inferred["dst"], strict=True)
    }
    assert ("203.0.113.45", "cidr", "203.0.113.0/24") in ends
    assert ("login.bad-domain.com", "host", "bad-domain.com") in ends
    assert ("agenttesla", "alias", "S0331") in ends and ("emotet", "alias", "S0367") in ends
    _check_inferred(graph, release)


def test_an_event_is_explained_through_indicator_family_and_software(graph):
    event = graph.find("events#0", "event")
    explanation = explain(graph, event)
    kinds = [[graph.kind_of(n) for n in p.nodes] for p in explanation.paths]
    assert ["event", "ipv4", "family", "software"] in kinds
    assert ["event", "ipv4", "family", "software", "technique"] in kinds
    assert any("is listed as family agenttesla [analyst]" in s and "Agent Tesla (S0331)" in s
               for s in explanation.sentences)  # fmt: skip
    _check_paths(graph, explanation.paths)
    report = [p for p in explanation.paths if "report" in [graph.kind_of(n) for n in p.nodes]]
    assert any(graph.node_frame([p.nodes[-1]])["key"][0] == "T1566.001" for p in report)


def test_switching_a_rule_off_removes_its_paths(graph):
    event = graph.find("events#1", "event")  # 203.0.113.45, inside the listed emotet network
    on = explain(graph, event)
    assert any("rule cidr" in s for s in on.sentences) and on.paths
    off = explain(graph, event, rules_off=frozenset({"cidr"}))
    assert not any("rule cidr" in s for s in off.sentences)
    assert len(off.paths) < len(on.paths)


def test_a_family_neighbourhood_reaches_its_indicators_and_events(graph):
    family = graph.find("agenttesla", "family")
    around = nearest(graph, family, {"event": 10, "ipv4": 10, "domain": 10}, max_depth=3)
    ends = graph.node_frame([p.nodes[-1] for p in around])
    assert {"198.51.100.7", "bad-domain.com", "events#0", "events#1"} <= set(ends["key"])
    _check_paths(graph, around)


pool = ["198.51.100.7", "203.0.113.9", "203.0.113.200", "45.9.9.9", "192.0.2.55", "10.0.0.8", "8.8.8.8"]


cases = st.tuples(
    st.lists(st.sampled_from(pool), min_size=1, max_size=120),
    st.lists(st.tuples(st.sampled_from(["exact", "prefix", "suffix", "substring"]),
                       st.sampled_from(["8.8.8.8", "10.", ".55", "113"])), max_size=3),
    st.sampled_from([0.01, 0.2, 1.0]),
    st.sets(st.sampled_from(["cidr", "host", "alias"])),
)  # fmt: skip


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cases)
def test_every_path_exists_and_every_inferred_edge_traces_to_stored_edges(small, release, tmp_path, case):
    """Generated events (listed, in a listed network, unlisted), exclusions, hub shares and rule sets."""
    ips, exclusions, share, rules = case
    name = f"gen_{abs(hash((tuple(ips), tuple(exclusions), share))) % 10**9}"
    if name not in {d.name for d in small.list_datasets()}:
        ingest_csv(small, _events(tmp_path, name, ips, ["x.example.com"] * len(ips)), name)
    GraphStore(small).set_exclusions(pd.DataFrame(exclusions, columns=["match", "pattern"]).assign(reason="test"))
    graph = build_graph(small, [EventColumn(name, "src_ip", "ipv4")], "v18.1", max_share=share, rules=frozenset(rules))
    _check_inferred(graph, release)
    assert set(graph.rule[graph.first_inferred :]) <= rules
    events = [graph.find(f"{name}#{i}", "event") for i in range(len(ips))]
    for node in [e for e in events if e is not None][:20]:
        _check_paths(graph, explain(graph, node).paths)
    linked = sum(e is not None for e in events)
    counted = GraphStore(small).attributes()
    assert linked + int(counted[counted["dataset"] == name]["events"].sum()) >= len(ips)


def test_an_explanation_exports_as_stix_with_relationships_that_say_why(graph):
    explanation = explain(graph, graph.find("events#0", "event"))
    bundle = json.loads(
        graph_bundle(graph.node_frame(explanation.node_ids()), graph.edge_frame(explanation.edge_ids()))
    )
    objects = {o["id"]: o for o in bundle["objects"]}
    relationships = [o for o in bundle["objects"] if o["type"] == "relationship"]
    assert all(r["source_ref"] in objects and r["target_ref"] in objects for r in relationships)
    by_type = {
        (objects[r["source_ref"]]["type"], r["relationship_type"], objects[r["target_ref"]]["type"])
        for r in relationships
    }
    assert ("indicator", "indicates", "malware") in by_type and ("malware", "uses", "attack-pattern") in by_type
    alias = next(r for r in relationships if r["relationship_type"] == "related-to")
    assert alias["description"].startswith("CTAS rule alias: family agenttesla is named Agent Tesla")
    report = next(o for o in bundle["objects"] if o["type"] == "report")
    assert {objects[ref]["name"] for ref in report["object_refs"]} >= {"ipv4 198.51.100.7"}
    again = stix.read_stix(json.dumps(bundle).encode(), "explanation.json").indicators
    assert "198.51.100.7" in set(again["value"])


def test_a_bad_exclusion_list_is_refused_whole_and_patterns_are_lower_cased(warehouse):
    store = GraphStore(warehouse)
    store.set_exclusions(pd.DataFrame({"match": ["suffix"], "pattern": [" .Example.COM "], "reason": ["cdn"]}))
    assert store.exclusions()["pattern"].tolist() == [".example.com"]
    for match, pattern in (("regex", "x"), ("exact", ""), ("prefix", "x" * 201), ("exact", "a\nb"), ("exact", None)):
        bad = pd.DataFrame({"match": ["exact", match], "pattern": ["ok", pattern], "reason": [None, None]})
        with pytest.raises(ExclusionError, match="Exclusion 2"):
            store.set_exclusions(bad)
        assert store.exclusions()["pattern"].tolist() == [".example.com"]
    assert store.excluded(["www.example.com", "example.org"]).tolist() == [True, False]
