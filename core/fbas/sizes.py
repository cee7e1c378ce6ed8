"""Smallest answers without enumerating every set: for networks whose minimal quorums run into the millions.

- quorum intersection: two disjoint quorums exist iff the splitting formula is satisfiable with no Byzantine node;
- smallest splitting set: the splitting formula under a growing bound on the number of Byzantine nodes;
- smallest blocking set: implicit hitting sets. Take a smallest set that meets every quorum found so far; if a
  quorum still forms without it, shrink that quorum to a minimal one, add it, and repeat.
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
from core.fbas.analysis import CompiledFbas, SearchLimitError, minimal_quorum_inside, quorum_clusters, restrict
from core.fbas.cancel import check
from core.fbas.splitting import SOLVER, _Encoding

INTERRUPTIBLE_SOLVER = "glucose4"  # pysat's CaDiCaL cannot be interrupted at a deadline
SEED_QUORUMS = 64  # minimal quorums found before the first hitting set
BATCH_QUORUMS = 8  # and after each hitting set that fails to block


def has_quorum_intersection(compiled: CompiledFbas) -> bool:
    """Whether every two quorums intersect (and there is a quorum), by SAT, without listing quorums."""
    clusters = quorum_clusters(compiled)
    if len(clusters) != 1:
        return False
    encoding = _Encoding(restrict(compiled, compiled.keys_of(clusters[0])))
    with Solver(name=SOLVER, bootstrap_with=encoding.clauses) as solver:
        return not solver.solve(assumptions=[-encoding.s(v) for v in range(encoding.size)])


def smallest_splitting_set(compiled: CompiledFbas) -> frozenset[str] | None:
    """A smallest splitting set (empty without quorum intersection); None when nothing can split the network."""
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
        Solver(name=SOLVER, bootstrap_with=encoding.clauses + count.cnf.clauses) as solver,
    ):
        for k in range(len(byzantine) + 1):
            bound = [-count.rhs[k]] if k < len(byzantine) else []  # at most k Byzantine nodes
            if solver.solve(assumptions=bound):
                return frozenset(part.keys[v] for v in encoding.byzantine(solver.get_model()))
    return None


def smallest_blocking_set(
    compiled: CompiledFbas, faulty: frozenset[str] = frozenset(), *, seconds: float | None = None
) -> frozenset[str] | None:
    """A smallest set of further nodes whose failure halts the network; None when there is no quorum at all.

    With `seconds`, gives up after that long (SearchLimitError): symmetric networks of many organizations make the
    hitting-set step hard.
    """
    deadline = None if seconds is None else time.monotonic() + seconds
    alive = compiled.mask() & (1 - compiled.mask(faulty))
    first = _kernels.max_quorum(alive, *compiled.arrays)
    if not first.any():
        return frozenset() if _kernels.max_quorum(compiled.mask(), *compiled.arrays).any() else None
    pool = IDPool()
    chosen = [pool.id(("b", i)) for i in range(len(compiled.keys))]
    quorums: list[list[int]] = []
    clauses = [[-chosen[i]] for i in np.flatnonzero(1 - alive)]  # nodes already down are never counted
    rng = np.random.default_rng(0)
    found = _minimal_quorums_inside(compiled, first, rng, SEED_QUORUMS)
    with (
        ITotalizer(lits=chosen, ubound=len(chosen), top_id=pool.top) as count,
        Solver(name=INTERRUPTIBLE_SOLVER, bootstrap_with=clauses + count.cnf.clauses) as solver,
    ):
        k = 1
        while True:
            check()
            for quorum in found:
                quorums.append([chosen[i] for i in np.flatnonzero(quorum)])
                solver.add_clause(quorums[-1])  # every quorum found must be met
            while not _solve_before(solver, [-count.rhs[k]] if k < len(chosen) else [], deadline):
                check()
                k += 1  # no set of k nodes meets them all: the answer is larger
            model = set(solver.get_model())
            blockers = np.asarray([1 if chosen[i] in model else 0 for i in range(len(chosen))], np.uint8)
            rest = _kernels.max_quorum(alive & (1 - blockers), *compiled.arrays)
            if not rest.any():
                return compiled.keys_of(blockers)
            found = _minimal_quorums_inside(compiled, rest, rng, BATCH_QUORUMS)


def _solve_before(solver: Solver, assumptions: list[int], deadline: float | None) -> bool:
    """solver.solve, interrupted at the deadline (then SearchLimitError)."""
    if deadline is None:
        return solver.solve(assumptions=assumptions)
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise SearchLimitError("The smallest blocking set was not found within the time limit.")
    timer = threading.Timer(remaining, solver.interrupt)
    timer.start()
    try:
        answer = solver.solve_limited(assumptions=assumptions, expect_interrupt=True)
    finally:
        timer.cancel()
        solver.clear_interrupt()
    if answer is None:
        raise SearchLimitError("The smallest blocking set was not found within the time limit.")
    return answer


def _minimal_quorums_inside(
    compiled: CompiledFbas, quorum: np.ndarray, rng: np.random.Generator, count: int
) -> list[np.ndarray]:
    """Up to `count` distinct minimal quorums inside a quorum, by shrinking it in random orders."""
    orders = (rng.permutation(np.flatnonzero(quorum)) for _ in range(count))
    found = {tuple(minimal_quorum_inside(compiled, quorum, order)) for order in orders}
    return [np.asarray(q, np.uint8) for q in sorted(found)]
