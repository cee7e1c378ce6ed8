"""Minimal splitting sets, exactly, with a SAT solver (python-sat).

A set S of nodes splits the FBAS when, with S's nodes Byzantine (they count as present for anyone, and their own
quorum sets do not matter), there are two disjoint non-empty sets A and B of the other nodes, each satisfied with
S's help: every member of A has its quorum set satisfied by A ∪ S, and the same for B. Then A ∪ S and B ∪ S are
quorums that agree only through S, and the network can fork. As in the stellarbeat scanner, the honest sides are
drawn from the consensus cluster (the strongly connected part of the trust graph that holds the quorums); an FBAS
without quorum intersection is split by the empty set.

The minimal splitting sets are enumerated by solving, shrinking each solution's S to a minimal one, and blocking
every superset of it, until the formula is unsatisfiable.
"""

from __future__ import annotations

from pysat.card import CardEnc, EncType
from pysat.formula import IDPool
from pysat.solvers import Solver

from core.fbas.analysis import CompiledFbas, SearchLimitError, quorum_clusters, restrict
from core.fbas.budget import UNLIMITED, Limit
from core.tasks import check

SOLVER = "cadical153"


def minimal_splitting_sets(
    compiled: CompiledFbas, *, max_sets: int = 100_000, max_solves: int | None = None, limit: Limit = UNLIMITED
) -> list[frozenset[str]]:
    """Every minimal splitting set, smallest first; [frozenset()] when quorums already fail to intersect.

    `max_solves` bounds the SAT calls (one per set found plus those that shrink it), `limit` the time they may
    start in: beyond either, SearchLimitError.
    """
    clusters = quorum_clusters(compiled)
    if not clusters:
        return []
    if len(clusters) > 1:
        return [frozenset()]
    part = restrict(compiled, compiled.keys_of(clusters[0]))
    encoding = _Encoding(part)
    found: list[frozenset[str]] = []
    budget = _SolveBudget(max_solves, limit)
    with Solver(name=SOLVER, bootstrap_with=encoding.clauses) as solver:
        while budget.spend(len(found)) and solver.solve():
            check()
            byzantine = _shrink(solver, encoding, encoding.byzantine(solver.get_model()), budget, len(found))
            found.append(frozenset(part.keys[i] for i in byzantine))
            if not byzantine:  # the empty set splits: it is the only minimal splitting set
                break
            if len(found) >= max_sets:
                raise SearchLimitError(f"Stopped after {max_sets:,} minimal splitting sets.")
            solver.add_clause([-encoding.s(i) for i in byzantine])  # no superset of it is minimal
    return sorted(found, key=lambda s: (len(s), sorted(s)))


class _SolveBudget:
    """Counts SAT calls against a limit (None: unlimited) and a deadline."""

    def __init__(self, calls: int | None, limit: Limit) -> None:
        self.calls = calls
        self.limit = limit
        self.used = 0

    def spend(self, found: int) -> bool:
        self.used += 1
        if self.calls is not None and self.used > self.calls:
            raise SearchLimitError(
                f"Stopped after {self.calls:,} SAT calls with {found:,} minimal splitting sets found."
            )
        if self.limit.expired():
            raise SearchLimitError(self.limit.why_stopped(f"{found:,} minimal splitting sets"))
        return True


def at_least_if(guard: int, lits: list[int], bound: int, pool: IDPool) -> list[list[int]]:
    """Clauses saying: if `guard` is true, at least `bound` of `lits` are true (a quorum set's threshold)."""
    if bound <= 0:
        return []
    if bound > len(lits):
        return [[-guard]]
    at_least = CardEnc.atleast(lits=lits, bound=bound, vpool=pool, encoding=EncType.seqcounter)
    return [[-guard, *clause] for clause in at_least.clauses]


def quorum_clauses(compiled: CompiledFbas, pool: IDPool) -> list[list[int]]:
    """Clauses saying the nodes chosen by the variables ("in", v) of `pool` satisfy their own quorum sets (a quorum,
    or the empty set): ("qset", q) implies at least threshold(q) of q's validators chosen or inner sets satisfied."""
    clauses: list[list[int]] = []
    for q in range(len(compiled.thresholds)):
        satisfied = pool.id(("qset", q))  # numbered before its inputs, as history.py always did: the same formula
        members = compiled.val_idx[compiled.val_ptr[q] : compiled.val_ptr[q + 1]]
        inputs = [pool.id(("in", int(v))) for v in members]
        inputs += [
            pool.id(("qset", int(c))) for c in compiled.child_idx[compiled.child_ptr[q] : compiled.child_ptr[q + 1]]
        ]
        clauses += at_least_if(satisfied, inputs, int(compiled.thresholds[q]), pool)
    for v in range(len(compiled.keys)):
        root = int(compiled.node_qset[v])
        member = pool.id(("in", v))
        clauses.append([-member, pool.id(("qset", root))] if root >= 0 else [-member])
    return clauses


def _shrink(solver: Solver, encoding: _Encoding, byzantine: set[int], budget: _SolveBudget, found: int) -> set[int]:
    """A minimal splitting set inside `byzantine`: drop nodes while the rest still splits."""
    for node in sorted(byzantine):
        if node not in byzantine:
            continue
        outside = [-var for i, var in enumerate(encoding.s_vars) if i not in byzantine or i == node]
        if budget.spend(found) and solver.solve(assumptions=outside):
            byzantine = encoding.byzantine(solver.get_model())
    return byzantine


class _Encoding:
    """CNF over a[v], b[v], s[v]: v is in honest side A, honest side B, or the Byzantine set S."""

    def __init__(self, part: CompiledFbas) -> None:
        self.size = len(part.keys)
        self.pool = IDPool()
        self.s_vars = [self.pool.id(("S", v)) for v in range(self.size)]
        self.clauses: list[list[int]] = []
        for v in range(self.size):
            a, b, s = self.side("A", v), self.side("B", v), self.s(v)
            self.clauses += [[-a, -b], [-a, -s], [-b, -s]]
        for side in ("A", "B"):
            self.clauses.append([self.side(side, v) for v in range(self.size)])  # the side is not empty
            for q in range(len(part.thresholds)):
                self._qset(part, side, q)
            for v in range(self.size):
                root = int(part.node_qset[v])
                member = self.side(side, v)
                self.clauses.append([-member, self.pool.id((side, "qset", root))] if root >= 0 else [-member])

    def side(self, side: str, v: int) -> int:
        return self.pool.id((side, v))

    def s(self, v: int) -> int:
        return self.s_vars[v]

    def byzantine(self, model: list[int]) -> set[int]:
        """The Byzantine nodes of a model (pysat lists variable x's literal at position x - 1)."""
        return {v for v, var in enumerate(self.s_vars) if model[var - 1] > 0}

    def _qset(self, part: CompiledFbas, side: str, q: int) -> None:
        """(side, qset q) true implies q is satisfied by the side's members and S."""
        satisfied = self.pool.id((side, "qset", q))
        inputs = []
        for v in part.val_idx[part.val_ptr[q] : part.val_ptr[q + 1]]:
            present = self.pool.id((side, "present", int(v)))  # v is on this side or Byzantine
            self.clauses.append([-present, self.side(side, int(v)), self.s(int(v))])
            inputs.append(present)
        inputs += [
            self.pool.id((side, "qset", int(c))) for c in part.child_idx[part.child_ptr[q] : part.child_ptr[q + 1]]
        ]
        self.clauses += at_least_if(satisfied, inputs, int(part.thresholds[q]), self.pool)
