"""History-critical sets: the fewest validators whose history archives the network's history depends on.

A set S of validators with working history archives is history-critical when S, together with the validators
whose archives have errors, contains a quorum: should the validators of that quorum lose or stop publishing their
archives, the network could lose history while still closing ledgers (python-fbas's definition). A validator's
archive has an error when stellarbeat's `historyArchiveHasError` is true or missing, as python-fbas reads it, or
when the validator is not in the data at all; data without that field anywhere gives no answer. Missing quorum sets
are read as the compiled FBAS reads them.

The smallest such S is found exactly with MaxSAT (python-sat's RC2): choose a non-empty quorum Q, minimising the
validators in Q without an archive error.
"""

from __future__ import annotations

from dataclasses import dataclass

from pysat.examples.rc2 import RC2
from pysat.formula import WCNF, IDPool

from core.fbas.analysis import CompiledFbas
from core.fbas.model import Fbas
from core.fbas.splitting import quorum_clauses

ERROR_FIELD = "historyArchiveHasError"


@dataclass(frozen=True)
class HistoryCritical:
    """The smallest history-critical set and the quorum it completes."""

    critical: frozenset[str]
    quorum: frozenset[str]


def working_archives(fbas: Fbas) -> frozenset[str] | None:
    """Nodes whose history archive works (the field false); None if no node reports the field. Every other node,
    the field true or missing or the node absent from the data, counts as having an archive error."""
    if not any(ERROR_FIELD in node.attrs for node in fbas.nodes.values()):
        return None
    return frozenset(key for key, node in fbas.nodes.items() if node.attrs.get(ERROR_FIELD, True) is False)


def history_critical_set(compiled: CompiledFbas, working: frozenset[str]) -> HistoryCritical | None:
    """The smallest history-critical set given the nodes with working archives; None when there is no quorum."""
    pool = IDPool()
    formula = WCNF()
    size = len(compiled.keys)

    def member(v: int) -> int:
        return pool.id(("in", v))

    for clause in quorum_clauses(compiled, pool):
        formula.append(clause)
    formula.append([member(v) for v in range(size)])  # the quorum is not empty
    for v, key in enumerate(compiled.keys):
        if key in working:
            formula.append([-member(v)], weight=1)  # each working archive in the quorum costs one
    with RC2(formula) as solver:
        model = solver.compute()
    if model is None:
        return None
    chosen = {literal for literal in model if literal > 0}
    quorum = frozenset(key for v, key in enumerate(compiled.keys) if member(v) in chosen)
    return HistoryCritical(frozenset(quorum & working), quorum)
