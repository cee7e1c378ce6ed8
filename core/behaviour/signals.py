"""Behaviour's signals for investigations: each escalation of a user's trust state (a takeover suspected, say),
about the user and, when the feed names it, the host whose keyboard and mouse it carries."""

from __future__ import annotations

import pandas as pd

from core.cases import Entity, Signal, built, link

ESCALATIONS = ("low", "high", "critical")  # a return to NORMAL is "info" and needs no look


def trust_signals(alerts: pd.DataFrame, host: str | None = None) -> list[Signal]:
    """Signals for the escalations among trust-state alerts (user, ts, from_state, to_state, severity, score,
    recommendation, source), naming `host` too when it is known."""
    return built(alerts[alerts["severity"].isin(ESCALATIONS)].itertuples(index=False), lambda row: _signal(row, host))


def _signal(row, host: str | None) -> Signal:
    ts = pd.Timestamp(row.ts)
    evidence = {"user": row.user, "from": row.from_state, "to": row.to_state, "score": float(row.score),
                "recommendation": row.recommendation, "feed": row.source, "ts": ts.isoformat()}  # fmt: skip
    return Signal(
        source="behaviour",
        kind="trust state",
        rule=f"{row.from_state} to {row.to_state}",
        key=f"behaviour:{row.source}:{row.user}:{ts.isoformat()}:{row.to_state}",
        ts=ts.to_pydatetime(),
        severity=row.severity,
        summary=f"{row.user}{f' on {host}' if host else ''}: trust {row.from_state} → {row.to_state} "
        f"(score {row.score:.2f}); {row.recommendation}",
        entities=(Entity.of("user", row.user), *((Entity.of("host", host),) if host else ())),
        evidence=evidence,
        link=link("behaviour", user=row.user),
    )
