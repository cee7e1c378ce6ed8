"""Smallest answers without enumerating every set: for networks whose minimal quorums run into the millions.

- quorum intersection: two disjoint quorums exist iff the splitting formula is satisfiable with no Byzantine node;
- smallest splitting set: the splitting formula under a growing bound on the number of Byzantine nodes;
- smallest blocking set: a smallest set whose removal makes the network collapse round after round for as many
  rounds as the formula follows, and that meets every quorum found so far; if a quorum still stands without it,
  follow one more round and add minimal quorums of what stood, and repeat (see `smallest_blocking_set`).
Each returns one witness set of the smallest size.
"""

from __future__ import annotations

import threading
import time

import numpy as np
from pysat.card import ITotalizer
from pysat.formula import IDPool
from pysat.solvers import Solver

from core.fbas import _kernels
from core.fbas.analysis import (
    CompiledFbas,
    IntersectionResult,
    SearchLimitError,
    disjoint_witness,
    minimal_quorum_inside,
    quorum_clusters,
    restrict,
)
from core.fbas.splitting import SOLVER, _Encoding, at_least_if
from core.tasks import check

INTERRUPTIBLE_SOLVER = "glucose4"  # pysat's CaDiCaL cannot be interrupted at a deadline; Glucose is as fast here
SEED_QUORUMS = 64  # minimal quorums found before the first hitting set
BATCH_QUORUMS = 8  # and after each hitting set that fails to block


def has_quorum_intersection(compiled: CompiledFbas) -> bool:
    """Whether every two quorums intersect (and there is a quorum), by SAT, without listing quorums."""
    return quorum_intersection_by_sat(compiled).intersects


def quorum_intersection_by_sat(compiled: CompiledFbas) -> IntersectionResult:
    """Quorum intersection without listing quorums, with two disjoint minimal quorums as the witness when it fails:
    the splitting formula with no Byzantine node, whose two sides are then disjoint quorums."""
    clusters = quorum_clusters(compiled)
    if not clusters:
        return IntersectionResult(False)
    if len(clusters) > 1:
        return disjoint_witness(compiled, clusters)
    part = restrict(compiled, compiled.keys_of(clusters[0]))
    encoding = _Encoding(part)
    with Solver(name=SOLVER, bootstrap_with=encoding.clauses) as solver:
        if not solver.solve(assumptions=[-encoding.s(v) for v in range(encoding.size)]):
            return IntersectionResult(True)
        model = solver.get_model()
    sides = ({part.keys[v] for v in range(encoding.size) if model[encoding.side(s, v) - 1] > 0} for s in "AB")
    first, second = (compiled.mask(side) for side in sides)
    return disjoint_witness(compiled, [first, second])


def smallest_splitting_set(compiled: CompiledFbas, *, seconds: float | None = None) -> frozenset[str] | None:
    """A smallest splitting set (empty without quorum intersection); None when nothing can split the network. With
    `seconds`, gives up after that long (SearchLimitError)."""
    deadline = None if seconds is None else time.monotonic() + seconds
    clusters = quorum_clusters(compiled)
    if not clusters:
        return None
    if len(clusters) > 1:
        return frozenset()
    part = restrict(compiled, compiled.keys_of(clusters[0]))
    encoding = _Encoding(part)
    byzantine = [encoding.s(v) for v in range(encoding.size)]
    with (
        ITotalizer(lits=byzantine, ubound=len(byzantine), top_id=encoding.pool.top) as count,
        Solver(name=INTERRUPTIBLE_SOLVER, bootstrap_with=encoding.clauses + count.cnf.clauses) as solver,
    ):
        for k in range(len(byzantine) + 1):
            check()
            bound = [-count.rhs[k]] if k < len(byzantine) else []  # at most k Byzantine nodes
            if _solve_before(solver, bound, deadline, "splitting"):
                return frozenset(part.keys[v] for v in encoding.byzantine(solver.get_model()))
    return None


def smallest_blocking_set(
    compiled: CompiledFbas, faulty: frozenset[str] = frozenset(), *, seconds: float | None = None
) -> frozenset[str] | None:
    """A smallest set of further nodes whose failure halts the network; None when there is no quorum at all.

    Over the nodes U of the largest quorum among the live ones (only they can matter): B blocks the network when
    the quorum closure of U minus B, which drops every node whose quorum set is unsatisfied, round after round, ends
    empty, so every round until then drops a node. A SAT solver finds a smallest B whose first R rounds all make
    progress (`_Collapse`) and that meets every minimal quorum found so far; if the closure of U minus B still
    stops at a quorum, R grows past the round where it stopped and a few minimal quorums of that quorum join, and
    the search repeats. Every condition holds for every blocking set, so the first B that blocks is a smallest
    one. With `seconds`, gives up after that long (SearchLimitError).
    """
    deadline = None if seconds is None else time.monotonic() + seconds
    alive = compiled.mask() & (1 - compiled.mask(faulty))
    universe = _kernels.max_quorum(alive, *compiled.arrays)
    if not universe.any():
        return frozenset() if _kernels.max_quorum(compiled.mask(), *compiled.arrays).any() else None
    part = restrict(compiled, compiled.keys_of(universe))  # members outside U count as failed already
    size = len(part.keys)
    pool = IDPool()
    chosen = [pool.id(("b", v)) for v in range(size)]
    rng = np.random.default_rng(0)
    count = ITotalizer(lits=chosen, ubound=size, top_id=pool.top)
    pool.occupy(pool.top + 1, count.top_id)
    collapse = _Collapse(part, chosen, pool)
    clauses = collapse.add_round() + _hitting(chosen, _minimal_quorums_inside(part, part.mask(), rng, SEED_QUORUMS))
    with count, Solver(name=INTERRUPTIBLE_SOLVER, bootstrap_with=count.cnf.clauses) as solver:
        k = 1
        while True:
            check()
            for clause in clauses:
                solver.add_clause(clause)
            while not _solve_before(solver, [-count.rhs[k]] if k < size else [], deadline, "blocking"):
                check()
                k += 1  # no set of k nodes does: the answer is larger
            model = set(solver.get_model())
            blockers = np.asarray([1 if chosen[v] in model else 0 for v in range(size)], np.uint8)
            standing, stalled_at = _closure_rounds(part, 1 - blockers)
            if not standing.any():
                return part.keys_of(blockers)
            clauses = _hitting(chosen, _minimal_quorums_inside(part, standing, rng, BATCH_QUORUMS))
            while collapse.rounds <= stalled_at:
                clauses += collapse.add_round()


class _Collapse:
    """CNF that follows the quorum closure of U minus B round by round: blocked(v, r) is true when v is in B
    (r = 0) or was dropped in one of the first r rounds; each round added must drop a node unless all are gone."""

    def __init__(self, part: CompiledFbas, chosen: list[int], pool: IDPool) -> None:
        self.part = part
        self.pool = pool
        self.levels = [chosen]

    @property
    def rounds(self) -> int:
        return len(self.levels) - 1

    def add_round(self) -> list[list[int]]:
        part, pool, r = self.part, self.pool, self.rounds
        blocked = self.levels[-1]
        qset_blocked = [pool.id(("qset blocked", r, q)) for q in range(len(part.thresholds))]
        clauses: list[list[int]] = []
        for q, guard in enumerate(qset_blocked):  # fewer than threshold members left: at least this many gone
            inputs = [blocked[int(v)] for v in part.val_idx[part.val_ptr[q] : part.val_ptr[q + 1]]]
            inputs += [qset_blocked[int(c)] for c in part.child_idx[part.child_ptr[q] : part.child_ptr[q + 1]]]
            needed = len(inputs) - int(part.thresholds[q]) + 1
            clauses += at_least_if(guard, inputs, needed, pool) + at_least_if(
                -guard, [-i for i in inputs], len(inputs) - needed + 1, pool
            )
        after = [pool.id(("blocked", r + 1, v)) for v in range(len(part.keys))]
        done = pool.id(("all blocked", r))
        progress = [done]
        for v, (was, now) in enumerate(zip(blocked, after, strict=True)):
            dropped = pool.id(("dropped", r, v))
            qset = qset_blocked[int(part.node_qset[v])]
            clauses += [[-now, was, qset], [-was, now], [-qset, now], [-done, was], [-dropped, now], [-dropped, -was]]
            progress.append(dropped)
        self.levels.append(after)
        return [*clauses, progress]


def _hitting(chosen: list[int], quorums: list[np.ndarray]) -> list[list[int]]:
    return [[chosen[v] for v in np.flatnonzero(q)] for q in quorums]


def _closure_rounds(part: CompiledFbas, mask: np.ndarray) -> tuple[np.ndarray, int]:
    """The quorum closure of `mask` (the largest quorum inside it) and the round in which it stopped changing."""
    sat = np.zeros(len(part.thresholds), np.uint8)
    current = mask.copy()
    rounds = 0
    while True:
        _kernels.satisfied(current, part.thresholds, part.val_ptr, part.val_idx, part.child_ptr, part.child_idx, sat)
        kept = current & sat[part.node_qset]
        if (kept == current).all():
            return current, rounds
        current = kept
        rounds += 1


def _solve_before(solver: Solver, assumptions: list[int], deadline: float | None, kind: str) -> bool:
    """solver.solve, interrupted at the deadline (then SearchLimitError naming the smallest `kind` set)."""
    if deadline is None:
        return solver.solve(assumptions=assumptions)
    late = SearchLimitError(f"The smallest {kind} set was not found within the time limit.")
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise late
    timer = threading.Timer(remaining, solver.interrupt)
    timer.start()
    try:
        answer = solver.solve_limited(assumptions=assumptions, expect_interrupt=True)
    finally:
        timer.cancel()
        solver.clear_interrupt()
    if answer is None:
        raise late
    return answer


def _minimal_quorums_inside(
    compiled: CompiledFbas, quorum: np.ndarray, rng: np.random.Generator, count: int
) -> list[np.ndarray]:
    """Up to `count` distinct minimal quorums inside a quorum, by shrinking it in random orders."""
    orders = (rng.permutation(np.flatnonzero(quorum)) for _ in range(count))
    found = {tuple(minimal_quorum_inside(compiled, quorum, order)) for order in orders}
    return [np.asarray(q, np.uint8) for q in sorted(found)]
