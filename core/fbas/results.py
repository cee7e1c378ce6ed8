"""What a scan returns: frozen dataclasses with `to_json()` (the CLI's contract) and the figures a page shows.

A `Scan` holds one `GroupingResult` per grouping (node, organization, country, ISP or a node field); each keeps its
sets as a `SetSummary` (all of them counted, the first `max_sets` listed) or None where the scan could not list them,
and one `AnalysisStatus` per analysis: complete, or the fallback it gave and why.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from core.fbas.model import DataWarning

HEADLINES = (
    ("quorum_intersection", "Quorum intersection"),
    ("minimal_quorums", "Minimal quorums"),
    ("top_tier", "Top tier size"),
    ("min_blocking", "Smallest blocking set"),
    ("min_splitting", "Smallest splitting set"),
    ("symmetric_top_tier", "Symmetric top tier"),
    ("history_critical", "History-critical set"),
)


@dataclass(frozen=True)
class SetSummary:
    """A family of minimal sets: how many, their sizes, and the first ones listed (sorted members).

    `count` is None when the sets were too many to list and only the smallest size (and one example) is known.
    """

    count: int | None
    min: int
    max: int | None
    mean: float | None
    sets: tuple[tuple[str, ...], ...]

    @property
    def smallest(self) -> int | str:
        """The smallest size, or "—" when there is no such set."""
        return "—" if self.count == 0 else self.min

    def describe(self) -> str:
        """One line for the analyst."""
        if self.count is None:
            return f"too many to list; the smallest have {self.min} (one shown)"
        return f"{self.count:,} in all, sizes {self.min}–{self.max}"

    def to_json(self) -> dict[str, Any]:
        sets = [list(s) for s in self.sets]
        return {"count": self.count, "min": self.min, "max": self.max, "mean": self.mean, "sets": sets}


@dataclass(frozen=True)
class AnalysisStatus:
    """Whether one analysis is complete; if not, what it gave instead (`fallback`) and why (`reason`)."""

    complete: bool
    fallback: str | None = None
    reason: str | None = None

    def describe(self) -> str:
        """One line for the analyst."""
        return "complete" if self.complete else f"{self.fallback}: {self.reason}"

    def to_json(self) -> dict[str, Any]:
        return {"complete": self.complete, "fallback": self.fallback, "reason": self.reason}


COMPLETE = AnalysisStatus(True)


@dataclass(frozen=True)
class HistorySummary:
    """The smallest history-critical set (node level), the groups of its nodes, the quorum it completes, or why
    there is none (`size` None and `reason` set)."""

    size: int | None
    nodes: tuple[str, ...]
    groups: tuple[str, ...]
    quorum: tuple[str, ...]
    reason: str | None

    def to_json(self) -> dict[str, Any]:
        return {"size": self.size, "nodes": list(self.nodes), "groups": list(self.groups), "quorum": list(self.quorum),
                "reason": self.reason}  # fmt: skip


@dataclass(frozen=True)
class GroupingResult:
    """Every analysis for one grouping; None where the scan fell back to the smallest sets only."""

    quorum_intersection: bool
    disjoint_quorums: tuple[tuple[str, ...], tuple[str, ...]] | None
    minimal_quorums: SetSummary | None
    top_tier: tuple[str, ...] | None
    symmetric_top_tier: dict[str, Any] | None
    minimal_blocking_sets: SetSummary | None
    minimal_splitting_sets: SetSummary | None
    history_critical_set: HistorySummary

    def headline(self) -> dict[str, Any]:
        """The page's headline figures, keyed as `HEADLINES`."""
        history = self.history_critical_set
        return {
            "quorum_intersection": "yes" if self.quorum_intersection else "NO",
            "minimal_quorums": "too many" if self.minimal_quorums is None else self.minimal_quorums.count,
            "top_tier": "—" if self.top_tier is None else len(self.top_tier),
            "min_blocking": _smallest(self.minimal_blocking_sets),
            "min_splitting": _smallest(self.minimal_splitting_sets),
            "symmetric_top_tier": "—" if self.top_tier is None else "yes" if self.symmetric_top_tier else "no",
            "history_critical": "—" if history.size is None else history.size,
        }

    def highlight_choices(self) -> dict[str, list[tuple[str, ...]]]:
        """What the trust graph can ring, by the analyst's name for it: each a list of sets of groups."""
        disjoint = self.disjoint_quorums
        history = self.history_critical_set
        return {
            "nothing": [],
            **({"the two disjoint quorums": [(*disjoint[0], *disjoint[1])]} if disjoint else {}),
            "a minimal quorum": _listed(self.minimal_quorums),
            "a minimal blocking set": _listed(self.minimal_blocking_sets),
            "a minimal splitting set": _listed(self.minimal_splitting_sets),
            **({"the history-critical set": [history.groups]} if history.size else {}),
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "quorum_intersection": self.quorum_intersection,
            "disjoint_quorums": None if self.disjoint_quorums is None else list(map(list, self.disjoint_quorums)),
            "minimal_quorums": _json(self.minimal_quorums),
            "top_tier": None if self.top_tier is None else list(self.top_tier),
            "symmetric_top_tier": self.symmetric_top_tier,
            "minimal_blocking_sets": _json(self.minimal_blocking_sets),
            "minimal_splitting_sets": _json(self.minimal_splitting_sets),
            "history_critical_set": self.history_critical_set.to_json(),
        }


@dataclass(frozen=True)
class Scan:
    """A full scan: what was read, how complete the answer is, the results per grouping, and timings."""

    nodes: int
    validators: int
    faulty: tuple[str, ...]
    removed_self_quorums: tuple[str, ...]
    warnings: tuple[DataWarning, ...]
    results: dict[str, GroupingResult]
    analyses: dict[str, AnalysisStatus]
    elapsed_ms: dict[str, float]

    @property
    def complete(self) -> bool:
        """Whether every analysis is complete (otherwise `enumeration` says which are not, and why)."""
        return all(status.complete for status in self.analyses.values())

    @property
    def enumeration(self) -> str:
        """ "complete", or one sentence per analysis that fell back."""
        if self.complete:
            return "complete"
        return " ".join(
            f"{name.replace('_', ' ').capitalize()}: {status.fallback} ({status.reason})"
            for name, status in self.analyses.items()
            if not status.complete
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "nodes": self.nodes,
            "validators": self.validators,
            "faulty": list(self.faulty),
            "removed_self_quorums": list(self.removed_self_quorums),
            "warnings": [{"code": w.code, "node": w.node, "message": w.message} for w in self.warnings],
            "enumeration": self.enumeration,
            "analyses": {name: status.to_json() for name, status in self.analyses.items()},
            "results": {merge: result.to_json() for merge, result in self.results.items()},
            "elapsed_ms": dict(self.elapsed_ms),
        }


def group_warnings(warnings: Iterable[DataWarning]) -> list[tuple[str, list[DataWarning]]]:
    """Warnings grouped by code, the most frequent code first (ties by code)."""
    groups: dict[str, list[DataWarning]] = {}
    for warning in warnings:
        groups.setdefault(warning.code, []).append(warning)
    return sorted(groups.items(), key=lambda item: (-len(item[1]), item[0]))


def _smallest(summary: SetSummary | None) -> int | str:
    return "—" if summary is None else summary.smallest


def _listed(summary: SetSummary | None) -> list[tuple[str, ...]]:
    return [] if summary is None else list(summary.sets)


def _json(summary: SetSummary | None) -> dict[str, Any] | None:
    return None if summary is None else summary.to_json()
