"""Continuous verification of live events: per user, every `step` seconds of event time, score the last `length`
seconds of each modality against the user's profile, fuse, and move the trust state.

Events come as SecLyzer JSON (one dict or one JSON line each). An event may name its `user`; otherwise it belongs
to the monitor's default user. Bad events, events of users with no profile and (for a live feed, `max_ahead_s`)
events stamped in the future are counted and skipped. Windows are closed by event time: a window ending at E is
scored when the first event at or after E arrives.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from core.behaviour.decision import TrustState, TrustStateMachine, fuse
from core.behaviour.events import AppEvents, EventLog, EventValidator, decode, since
from core.behaviour.profiles import MODALITIES, UserProfile

KEEP_EXTRA_US = 5_000_000  # events kept before a window: a key pressed just before it still pairs with its release


def _utc(ts_us: int) -> datetime:
    return datetime.fromtimestamp(ts_us / 1e6, UTC).replace(tzinfo=None)


def _concat(a, b):
    """Two columnar event batches of one kind, one after the other."""
    if isinstance(a, AppEvents):
        names = b.names  # the validator's app names only grow, so the newer batch's list covers both
        return AppEvents(np.r_[a.ts, b.ts], np.r_[a.app, b.app].astype(np.int32), names)
    fields = a.__dataclass_fields__
    return type(a)(**{name: np.concatenate([getattr(a, name), getattr(b, name)]) for name in fields})


def _merge(old: EventLog, new: EventLog) -> EventLog:
    return EventLog(_concat(old.keys, new.keys), _concat(old.mouse, new.mouse), _concat(old.apps, new.apps))


@dataclass
class _UserStream:
    validator: EventValidator = field(default_factory=EventValidator)
    log: EventLog | None = None
    machine: TrustStateMachine = field(default_factory=TrustStateMachine)
    next_tick: int | None = None
    last_ts: int = 0


class BehaviourMonitor:
    """Scores live events of enrolled users; `flush` hands over new score rows and alerts for the warehouse."""

    def __init__(
        self,
        profiles: dict[str, UserProfile],
        *,
        source: str,
        host: str | None = None,
        default_user: str | None = None,
        escalate_after: int = 3,
        recover_after: int = 4,
        max_ahead_s: float | None = None,
    ) -> None:
        self.profiles = profiles
        self.max_ahead_s = max_ahead_s
        self.source = source
        self.host = host  # the machine whose input the feed carries (its alerts name it), when known
        self.default_user = default_user
        self._escalate_after, self._recover_after = escalate_after, recover_after
        self._streams: dict[str, _UserStream] = {}
        self._scores: list[dict] = []
        self._alerts: list[dict] = []
        self._skipped: Counter[str] = Counter()
        self.accepted = 0

    def state(self, user: str) -> TrustState:
        stream = self._streams.get(user)
        return stream.machine.state if stream else TrustState.NORMAL

    def feed(self, event: dict | str | bytes) -> bool:
        """Take one event; returns whether it was accepted. Never raises on bad input."""
        if isinstance(event, str | bytes):
            event = decode(event)
        if not isinstance(event, dict):
            self._skipped["malformed"] += 1
            return False
        user = event.get("user", self.default_user)
        if not isinstance(user, str) or user not in self.profiles:
            self._skipped["unknown_user"] += 1
            return False
        ts = event.get("ts")
        if self.max_ahead_s is not None and isinstance(ts, int | float) and ts > (time.time() + self.max_ahead_s) * 1e6:
            self._skipped["time_ahead"] += 1  # one bad clock must not push the user's stream into the future
            return False
        stream = self._streams.get(user)
        if stream is None:
            stream = self._streams[user] = _UserStream(
                machine=TrustStateMachine(self._escalate_after, self._recover_after)
            )
        if stream.validator.add(event) is None:
            return False
        self.accepted += 1
        self._advance(user, stream, int(event["ts"]))
        return True

    def _advance(self, user: str, stream: _UserStream, ts: int) -> None:
        """Score every window that ends at or before `ts`; windows that hold no event at all are skipped."""
        spec = self.profiles[user].spec
        length, step = round(spec.length_s * 1e6), round(spec.step_s * 1e6)
        if stream.next_tick is None:
            stream.next_tick = ts + length
        while ts >= stream.next_tick:
            if stream.next_tick - length >= stream.last_ts:  # a gap: every window up to `ts` is empty
                stream.next_tick += -(-(ts - stream.next_tick) // step) * step
                if ts < stream.next_tick:
                    break
            self._tick(user, stream, stream.next_tick)
            stream.next_tick += step
        stream.last_ts = ts

    def _tick(self, user: str, stream: _UserStream, end_us: int) -> None:
        profile = self.profiles[user]
        fresh = stream.validator.take()
        log = fresh if stream.log is None else _merge(stream.log, fresh)
        start_us = end_us - round(profile.spec.length_s * 1e6)
        cut = start_us - KEEP_EXTRA_US
        stream.log = EventLog(since(log.keys, cut), since(log.mouse, cut), since(log.apps, cut))
        table = profile.score(stream.log, start_us=start_us, end_us=end_us)
        scores = {m: None for m in MODALITIES}
        if len(table):
            row = table.iloc[-1]
            scores.update({m: float(row[m]) for m in MODALITIES if np.isfinite(row[m])})
        fused = fuse(scores)
        if fused is None:  # nothing to score in this window: no row, and the state stays as it is
            return
        transition = stream.machine.update(fused)
        when = _utc(end_us)
        self._scores.append({"user": user, "ts": when, **scores, "fused": fused, "state": stream.machine.state.name,
                             "source": self.source})  # fmt: skip
        if transition is not None:
            self._alerts.append({"user": user, "ts": when, "from_state": transition.before.name,
                                 "to_state": transition.after.name, "severity": transition.severity,
                                 "score": transition.score, "recommendation": transition.recommendation,
                                 "source": self.source})  # fmt: skip

    @property
    def rejected(self) -> Counter[str]:
        """Skipped events by reason, over every user."""
        total = Counter(self._skipped)
        for stream in self._streams.values():
            total.update(stream.validator.rejected)
        return total

    def flush(self) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
        """New score rows and alerts since the last flush, and the feed counters (for Warehouse.append_behaviour)."""
        scores = pd.DataFrame(self._scores, columns=["user", "ts", *MODALITIES, "fused", "state", "source"])
        alerts = pd.DataFrame(self._alerts, columns=["user", "ts", "from_state", "to_state", "severity", "score",
                                                     "recommendation", "source"])  # fmt: skip
        self._scores, self._alerts = [], []
        feed = {"source": self.source, "updated_at": datetime.now(UTC).replace(tzinfo=None), "accepted": self.accepted,
                "rejected": json.dumps(dict(self.rejected)), "host": self.host}  # fmt: skip
        return scores, alerts, feed
