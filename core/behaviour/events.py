"""One columnar representation of behaviour events, and the validation every event passes before it is used.

Events follow SecLyzer's JSON schema (`type` keystroke / mouse / app, `ts` in microseconds). A bad event (not an object,
a missing field, a wrong type, time going backwards, a flood) is counted under its reason and skipped: it never stops
a reader or a consumer.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from core.behaviour.keys import key_code
from core.errors import CtasError

MOVE, PRESS, RELEASE, SCROLL = range(4)
MOUSE_EVENTS = {"move": MOVE, "press": PRESS, "release": RELEASE, "scroll": SCROLL, "drag": MOVE}
NO_BUTTON, LEFT, RIGHT, MIDDLE, OTHER_BUTTON = range(5)
BUTTONS = {"left": LEFT, "right": RIGHT, "middle": MIDDLE, "nobutton": NO_BUTTON, "none": NO_BUTTON, "": NO_BUTTON}

MAX_LINE_BYTES = 4096
LATEST_TS = 4_102_444_800_000_000  # 2100-01-01 in µs: a later time stamp is a wrong value, not a time
FLOOD_LIMITS = {"keystroke": 200, "mouse": 1000, "app": 20}
"""Most events per second per modality a person can make (a held key repeats at ~30/s; mice poll at up to 1 kHz)."""

MAX_APP_NAMES = 1000
OTHER_APPS = "(other apps)"
REASONS = (
    "malformed",
    "missing_field",
    "wrong_type",
    "unknown_event",
    "time_backwards",
    "flood",
    "time_ahead",
    "unknown_user",
)  # the last two: the live monitor's checks


@dataclass(frozen=True)
class KeyEvents:
    """Key presses and releases: time (µs), key code (`core.behaviour.keys`), True for a press."""

    ts: np.ndarray
    key: np.ndarray
    press: np.ndarray

    def __len__(self) -> int:
        return len(self.ts)


@dataclass(frozen=True)
class MouseEvents:
    """Mouse events: time (µs), position (px), kind (MOVE/PRESS/RELEASE/SCROLL), button, scroll delta."""

    ts: np.ndarray
    x: np.ndarray
    y: np.ndarray
    kind: np.ndarray
    button: np.ndarray
    scroll: np.ndarray

    def __len__(self) -> int:
        return len(self.ts)


@dataclass(frozen=True)
class AppEvents:
    """Application focus changes: time (µs) and an index into `names`."""

    ts: np.ndarray
    app: np.ndarray
    names: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.ts)


def key_events(ts: Iterable[int], key: Iterable[int], press: Iterable[bool]) -> KeyEvents:
    """Key events from columns, with the array types the kernels expect."""
    return KeyEvents(np.asarray(ts, np.int64), np.asarray(key, np.int16), np.asarray(press, np.bool_))


def mouse_events(columns: dict[str, Iterable]) -> MouseEvents:
    """Mouse events from columns ts, x, y, kind, button, scroll, with the array types the kernels expect."""
    return MouseEvents(
        np.asarray(columns["ts"], np.int64), np.asarray(columns["x"], np.float64),
        np.asarray(columns["y"], np.float64), np.asarray(columns["kind"], np.int8),
        np.asarray(columns["button"], np.int8), np.asarray(columns["scroll"], np.float64),
    )  # fmt: skip


@dataclass
class EventLog:
    """Accepted events of one source, per modality, and the count of rejected events by reason."""

    keys: KeyEvents
    mouse: MouseEvents
    apps: AppEvents
    rejected: Counter[str] = field(default_factory=Counter)

    @property
    def accepted(self) -> int:
        return len(self.keys) + len(self.mouse) + len(self.apps)


@dataclass
class _Columns:
    key_ts: list[int] = field(default_factory=list)
    key: list[int] = field(default_factory=list)
    press: list[bool] = field(default_factory=list)
    mouse_ts: list[int] = field(default_factory=list)
    x: list[float] = field(default_factory=list)
    y: list[float] = field(default_factory=list)
    kind: list[int] = field(default_factory=list)
    button: list[int] = field(default_factory=list)
    scroll: list[float] = field(default_factory=list)
    app_ts: list[int] = field(default_factory=list)
    app: list[int] = field(default_factory=list)


def decode(line: str | bytes) -> dict | None:
    """One JSON object from a line, or None for anything else (too long, not JSON, nested too deep, not an object)."""
    if len(line) > MAX_LINE_BYTES:
        return None
    try:
        event = json.loads(line)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    return event if isinstance(event, dict) else None


class RejectedEventError(CtasError, ValueError):
    """An event that cannot be used; `reason` is one of REASONS."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


def _number(event: dict, name: str, *, required: bool = True, default: float = 0.0) -> float:
    if name not in event or event[name] is None:
        if required:
            raise RejectedEventError("missing_field", f"no {name!r}")
        return default
    value = event[name]
    try:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise RejectedEventError("wrong_type", f"{name!r} is not a finite number")
        return float(value)
    except OverflowError:  # an integer too large for a float
        raise RejectedEventError("wrong_type", f"{name!r} is out of range") from None


def _text(event: dict, name: str, *, required: bool = True) -> str:
    if name not in event or event[name] is None:
        if required:
            raise RejectedEventError("missing_field", f"no {name!r}")
        return ""
    if not isinstance(event[name], str):
        raise RejectedEventError("wrong_type", f"{name!r} is not text")
    return event[name]


class EventValidator:
    """Checks events one at a time and collects the good ones; keeps per-modality clocks and flood counters."""

    def __init__(self) -> None:
        self.rejected: Counter[str] = Counter()
        self._columns = _Columns()
        self._app_names: dict[str, int] = {}
        self._last_ts: dict[str, int] = {}
        self._second: dict[str, tuple[int, int]] = {}

    def add_line(self, line: str | bytes) -> str | None:
        """Parse and add one JSON line; returns the modality, or None when the line was rejected."""
        event = decode(line)
        if event is None:
            self.rejected["malformed"] += 1
            return None
        return self.add(event)

    def add(self, event: object) -> str | None:
        """Add one decoded event; returns the modality, or None when the event was rejected (and counted)."""
        try:
            return self._add(event)
        except RejectedEventError as rejected:
            self.rejected[rejected.reason] += 1
            return None

    def _add(self, event: object) -> str:
        if not isinstance(event, dict):
            raise RejectedEventError("malformed", "not a JSON object")
        kind = _text(event, "type")
        ts_value = _number(event, "ts")
        if not 0 <= ts_value <= LATEST_TS:
            raise RejectedEventError("wrong_type", "'ts' is not a time in microseconds")
        ts = int(ts_value)
        action = _text(event, "event").lower()
        c = self._columns
        if kind == "keystroke":
            if action not in ("press", "release"):
                raise RejectedEventError("unknown_event", f"keystroke event {action!r}")
            code = key_code(_text(event, "key"))
            self._clock(kind, ts)
            c.key_ts.append(ts)
            c.key.append(code)
            c.press.append(action == "press")
        elif kind == "mouse":
            if action not in MOUSE_EVENTS:
                raise RejectedEventError("unknown_event", f"mouse event {action!r}")
            x, y = _number(event, "x"), _number(event, "y")
            button = BUTTONS.get(_text(event, "button", required=False).lower(), OTHER_BUTTON)
            scroll = _number(event, "scroll_delta", required=False)
            self._clock(kind, ts)
            c.mouse_ts.append(ts)
            c.x.append(x)
            c.y.append(y)
            c.kind.append(MOUSE_EVENTS[action])
            c.button.append(button)
            c.scroll.append(scroll)
        elif kind == "app":
            if action != "focus":
                raise RejectedEventError("unknown_event", f"app event {action!r}")
            name = _text(event, "app_name", required=False) or _text(event, "window_class", required=False)
            if not name:
                raise RejectedEventError("missing_field", "no 'app_name' or 'window_class'")
            self._clock(kind, ts)
            c.app_ts.append(ts)
            c.app.append(self._app_code(name[:200]))
        else:
            raise RejectedEventError("unknown_event", f"event type {kind!r}")
        return kind

    def _app_code(self, name: str) -> int:
        """The app's index; beyond MAX_APP_NAMES − 1 distinct names, new ones share one last index (other apps)."""
        if name not in self._app_names and len(self._app_names) >= MAX_APP_NAMES - 1:
            name = OTHER_APPS
        return self._app_names.setdefault(name, len(self._app_names))

    def _clock(self, modality: str, ts: int) -> None:
        """Refuse time going backwards and more events per second than FLOOD_LIMITS allows."""
        if ts < self._last_ts.get(modality, 0):
            raise RejectedEventError("time_backwards", f"{modality} time went backwards")
        second, count = self._second.get(modality, (-1, 0))
        count = count + 1 if ts // 1_000_000 == second else 1
        self._second[modality] = (ts // 1_000_000, count)
        if count > FLOOD_LIMITS[modality]:
            raise RejectedEventError("flood", f"more than {FLOOD_LIMITS[modality]} {modality} events in one second")
        self._last_ts[modality] = ts

    def take(self) -> EventLog:
        """The events collected so far (the validator starts a new batch; clocks and counters carry on)."""
        c, self._columns = self._columns, _Columns()
        names = tuple(self._app_names)
        return EventLog(
            keys=key_events(c.key_ts, c.key, c.press),
            mouse=mouse_events(
                {"ts": c.mouse_ts, "x": c.x, "y": c.y, "kind": c.kind, "button": c.button, "scroll": c.scroll}
            ),
            apps=AppEvents(np.asarray(c.app_ts, np.int64), np.asarray(c.app, np.int32), names),
            rejected=Counter(self.rejected),
        )


def parse_jsonl(lines: Iterable[str | bytes]) -> EventLog:
    """Events from JSON lines (SecLyzer's schema); blank lines are skipped, bad lines counted in `rejected`."""
    validator = EventValidator()
    for line in lines:
        if line.strip():
            validator.add_line(line)
    return validator.take()


def group_events(events: Iterable[dict], field_name: str) -> tuple[dict[str, EventLog], int]:
    """Events grouped by a text field (user, session), each group validated; also how many events were rejected
    (including those without the field)."""
    validators: dict[str, EventValidator] = {}
    missing = 0
    for event in events:
        key = event.get(field_name)
        if isinstance(key, bool) or not isinstance(key, str | int):
            missing += 1
            continue
        validators.setdefault(str(key), EventValidator()).add(event)
    logs = {key: v.take() for key, v in validators.items()}
    return logs, missing + sum(sum(log.rejected.values()) for log in logs.values())


def since(batch: KeyEvents | MouseEvents | AppEvents, start_us: int, until_us: int | None = None):
    """The events of a batch after `start_us` (and up to `until_us`, inclusive, when given)."""
    keep = batch.ts > start_us
    if until_us is not None:
        keep &= batch.ts <= until_us
    if isinstance(batch, AppEvents):
        return AppEvents(batch.ts[keep], batch.app[keep], batch.names)
    return type(batch)(**{name: getattr(batch, name)[keep] for name in batch.__dataclass_fields__})
