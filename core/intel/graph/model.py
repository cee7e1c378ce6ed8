"""The correlation graph in memory: typed nodes, stored and inferred edges, and their adjacency."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from core.intel.graph import _kernels

ACTOR_KINDS = ("group", "campaign", "software")
TARGET_KINDS = (*ACTOR_KINDS, "technique")
NOT_EXPANDED = ("feed", "technique")  # a feed lists millions; a technique is used by hundreds: both end a path


@dataclass(frozen=True)
class Graph:
    """Nodes 0…n-1 (kind, key, label) and edges 0…m-1 (src, dst, relation, source); edges from `first_inferred` on
    were made by a rule and name two stored `premises` (edge ids) and their `evidence`."""

    kind: np.ndarray  # int32 code per node
    kinds: tuple[str, ...]
    keys: pa.Array
    labels: pa.Array
    src: np.ndarray
    dst: np.ndarray
    relation: np.ndarray  # int32 code per edge
    relations: tuple[str, ...]
    source: pa.Array
    rule: np.ndarray  # "" for a stored edge
    premises: np.ndarray  # (m, 2) stored edge ids; -1 for a stored edge
    evidence: np.ndarray  # "" for a stored edge
    first_inferred: int
    adjacency: tuple[np.ndarray, np.ndarray, np.ndarray] = field(repr=False)

    @classmethod
    def from_tables(cls, nodes: pa.Table, edges: pa.Table, inferred: pa.Table) -> Graph:
        """From `GraphStore.assemble`'s tables."""
        kind, kinds = pd.factorize(nodes["kind"].to_numpy(zero_copy_only=False))
        stored = edges.num_rows
        src = np.concatenate([edges["src"].to_numpy(), inferred["src"].to_numpy()]).astype(np.int64)
        dst = np.concatenate([edges["dst"].to_numpy(), inferred["dst"].to_numpy()]).astype(np.int64)
        relation, relations = pd.factorize(
            np.concatenate(
                [edges["relation"].to_numpy(zero_copy_only=False), inferred["relation"].to_numpy(zero_copy_only=False)]
            )
        )
        blank = np.full(stored, "", object)
        premises = np.full((src.size, 2), -1, np.int64)
        premises[stored:, 0] = inferred["premise_src"].to_numpy()
        premises[stored:, 1] = inferred["premise_dst"].to_numpy()
        return cls(
            kind=kind.astype(np.int32),
            kinds=tuple(kinds),
            keys=nodes["key"].combine_chunks(),
            labels=nodes["label"].combine_chunks(),
            src=src,
            dst=dst,
            relation=relation.astype(np.int32),
            relations=tuple(relations),
            source=pa.concat_arrays([edges["source"].combine_chunks(), inferred["source"].combine_chunks()]),
            rule=np.concatenate([blank, inferred["rule"].to_numpy(zero_copy_only=False).astype(object)]),
            premises=premises,
            evidence=np.concatenate([blank, inferred["evidence"].to_numpy(zero_copy_only=False).astype(object)]),
            first_inferred=stored,
            adjacency=_kernels.adjacency(src, dst, int(kind.size)),
        )

    @property
    def nodes(self) -> int:
        """How many nodes."""
        return int(self.kind.size)

    @property
    def edges(self) -> int:
        """How many edges, stored and inferred."""
        return int(self.src.size)

    def kind_of(self, node: int) -> str:
        """A node's kind."""
        return self.kinds[int(self.kind[node])]

    def find(self, key: str, kind: str | None = None) -> int | None:
        """The node with this key (of this kind, if given), or None."""
        hits = np.flatnonzero(pc.equal(self.keys, key).to_numpy(zero_copy_only=False))
        if kind is not None:
            hits = hits[[self.kind_of(h) == kind for h in hits]]
        return int(hits[0]) if hits.size else None

    def search(self, text: str, limit: int = 20) -> pd.DataFrame:
        """Nodes whose key starts with `text` (any case): id, kind, key, label; exact matches first."""
        lowered = pc.utf8_lower(self.keys)
        exact = np.flatnonzero(pc.equal(lowered, text.lower()).to_numpy(zero_copy_only=False))
        prefix = np.flatnonzero(pc.starts_with(lowered, text.lower()).to_numpy(zero_copy_only=False))
        ids = list(dict.fromkeys([*exact.tolist(), *prefix[: 4 * limit].tolist()]))[:limit]
        return self.node_frame(ids)

    def node_frame(self, ids: list[int]) -> pd.DataFrame:
        """Nodes by id: id, kind, key, label."""
        take = pa.array(ids, pa.int64())
        return pd.DataFrame(
            {
                "id": ids,
                "kind": [self.kind_of(i) for i in ids],
                "key": self.keys.take(take).to_pylist(),
                "label": self.labels.take(take).to_pylist(),
            }
        )

    def edge_frame(self, ids: list[int]) -> pd.DataFrame:
        """Edges by id: id, src, dst, relation, source, rule, premises, evidence."""
        at = np.asarray(ids, np.int64)
        return pd.DataFrame(
            {
                "id": at,
                "src": self.src[at],
                "dst": self.dst[at],
                "relation": [self.relations[r] for r in self.relation[at]],
                "source": self.source.take(pa.array(at)).to_pylist(),
                "rule": self.rule[at],
                "premises": [tuple(p) if p[0] >= 0 else () for p in self.premises[at].tolist()],
                "evidence": self.evidence[at],
            }
        )
