"""FBAS's signals for investigations: a saved what-if scenario under which the network is worse off than before
(quorum intersection lost, or a smaller set of organizations can halt or split it), about those organizations."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from core.cases import Entity, Signal, built, link
from core.fbas.results import GroupingResult, SetSummary

MAX_NAMED = 20  # organizations named per signal


@dataclass(frozen=True)
class _Finding:
    rule: str
    severity: str
    what: str
    organizations: tuple[str, ...]
    detail: dict = field(default_factory=dict)


def _smallest(summary: SetSummary | None) -> tuple[int, tuple[str, ...]] | None:
    if summary is None or summary.count == 0:
        return None
    return summary.min, (summary.sets[0] if summary.sets else ())


def _findings(before: GroupingResult, after: GroupingResult) -> list[_Finding]:
    found = []
    if before.quorum_intersection and not after.quorum_intersection:
        disjoint = after.disjoint_quorums or ((), ())
        found.append(_Finding("intersection lost", "critical", "the network can fork: two quorums share no "
                              "organization", (*disjoint[0], *disjoint[1]),
                              {"disjoint_quorums": [list(q) for q in disjoint]}))  # fmt: skip
    for rule, old_sets, new_sets, verb in (
        ("smaller blocking set", before.minimal_blocking_sets, after.minimal_blocking_sets, "halt"),
        ("smaller splitting set", before.minimal_splitting_sets, after.minimal_splitting_sets, "split"),
    ):
        old, new = _smallest(old_sets), _smallest(new_sets)
        if new is not None and (old is None or new[0] < old[0]):
            was = None if old is None else old[0]
            what = f"{new[0]} organizations can {verb} the network (was {was if was is not None else 'none'})"
            found.append(
                _Finding(rule, "high", what, new[1], {"before": was, "after": new[0], "example": list(new[1])})
            )
    return found


def worse_signals(scenario: str, before: GroupingResult, after: GroupingResult) -> list[Signal]:
    """What got worse from `before` to `after` (organization-level results), one signal per finding."""
    now = datetime.now(UTC).replace(tzinfo=None)
    return built(_findings(before, after), lambda finding: _signal(scenario, finding, now))


def _signal(scenario: str, finding: _Finding, now: datetime) -> Signal:
    named = finding.organizations[:MAX_NAMED] or ("unknown organization",)
    return Signal(
        source="fbas", kind="fbas finding", rule=finding.rule, key=f"fbas:{scenario}:{finding.rule}", ts=now,
        severity=finding.severity, summary=f"Scenario {scenario}: {finding.what}",
        entities=tuple(Entity.of("organization", o) for o in named), evidence={"scenario": scenario, **finding.detail},
        link=link("fbas", scenario=scenario),
    )  # fmt: skip
