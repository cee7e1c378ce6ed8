"""The triage score: a product of four terms an analyst can read off every row.

- severity: the weight of the worst severity (info 1, low 2, medium 3, high 4, critical 5);
- recency: 0.5 ** (hours since the newest signal was raised / HALF_LIFE_HOURS);
- corroboration: how many independent capabilities have signals on the entity or on entities linked to it (an IP and
  the CIDR or H3 cell it lies in);
- volume: 1 + 0.5 * (1 - 1/n) for n signals: more signals count, but never as much as a second capability does.

score = severity x recency x corroboration x volume. Each term is positive and non-decreasing in what it measures,
so the score is monotone in each; `score_sql` is the same formula for the warehouse and `score` the reference.
"""

from __future__ import annotations

from core.cases.signals import SEVERITIES

SEVERITY_WEIGHT = {name: float(i + 1) for i, name in enumerate(SEVERITIES)}
HALF_LIFE_HOURS = 24.0
VOLUME_GAIN = 0.5


def recency(age_hours: float) -> float:
    """The recency term of a signal raised `age_hours` ago (a signal from the future counts as new)."""
    return 0.5 ** (max(age_hours, 0.0) / HALF_LIFE_HOURS)


def volume(signals: int) -> float:
    """The volume term of `signals` signals (at least one)."""
    return 1.0 + VOLUME_GAIN * (1.0 - 1.0 / max(signals, 1))


def score(severity: float, recency_term: float, corroboration: int, volume_term: float) -> float:
    """The triage score from its four terms."""
    return severity * recency_term * corroboration * volume_term


def severity_sql(column: str) -> str:
    """SQL for the severity weight of a severity name held in `column`."""
    cases = " ".join(f"WHEN '{name}' THEN {weight}" for name, weight in SEVERITY_WEIGHT.items())
    return f"(CASE {column} {cases} ELSE 1.0 END)"


def recency_sql(raised: str, now: str) -> str:
    """SQL for the recency term of a signal raised at `raised`, seen at `now`."""
    age = f"greatest(epoch({now}) - epoch({raised}), 0) / 3600.0"
    return f"pow(0.5, {age} / {HALF_LIFE_HOURS})"


def volume_sql(count: str) -> str:
    """SQL for the volume term of `count` signals."""
    return f"(1.0 + {VOLUME_GAIN} * (1.0 - 1.0 / greatest({count}, 1)))"


def explain(severity: float, recency_term: float, corroboration: int, volume_term: float) -> str:
    """The score written out with its terms, as the queue shows it."""
    total = score(severity, recency_term, corroboration, volume_term)
    return (
        f"{total:.2f} = severity {severity:g} × recency {recency_term:.2f} × "
        f"corroboration {corroboration} × volume {volume_term:.2f}"
    )
