"""Explanations: the shortest typed paths from an event, indicator or actor to actors and techniques, as paths and
as sentences. Inferred edges say which rule made them; switching a rule off removes its edges from every path."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.intel.graph import _kernels
from core.intel.graph.model import NOT_EXPANDED, TARGET_KINDS, Graph

MAX_DEPTH = 5  # event, indicator, network, family, software, technique: longer chains say little
PER_KIND = 3
# How a relation reads from its source to its target, and back.
PHRASES = {
    "listed_by": ("is listed by", "lists"),
    "listed_as": ("is listed as", "is the family of"),
    "observed": ("observed", "was observed in"),
    "uses": ("uses", "is used by"),
    "attributed-to": ("is attributed to", "is behind"),
    "subtechnique-of": ("is a sub-technique of", "has the sub-technique"),
    "mentions": ("mentions", "is mentioned in"),
    "describes": ("describes", "is described in"),
    "same_as": ("is", "is"),
    "inside": ("is inside", "contains"),
    "under": ("is under", "covers"),
}


@dataclass(frozen=True)
class Path:
    """Nodes from the start to a target and the edges between them (one fewer)."""

    nodes: tuple[int, ...]
    edges: tuple[int, ...]


@dataclass(frozen=True)
class Explanation:
    """The paths from one node to its nearest actors and techniques, and one sentence per path."""

    start: int
    paths: tuple[Path, ...]
    sentences: tuple[str, ...]

    def node_ids(self) -> list[int]:
        """Every node on some path, the start first."""
        return list(dict.fromkeys([self.start, *(n for p in self.paths for n in p.nodes)]))

    def edge_ids(self) -> list[int]:
        """Every edge on some path."""
        return list(dict.fromkeys(e for p in self.paths for e in p.edges))


def edge_switch(graph: Graph, rules_off: frozenset[str]) -> np.ndarray:
    """Which edges a search may use: all stored ones, and inferred ones whose rule is not switched off."""
    on = np.ones(graph.edges, bool)
    if rules_off:
        on[graph.first_inferred :] = ~np.isin(graph.rule[graph.first_inferred :], list(rules_off))
    return on


def nearest(
    graph: Graph,
    start: int,
    quotas: dict[str, int],
    *,
    rules_off: frozenset[str] = frozenset(),
    max_depth: int = MAX_DEPTH,
) -> tuple[Path, ...]:
    """Shortest paths from `start` to the nearest nodes of each kind in `quotas` (up to that many of each); feeds and
    techniques end a path, they are not walked through."""
    if not 0 <= start < graph.nodes:
        raise ValueError(f"There is no node {start} in the graph.")
    quota = np.array([quotas.get(k, 0) for k in graph.kinds], np.int64)
    expand = np.array([k not in NOT_EXPANDED for k in graph.kinds], np.bool_)
    indptr, neighbour, via = graph.adjacency
    targets, parent = _kernels.nearest_targets(
        indptr, neighbour, via, edge_switch(graph, rules_off), graph.kind, expand, quota, start, max_depth
    )
    return tuple(_path(graph, parent, int(t)) for t in targets)


def explain(
    graph: Graph,
    start: int,
    *,
    rules_off: frozenset[str] = frozenset(),
    per_kind: int = PER_KIND,
    max_depth: int = MAX_DEPTH,
) -> Explanation:
    """The shortest paths from `start` to up to `per_kind` actors (group, campaign, software) and techniques each,
    nearest first, with a sentence per path."""
    paths = nearest(graph, start, dict.fromkeys(TARGET_KINDS, per_kind), rules_off=rules_off, max_depth=max_depth)
    return Explanation(start, paths, tuple(sentence(graph, p) for p in paths))


def _path(graph: Graph, parent: np.ndarray, target: int) -> Path:
    nodes, edges = [target], []
    while parent[nodes[-1]] >= 0:
        edge = int(parent[nodes[-1]])
        edges.append(edge)
        here = nodes[-1]
        nodes.append(int(graph.src[edge] if graph.dst[edge] == here else graph.dst[edge]))
    return Path(tuple(reversed(nodes)), tuple(reversed(edges)))


def _name(graph: Graph, node: int, frame: pd.DataFrame) -> str:
    row = frame.loc[node]
    kind = graph.kind_of(node)
    if kind in ("group", "software", "campaign", "technique") and row["label"] != row["key"]:
        return f"{kind} {row['label']} ({row['key']})"
    return f"{kind} {row['label']}"


def sentence(graph: Graph, path: Path) -> str:
    """A path read out: 'event honeypot row 7 observed ipv4 1.2.3.4, which is listed as family emotet (maltrail), …'."""
    frame = graph.node_frame(list(path.nodes)).set_index("id")
    edges = graph.edge_frame(list(path.edges)).set_index("id")
    words = [_name(graph, path.nodes[0], frame)]
    for i, edge in enumerate(path.edges):
        row = edges.loc[edge]
        forward = row["src"] == path.nodes[i]
        phrase = PHRASES.get(row["relation"], (row["relation"], f"is {row['relation']} of"))[0 if forward else 1]
        why = f"rule {row['rule']}: {row['evidence']}" if row["rule"] else str(row["source"])
        words.append(f"{', which ' if i else ' '}{phrase} {_name(graph, path.nodes[i + 1], frame)} [{why}]")
    return "".join(words) + "."
