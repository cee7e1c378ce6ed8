"""Answers from the quorum structure, for networks whose minimal quorums are too many to list.

- `top_tier_by_structure`: the nodes that lie in some minimal quorum, found node by node without listing the minimal
  quorums: random shrinks of the largest quorum find most of them, and for each node left a SAT search either finds
  a quorum that holds it and no quorum without it (so a minimal quorum inside it holds the node) or proves there is
  none, learning a minimal quorum to rule out at each failed try (counterexample-guided).
- `blocking_sets_by_closure`: every minimal blocking set, by a search that finds the quorums it must hit as it goes
  (`_kernels.blocking_sets_by_closure64`), over the top tier; where the live top tier shares one quorum set, the
  minimal ways to block it.
"""

from __future__ import annotations

import numpy as np
from pysat.formula import IDPool
from pysat.solvers import Solver

from core.fbas import _kernels
from core.fbas.analysis import (
    CompiledFbas,
    SearchLimitError,
    bit_arrays,
    minimal_quorum_inside,
    products,
    quorum_clusters,
    restrict,
    shared_search,
    stopped_message,
)
from core.fbas.bitsets import sorted_sets
from core.fbas.budget import UNLIMITED, Limit
from core.fbas.splitting import quorum_clauses
from core.fbas.symmetric import shared_qset, to_block
from core.tasks import check

RANDOM_SHRINKS = 16  # random minimal quorums per cluster before SAT tests the rest (measured: 64 costs 19-32 ms on the
# generated 24- to 60-node networks, 16 costs 3-17 ms, and 4 leaves so many nodes to SAT that 48 nodes take 4.7 s)
WORD_BITS = 64


def top_tier_by_structure(compiled: CompiledFbas, *, limit: Limit = UNLIMITED) -> frozenset[str]:
    """Every node that lies in some minimal quorum (the union of the minimal quorums), without listing them.

    Beyond `limit`'s deadline, SearchLimitError.
    """
    tier: set[str] = set()
    rng = np.random.default_rng(0)
    for cluster in quorum_clusters(compiled):  # every minimal quorum lies inside one of them
        part = restrict(compiled, compiled.keys_of(cluster))
        everyone = part.mask()
        known = [minimal_quorum_inside(part, everyone, rng.permutation(len(part.keys))) for _ in range(RANDOM_SHRINKS)]
        found = np.zeros(len(part.keys), np.uint8)
        for quorum in known:
            found |= quorum
        with _QuorumSolver(part) as solver:
            for v in range(len(part.keys)):
                if not found[v]:
                    quorum = _minimal_quorum_with(part, solver, v, known, limit)
                    if quorum is not None:
                        found |= quorum
        tier |= part.keys_of(found)
    return frozenset(tier)


def _minimal_quorum_with(
    part: CompiledFbas, solver: _QuorumSolver, v: int, known: list[np.ndarray], limit: Limit
) -> np.ndarray | None:
    """A minimal quorum that holds node v, or None if there is none: a quorum Q with v such that Q without v holds
    no quorum. Each Q that fails yields a minimal quorum without v that every later Q must not contain."""
    guard = solver.pool.id(("try", v))
    for quorum in known:
        if not quorum[v]:
            solver.exclude(quorum, guard)
    while True:
        check()
        if limit.expired():
            raise SearchLimitError("Stopped at the time limit before every top-tier node was settled.")
        candidate = solver.quorum_with(v, guard)
        if candidate is None:
            return None
        without = candidate.copy()
        without[v] = 0
        rest = _kernels.max_quorum(without, *part.arrays)
        if not rest.any():
            return minimal_quorum_inside(part, candidate)  # every quorum inside it holds v
        learned = minimal_quorum_inside(part, rest)
        known.append(learned)
        solver.exclude(learned, guard)


class _QuorumSolver:
    """A SAT solver over in[v]: the chosen nodes form a non-empty quorum."""

    def __init__(self, part: CompiledFbas) -> None:
        self.size = len(part.keys)
        self.pool = IDPool()
        self.solver = Solver(name="cadical153", bootstrap_with=quorum_clauses(part, self.pool))

    def __enter__(self) -> _QuorumSolver:
        return self

    def __exit__(self, *_: object) -> None:
        self.solver.delete()

    def member(self, u: int) -> int:
        return self.pool.id(("in", u))

    def exclude(self, quorum: np.ndarray, guard: int) -> None:
        """While `guard` is assumed, the chosen nodes do not include all of `quorum`."""
        self.solver.add_clause([-guard, *(-self.member(int(u)) for u in np.flatnonzero(quorum))])

    def quorum_with(self, v: int, guard: int) -> np.ndarray | None:
        """A quorum holding v under the exclusions of `guard`, as a node mask; None if there is none."""
        if not self.solver.solve(assumptions=[guard, self.member(v)]):
            return None
        model = set(self.solver.get_model())
        return np.asarray([1 if self.member(u) in model else 0 for u in range(self.size)], np.uint8)


def blocking_sets_by_closure(
    compiled: CompiledFbas, tier: frozenset[str], faulty: frozenset[str] = frozenset(), *, limit: Limit = UNLIMITED
) -> list[frozenset[str]]:
    """Every minimal blocking set (as `analysis.minimal_blocking_sets`), given the top tier instead of the minimal
    quorums: only top-tier nodes can be needed to block, and a quorum avoiding the faulty nodes and a set of tier
    nodes exists exactly when a minimal one does, inside the tier. Beyond `limit`, SearchLimitError; tiers of more
    than 64 live nodes are refused the same way."""
    live = tier - faulty
    part = restrict(compiled, live)
    n = len(part.keys)
    if n > WORD_BITS:
        raise SearchLimitError(f"Not listed: the top tier has {n} live nodes, more than this search handles (64).")
    symmetric = shared_qset(part)
    if symmetric is not None:  # one quorum set for all: the minimal ways to block it are the minimal blocking sets
        return sorted_sets(products(part, symmetric, to_block, limit), part.keys)
    arrays = bit_arrays(part)
    universe = np.uint64(2**n - 1)
    if not _kernels.largest_quorum64(universe, n, *arrays):
        return [frozenset()] if tier else []  # no quorum avoids the faulty nodes: blocked already (or no quorum)
    with limit.flag() as stop:
        found, finished = shared_search(
            _kernels.blocking_sets_by_closure64,
            np.zeros((1, 3), np.uint64),
            universe,
            n,
            *arrays,
            limit.steps,
            limit.max_listed,
            np.zeros(2, np.int64),
            stop,
        )
    check()
    if not finished or len(found) > limit.max_listed:
        raise SearchLimitError(stopped_message(limit, found, "minimal blocking sets"))
    return sorted_sets(found, part.keys)
