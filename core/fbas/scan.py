"""A full scan of an FBAS for every grouping asked for, as a `Scan` (results.py; its `to_json()` is the CLI output)."""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Callable, Iterable
from typing import TypeVar

from core.fbas.analysis import (
    DEFAULT_MAX_STEPS,
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
from core.fbas.history import HistoryCritical, history_critical_set, working_archives
from core.fbas.model import Fbas, Node, QuorumSet
from core.fbas.results import GroupingResult, HistorySummary, Scan, SetSummary
from core.fbas.sizes import has_quorum_intersection, smallest_blocking_set, smallest_splitting_set
from core.fbas.splitting import minimal_splitting_sets
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
    max_steps: int = DEFAULT_MAX_STEPS,
    smallest_only_on_limit: bool = False,
    smallest_seconds: float = 30.0,
) -> Scan:
    """Every analysis for every grouping in `merges`; node-level results are computed once and merged.

    `max_steps` bounds each enumeration (the splitting sets' SAT calls count STEPS_PER_SAT_CALL each): beyond it,
    SearchLimitError, or with `smallest_only_on_limit` the smallest answers found without enumeration
    (intersection, smallest splitting and blocking sets; the blocking search gives up after `smallest_seconds`),
    with "enumeration" saying why the lists are missing.
    """
    merges = list(merges)
    unknown = [m for m in merges if not is_grouping(m)]
    if unknown:
        raise ValueError(
            f"Unknown grouping {unknown[0]!r}: use {', '.join(MERGES)} or a node field such as homeDomain."
        )
    clock: dict[str, float] = {}
    began = time.perf_counter()
    compiled = compile_fbas(fbas, missing_qset=missing_qset, stellarbeat_parity=stellarbeat_parity)
    try:
        minimal = _timed(clock, "minimal_quorums", lambda: minimal_quorums(compiled, max_steps=max_steps))
        intersection = _timed(clock, "quorum_intersection", lambda: quorum_intersection(compiled, minimal))
        blocking = _timed(
            clock,
            "minimal_blocking_sets",
            lambda: minimal_blocking_sets(compiled, minimal, faulty, max_steps=max_steps),
        )
        tier = top_tier(minimal)
        symmetric = _timed(clock, "symmetric_top_tier", lambda: symmetric_top_tier(fbas, tier, compiled.removed))
        splitting = _timed(
            clock,
            "minimal_splitting_sets",
            lambda: minimal_splitting_sets(compiled, max_solves=max(1, max_steps // STEPS_PER_SAT_CALL)),
        )
    except SearchLimitError as exc:
        if not smallest_only_on_limit:
            raise
        return _smallest_only(fbas, compiled, merges, faulty, seconds=smallest_seconds, reason=str(exc), began=began)
    history = _timed(clock, "history_critical_set", lambda: _history(fbas, compiled))
    results = {}
    for merge in merges:

        def group(key: str, merge: str = merge) -> str:
            return fbas.group_of(key, merge) or key

        witness = intersection.witness
        results[merge] = GroupingResult(
            quorum_intersection=intersection.intersects,
            disjoint_quorums=tuple(_sorted({group(k) for k in side}) for side in witness) if witness else None,
            minimal_quorums=_summary(_merged(minimal, merge, group), max_sets),
            top_tier=_sorted({group(k) for k in tier}),
            symmetric_top_tier=None if symmetric is None else merge_qset(symmetric, group).to_json(),
            minimal_blocking_sets=_summary(_merged(blocking, merge, group), max_sets),
            minimal_splitting_sets=_summary(_merged(splitting, merge, group), max_sets),
            history_critical_set=_history_summary(history, group),
        )
    clock["total"] = time.perf_counter() - began
    return _report(fbas, compiled, faulty, enumeration="complete", results=results, clock=clock)


def _smallest_only(
    fbas: Fbas,
    compiled: CompiledFbas,
    merges: list[str],
    faulty: frozenset[str],
    *,
    seconds: float,
    reason: str,
    began: float,
) -> Scan:
    """Node-level smallest answers when the sets are too many to list; other groupings are left empty."""
    clock: dict[str, float] = {}
    intersects = _timed(clock, "quorum_intersection", lambda: has_quorum_intersection(compiled))
    splitting = _timed(clock, "smallest_splitting_set", lambda: smallest_splitting_set(compiled))
    try:
        blocking = _timed(
            clock, "smallest_blocking_set", lambda: smallest_blocking_set(compiled, faulty, seconds=seconds)
        )
    except SearchLimitError:
        blocking = None

    def smallest(found: frozenset[str] | None) -> SetSummary | None:
        if found is None:
            return None
        return SetSummary(count=None, min=len(found), max=None, mean=None, sets=(_sorted(found),))

    history = _timed(clock, "history_critical_set", lambda: _history(fbas, compiled))
    clock["total"] = time.perf_counter() - began
    results = {
        merge: GroupingResult(
            quorum_intersection=intersects,
            disjoint_quorums=None,
            minimal_quorums=None,
            top_tier=None,
            symmetric_top_tier=None,
            minimal_blocking_sets=smallest(blocking) if merge == "node" else None,
            minimal_splitting_sets=smallest(splitting) if merge == "node" else None,
            history_critical_set=_history_summary(history, lambda key, merge=merge: fbas.group_of(key, merge) or key),
        )
        for merge in merges
    }
    enumeration = f"{reason} Only the smallest sets are given (one example each)" + (
        "; the smallest blocking set was not found in time." if blocking is None else "."
    )
    return _report(fbas, compiled, faulty, enumeration=enumeration, results=results, clock=clock)


def _report(
    fbas: Fbas,
    compiled: CompiledFbas,
    faulty: frozenset[str],
    *,
    enumeration: str,
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
        enumeration=enumeration,
        results=results,
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


def _timed(clock: dict[str, float], name: str, work: Callable[[], T]) -> T:
    check()  # a cancelled analysis stops between stages too
    began = time.perf_counter()
    result = work()
    clock[name] = time.perf_counter() - began
    return result


def _summary(sets: list[frozenset[str]], max_sets: int) -> SetSummary:
    sizes = [len(s) for s in sets]
    return SetSummary(
        count=len(sets),
        min=min(sizes, default=0),
        max=max(sizes, default=0),
        mean=round(statistics.fmean(sizes), 3) if sizes else 0,
        sets=tuple(_sorted(s) for s in sets[:max_sets]),
    )


def _sorted(members: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(members))
