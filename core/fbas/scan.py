"""A full scan of an FBAS for every grouping asked for, as a `Scan` (results.py; its `to_json()` is the CLI output)."""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Callable, Iterable
from typing import TypeVar

from core.fbas.analysis import (
    CompiledFbas,
    MissingQset,
    SearchLimitError,
    compile_fbas,
    merge_qset,
    merge_sets,
    minimal_blocking_sets,
    minimal_quorums,
    quorum_intersection,
    symmetric_top_tier,
    top_tier,
)
from core.fbas.budget import Budget, Limit
from core.fbas.history import HistoryCritical, history_critical_set, working_archives
from core.fbas.model import Fbas, Node, QuorumSet
from core.fbas.results import COMPLETE, AnalysisStatus, GroupingResult, HistorySummary, Scan, SetSummary
from core.fbas.sizes import quorum_intersection_by_sat, smallest_blocking_set, smallest_splitting_set
from core.fbas.splitting import minimal_splitting_sets
from core.fbas.structure import blocking_sets_by_closure, top_tier_by_structure
from core.tasks import check

T = TypeVar("T")
MERGES = ("node", "organization", "country", "isp")
FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
STEPS_PER_SAT_CALL = 1_000  # the splitting enumeration's share of the step budget: one SAT call counts as this many


def warm_up() -> None:
    """Load every compiled kernel and solver once: numba's start-up (about 0.3 s per process, most of it on the first
    kernel called), paid before an analysis is timed, as Node pays for compiling the WASM scanner on loading it."""
    qsets = {"a": QuorumSet(2, ("a", "b", "c")), "b": QuorumSet(2, ("a", "b", "c")), "c": QuorumSet(2, ("a", "c"))}
    nodes = {k: Node(k, qset, attrs={"historyArchiveHasError": k == "c"}) for k, qset in qsets.items()}
    scan(Fbas(nodes=nodes), stellarbeat_parity=True)  # not a symmetric tier: the search kernels run
    compiled = compile_fbas(Fbas(nodes=nodes))
    blocking_sets_by_closure(compiled, frozenset(compiled.keys))  # the search used where quorums are too many


def is_grouping(name: str) -> bool:
    """Whether `name` can group nodes: one of MERGES or a node field name (letters, digits, underscores)."""
    return name in MERGES or FIELD_NAME.fullmatch(name) is not None


def faulty_nodes(fbas: Fbas, spec: str) -> frozenset[str]:
    """`auto`: the nodes marked non-validating (stellarbeat's rule); `none`; or comma-separated public keys."""
    if spec == "auto":
        return frozenset(k for k, node in fbas.nodes.items() if node.is_validating is False)
    if spec == "none":
        return frozenset()
    return frozenset(k.strip() for k in spec.split(",") if k.strip())


def scan(
    fbas: Fbas,
    *,
    merges: Iterable[str] = ("node",),
    faulty: frozenset[str] = frozenset(),
    missing_qset: MissingQset = "unsatisfiable",
    stellarbeat_parity: bool = False,
    max_sets: int = 100,
    seconds: float | None = None,
    max_steps: int | None = None,
) -> Scan:
    """Every analysis for every grouping in `merges`; node-level results are computed once and merged.

    Each enumeration gets a share of `seconds` (budget.py; None: no limit), and `max_steps` caps each one's search
    steps (the splitting sets' SAT calls count STEPS_PER_SAT_CALL each). An analysis that runs out falls back on its
    own (`scan.analyses` says which and why): quorum intersection is decided by SAT; the top tier comes from the
    quorum structure; the minimal blocking sets are searched without the minimal quorums; the smallest blocking and
    splitting sets are found without listing the others (node level only).
    """
    merges = list(merges)
    unknown = [m for m in merges if not is_grouping(m)]
    if unknown:
        raise ValueError(
            f"Unknown grouping {unknown[0]!r}: use {', '.join(MERGES)} or a node field such as homeDomain."
        )
    clock: dict[str, float] = {}
    began = time.perf_counter()
    budget = Budget(seconds, max_steps)
    compiled = compile_fbas(fbas, missing_qset=missing_qset, stellarbeat_parity=stellarbeat_parity)
    run = _Analyses(clock)
    # First tries, short; then those that ran out of time share the time left, in the same order; then, from the
    # reserve, the smallest sets of those still unfinished.
    tier = run.attempt("top_tier", budget.probe(), lambda limit: top_tier_by_structure(compiled, limit=limit))
    minimal = run.attempt("minimal_quorums", budget.probe(), lambda limit: minimal_quorums(compiled, limit=limit))
    if tier is None and minimal is not None:
        tier = top_tier(minimal)
    if tier is None and run.may_retry("top_tier"):
        tier = run.attempt("top_tier", budget.share(4), lambda limit: top_tier_by_structure(compiled, limit=limit))
    blocking = run.attempt(
        "minimal_blocking_sets", budget.probe(), lambda limit: _blocking(compiled, minimal, tier, faulty, limit)
    )
    splitting = run.attempt(
        "minimal_splitting_sets", budget.probe(), lambda limit: _splitting(compiled, max_steps, limit)
    )
    if minimal is None and run.may_retry("minimal_quorums"):
        waiting = 1 + (blocking is None) + (splitting is None)
        minimal = run.attempt(
            "minimal_quorums", budget.share(waiting), lambda limit: minimal_quorums(compiled, limit=limit)
        )
        if tier is None and minimal is not None:
            tier = top_tier(minimal)
    if tier is not None:
        run.status["top_tier"] = COMPLETE
    if blocking is None and run.may_retry("minimal_blocking_sets"):
        waiting = 1 + (splitting is None)
        blocking = run.attempt(
            "minimal_blocking_sets",
            budget.share(waiting),
            lambda limit: _blocking(compiled, minimal, tier, faulty, limit),
        )
    if splitting is None and run.may_retry("minimal_splitting_sets"):
        splitting = run.attempt(
            "minimal_splitting_sets", budget.share(1), lambda limit: _splitting(compiled, max_steps, limit)
        )
    if blocking is None:
        waiting = 1 + (splitting is None)
        blocking = run.fallback(
            "minimal_blocking_sets", lambda: _smallest_blocking(compiled, faulty, budget.rest(waiting))
        )
    if splitting is None:
        splitting = run.fallback(
            "minimal_splitting_sets",
            lambda: _one(smallest_splitting_set(compiled, seconds=budget.rest().remaining())),
        )
    intersection = run.timed(
        "quorum_intersection",
        lambda: quorum_intersection_by_sat(compiled) if minimal is None else quorum_intersection(compiled, minimal),
    )
    run.status["quorum_intersection"] = COMPLETE
    symmetric = None
    if tier is not None:
        symmetric = run.timed("symmetric_top_tier", lambda: symmetric_top_tier(fbas, tier, compiled.removed))
    history = run.timed("history_critical_set", lambda: _history(fbas, compiled))
    run.status["history_critical_set"] = COMPLETE
    results = {}
    for merge in merges:

        def group(key: str, merge: str = merge) -> str:
            return fbas.group_of(key, merge) or key

        def summary(name: str, sets: list[frozenset[str]] | None, merge: str = merge) -> SetSummary | None:
            if sets is None:
                return None
            if not run.status[name].complete:  # one smallest set, at node level only
                return None if merge != "node" or not sets else _smallest_summary(sets[0])
            return _summary(_merged(sets, merge, group), max_sets)

        witness = intersection.witness
        results[merge] = GroupingResult(
            quorum_intersection=intersection.intersects,
            disjoint_quorums=tuple(_sorted({group(k) for k in side}) for side in witness) if witness else None,
            minimal_quorums=summary("minimal_quorums", minimal),
            top_tier=None if tier is None else _sorted({group(k) for k in tier}),
            symmetric_top_tier=None if symmetric is None else merge_qset(symmetric, group).to_json(),
            minimal_blocking_sets=summary("minimal_blocking_sets", blocking),
            minimal_splitting_sets=summary("minimal_splitting_sets", splitting),
            history_critical_set=_history_summary(history, group),
        )
    clock["total"] = time.perf_counter() - began
    return _report(fbas, compiled, faulty, analyses=run.status, results=results, clock=clock)


class _Analyses:
    """Runs a scan's analyses: times each, and records whether it completed or what it fell back to and why."""

    def __init__(self, clock: dict[str, float]) -> None:
        self.clock = clock
        self.status: dict[str, AnalysisStatus] = {}
        self.reasons: dict[str, str] = {}
        self.out_of_time: set[str] = set()

    def timed(self, name: str, work: Callable[[], T]) -> T:
        check()  # a cancelled analysis stops between stages too
        began = time.perf_counter()
        try:
            return work()
        finally:
            self.clock[name] = self.clock.get(name, 0.0) + time.perf_counter() - began

    def attempt(self, name: str, limit: Limit, work: Callable[[Limit], T]) -> T | None:
        """The complete answer within `limit`, or None (and the reason kept) when the limit ran out."""
        try:
            result = self.timed(name, lambda: work(limit))
        except SearchLimitError as exc:
            self.reasons[name] = str(exc)
            self.status[name] = AnalysisStatus(False, "not answered", str(exc))
            if limit.expired():
                self.out_of_time.add(name)
            return None
        self.status[name] = COMPLETE
        return result

    def may_retry(self, name: str) -> bool:
        """Whether a second try could get further: the first ran out of time (not of steps or room for sets)."""
        return name in self.out_of_time

    def fallback(self, name: str, work: Callable[[], list[frozenset[str]] | None]) -> list[frozenset[str]] | None:
        """The smallest set instead of all of them, found without listing them; None if it was not found in time."""
        try:
            sets = self.timed(name, work)
        except SearchLimitError as exc:
            self.status[name] = AnalysisStatus(False, "not answered", f"{self.reasons[name]} {exc}")
            return None
        answer = "smallest set only" if sets else "not answered"
        self.status[name] = AnalysisStatus(False, answer, self.reasons[name])
        return sets


def _blocking(
    compiled: CompiledFbas,
    minimal: list[frozenset[str]] | None,
    tier: frozenset[str] | None,
    faulty: frozenset[str],
    limit: Limit,
) -> list[frozenset[str]]:
    """Every minimal blocking set: as hitting sets of the minimal quorums, or by quorum closures over the top tier."""
    if minimal is not None:
        return minimal_blocking_sets(compiled, minimal, faulty, limit=limit)
    if tier is None:
        raise SearchLimitError("Not listed: the search needs the top tier, which was not found in time.")
    return blocking_sets_by_closure(compiled, tier, faulty, limit=limit)


def _splitting(compiled: CompiledFbas, max_steps: int | None, limit: Limit) -> list[frozenset[str]]:
    return minimal_splitting_sets(compiled, max_solves=_solves(max_steps), limit=limit)


def _smallest_blocking(compiled: CompiledFbas, faulty: frozenset[str], limit: Limit) -> list[frozenset[str]]:
    return _one(smallest_blocking_set(compiled, faulty, seconds=limit.remaining()))


def _one(found: frozenset[str] | None) -> list[frozenset[str]]:
    return [] if found is None else [found]


def _solves(max_steps: int | None) -> int | None:
    return None if max_steps is None else max(1, max_steps // STEPS_PER_SAT_CALL)


def _report(
    fbas: Fbas,
    compiled: CompiledFbas,
    faulty: frozenset[str],
    *,
    analyses: dict[str, AnalysisStatus],
    results: dict[str, GroupingResult],
    clock: dict[str, float],
) -> Scan:
    """What was read, how complete the answer is, the results per grouping, and timings."""
    return Scan(
        nodes=len(fbas.nodes),
        validators=len(fbas.validators),
        faulty=_sorted(faulty),
        removed_self_quorums=tuple(compiled.removed),
        warnings=tuple(fbas.warnings),
        results=results,
        analyses=analyses,
        elapsed_ms={name: round(seconds * 1000, 1) for name, seconds in clock.items()},
    )


def _history(fbas: Fbas, compiled: CompiledFbas) -> HistoryCritical | str:
    """The smallest history-critical set, or why there is none."""
    working = working_archives(fbas)
    if working is None:
        return "the data does not report history-archive errors"
    return history_critical_set(compiled, working) or "the network has no quorum"


def _history_summary(history: HistoryCritical | str, group: Callable[[str], str]) -> HistorySummary:
    """Node-level by definition; the groups of its nodes are listed for the grouping."""
    if isinstance(history, str):
        return HistorySummary(size=None, nodes=(), groups=(), quorum=(), reason=history)
    return HistorySummary(
        size=len(history.critical),
        nodes=_sorted(history.critical),
        groups=_sorted({group(k) for k in history.critical}),
        quorum=_sorted(history.quorum),
        reason=None,
    )


def _merged(sets: list[frozenset[str]], merge: str, group: Callable[[str], str]) -> list[frozenset[str]]:
    """Sets as sets of groups (node level: as they are, already minimal)."""
    return sets if merge == "node" else merge_sets(sets, group)


def _summary(sets: list[frozenset[str]], max_sets: int) -> SetSummary:
    sizes = [len(s) for s in sets]
    return SetSummary(
        count=len(sets),
        min=min(sizes, default=0),
        max=max(sizes, default=0),
        mean=round(statistics.fmean(sizes), 3) if sizes else 0,
        sets=tuple(_sorted(s) for s in sets[:max_sets]),
    )


def _smallest_summary(found: frozenset[str]) -> SetSummary:
    return SetSummary(count=None, min=len(found), max=None, mean=None, sets=(_sorted(found),))


def _sorted(members: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(members))
