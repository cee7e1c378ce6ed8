"""Alert rules over host metrics: a threshold held for a duration opens an alert, hysteresis closes it.

A rule fires when its metric stays above `threshold` for `duration_s` seconds, and opens one alert (never a second
while the first is open); the alert ends when the metric falls below `threshold − hysteresis`. Alerts and their peak
values are kept in the warehouse; acknowledging one is recorded there too.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Protocol

import pandas as pd

from core.errors import CtasError

SEVERITIES = ("info", "warning", "high", "critical")
MAX_MAGNITUDE = 1e15  # larger than any metric CTAS samples, small enough to print and compare exactly
MAX_NAME = 80


def _finite_number(value: object) -> bool:
    """A real number (not a bool) no larger than MAX_MAGNITUDE either way."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(value) and abs(value) <= MAX_MAGNITUDE
    except OverflowError:
        return False


class AlertRuleError(CtasError, ValueError):
    """A rule cannot be used; the message names the rule and the problem."""


@dataclass(frozen=True)
class AlertRule:
    """Alert when `metric` stays above `threshold` for `duration_s` seconds."""

    name: str
    metric: str
    threshold: float
    duration_s: float = 0.0
    hysteresis: float = 0.0
    severity: str = "warning"
    action: str = ""
    enabled: bool = True

    def __post_init__(self) -> None:
        label = self.name or "(unnamed)"
        if not self.name.strip() or len(self.name) > MAX_NAME:
            raise AlertRuleError(f"Rule {label}: a name of 1 to {MAX_NAME} characters is needed.")
        if not self.metric.strip():
            raise AlertRuleError(f"Rule {label}: choose the metric it watches.")
        for what, value in (
            ("threshold", self.threshold),
            ("duration", self.duration_s),
            ("hysteresis", self.hysteresis),
        ):
            if not _finite_number(value):
                raise AlertRuleError(f"Rule {label}: the {what} must be a number between ±{MAX_MAGNITUDE:g}.")
        if self.duration_s < 0 or self.hysteresis < 0:
            raise AlertRuleError(f"Rule {label}: duration and hysteresis cannot be negative.")
        if self.severity not in SEVERITIES:
            raise AlertRuleError(f"Rule {label}: severity must be one of {', '.join(SEVERITIES)}.")

    def describe(self) -> str:
        """The condition in words."""
        held = f" for {self.duration_s:g} s" if self.duration_s else ""
        return f"{self.metric} > {self.threshold:g}{held}"


DEFAULT_RULES = (
    AlertRule("CPU busy", "cpu.total", 80.0, 120.0, 5.0, "high",
              "Find the busiest processes below; stop or throttle runaway jobs, then add capacity if it persists."),
    AlertRule("Memory pressure", "memory.used_percent", 85.0, 60.0, 3.0, "warning",
              "Check the largest processes for leaks; restart or limit them before the host starts swapping."),
    AlertRule("Disk nearly full", "disk.used_percent", 90.0, 0.0, 1.0, "critical",
              "Free space now: rotate or delete logs and old data sets, or grow the volume."),
    AlertRule("CPU behaving unusually", "anomaly_rate.cpu.total", 20.0, 60.0, 5.0, "info",
              "CPU load departs from its recent pattern: compare with deployments, cron jobs and logins."),
)  # fmt: skip


def rules_from_frame(frame: pd.DataFrame) -> list[AlertRule]:
    """Rules from an edited table; raises `AlertRuleError` naming the first bad row (or a duplicated name)."""
    rules = []
    for position, row in enumerate(frame.to_dict("records"), start=1):
        try:
            rules.append(
                AlertRule(
                    name=_text(row.get("name")),
                    metric=_text(row.get("metric")),
                    threshold=_number(row.get("threshold")),
                    duration_s=_number(row.get("duration_s"), 0.0),
                    hysteresis=_number(row.get("hysteresis"), 0.0),
                    severity=_text(row.get("severity")) or "warning",
                    action=_text(row.get("action")),
                    enabled=True if _blank(row.get("enabled")) else bool(row.get("enabled")),
                )
            )
        except AlertRuleError as error:
            raise AlertRuleError(f"Row {position}: {error}") from None
    names = [r.name for r in rules]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise AlertRuleError(f"Rule names must be unique: {', '.join(duplicated)} appears more than once.")
    return rules


def _blank(value: object) -> bool:
    return value is None or (not isinstance(value, list | tuple) and bool(pd.isna(value)))


def _text(value: object) -> str:
    """A cell as stripped text; empty, None and NaN cells (new editor rows) are ''."""
    return "" if _blank(value) else str(value).strip()


def _number(value: object, default: float | None = None) -> float:
    if _blank(value):
        return default if default is not None else math.nan
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):  # 10**400 is an int no float holds
        return math.nan


def rules_frame(rules: list[AlertRule] | tuple[AlertRule, ...]) -> pd.DataFrame:
    """Rules as a table with the warehouse's columns."""
    return pd.DataFrame([asdict(r) for r in rules], columns=[f for f in AlertRule.__dataclass_fields__])


class AlertStore(Protocol):
    """Where alerts are kept (the warehouse)."""

    def open_alert(
        self, *, rule: str, metric: str, severity: str, message: str, action: str, started_at: datetime, peak: float
    ) -> int: ...

    def update_alert(self, alert_id: int, peak: float, ended_at: datetime | None = None) -> None: ...

    def alerts(self, since: datetime | None = None, open_only: bool = False) -> pd.DataFrame: ...


@dataclass
class _RuleState:
    above_since: datetime | None = None
    last_reading: datetime | None = None
    alert_id: int | None = None
    peak: float = -math.inf

    def restart(self) -> None:
        """Forget a condition that has not (yet) opened an alert."""
        self.above_since = None
        self.peak = -math.inf


@dataclass(frozen=True)
class AlertEvent:
    """An alert opened or closed by one evaluation."""

    kind: str  # "opened" or "closed"
    alert_id: int
    rule: str
    value: float


@dataclass
class AlertEngine:
    """Evaluates rules against each new set of readings; open alerts survive restarts through the store.

    A rule's duration counts only unbroken readings: a missing reading, or readings more than `max_gap_s` apart
    (the sampler was stopped or stalled), start it again. An open alert whose rule is disabled, renamed or deleted
    is closed.
    """

    store: AlertStore
    max_gap_s: float = 10.0
    _states: dict[str, _RuleState] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for row in self.store.alerts(open_only=True).itertuples():  # newest first
            if row.rule in self._states:  # an older duplicate (two samplers once ran): superseded by the newest
                self.store.update_alert(int(row.id), float(row.peak), ended_at=row.started_at)
                continue
            self._states[row.rule] = _RuleState(alert_id=int(row.id), peak=float(row.peak))

    def evaluate(self, now: datetime, readings: dict[str, float], rules: list[AlertRule]) -> list[AlertEvent]:
        """Apply every enabled rule to the readings taken at `now`; returns what opened or closed."""
        active = {rule.name: rule for rule in rules if rule.enabled}
        events = self._close_orphans(now, active)
        for rule in active.values():
            state = self._states.setdefault(rule.name, _RuleState())
            value = readings.get(rule.metric)
            gap = state.last_reading is not None and (now - state.last_reading).total_seconds() > self.max_gap_s
            if value is None or not math.isfinite(value) or gap:
                if state.alert_id is None:  # the condition must hold again for the whole duration
                    state.restart()
                if value is None or not math.isfinite(value):
                    continue
            state.last_reading = now
            if state.alert_id is not None:
                events.extend(self._follow(state, rule, now, value))
            elif value <= rule.threshold:
                state.restart()
            else:
                events.extend(self._hold(state, rule, now, value))
        return events

    def _close_orphans(self, now: datetime, active: dict[str, AlertRule]) -> list[AlertEvent]:
        events = []
        for name in [n for n in self._states if n not in active]:
            state = self._states.pop(name)
            if state.alert_id is not None:
                self.store.update_alert(state.alert_id, state.peak, ended_at=now)
                events.append(AlertEvent("closed", state.alert_id, name, math.nan))
        return events

    def _hold(self, state: _RuleState, rule: AlertRule, now: datetime, value: float) -> list[AlertEvent]:
        state.above_since = state.above_since or now
        state.peak = max(state.peak, value)
        if (now - state.above_since).total_seconds() < rule.duration_s:
            return []
        state.alert_id = self.store.open_alert(
            rule=rule.name,
            metric=rule.metric,
            severity=rule.severity,
            message=f"{rule.describe()}: now {value:.1f}",
            action=rule.action,
            started_at=state.above_since,
            peak=state.peak,
        )
        return [AlertEvent("opened", state.alert_id, rule.name, value)]

    def _follow(self, state: _RuleState, rule: AlertRule, now: datetime, value: float) -> list[AlertEvent]:
        if value < rule.threshold - rule.hysteresis:
            alert_id = state.alert_id
            self.store.update_alert(alert_id, state.peak, ended_at=now)
            state.alert_id = None
            state.restart()
            return [AlertEvent("closed", alert_id, rule.name, value)]
        if value > state.peak:
            state.peak = value
            self.store.update_alert(state.alert_id, value)
        return []
