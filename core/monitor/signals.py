"""The host monitor's signals for investigations: each alert it opens, about this host."""

from __future__ import annotations

from datetime import datetime

from core.cases import Entity, Signal, link, local_host

SEVERITY = {"info": "info", "warning": "medium", "high": "high", "critical": "critical"}


def alert_signal(alert_id: int, *, rule: str, metric: str, severity: str, message: str, started_at: datetime,
                 peak: float) -> Signal:  # fmt: skip
    """The signal of a newly opened host alert."""
    return Signal(
        source="host monitor",
        kind="host alert",
        rule=rule,
        key=f"host-alert:{alert_id}",
        ts=started_at,
        severity=SEVERITY.get(severity, "medium"),
        summary=f"{local_host()}: {message}",
        entities=(Entity.of("host", local_host()),),
        evidence={"alert": alert_id, "rule": rule, "metric": metric, "peak": peak, "started_at": started_at},
        link=link("host_monitor", alert=alert_id),
    )
