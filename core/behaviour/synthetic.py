"""Synthetic behaviour sessions for the shipped sample and the tests: a few personas whose typing rhythm, pointer
movement and app habits differ the way people's do (dwell and flight times, movement speed and curvature, click
holds, favourite apps). Seeded, so a session is the same on every machine.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from core.behaviour.events import EventLog, EventValidator
from core.behaviour.keys import KEY_NAMES

TEXT = (
    "the quick analyst checked the alert and then opened the report on the incident. she noted that the host had "
    "been scanned from an unknown address and asked the team to review the firewall rules before the end of the day. "
    "in the meantime the monitoring system kept sampling metrics and nothing else seemed out of the ordinary. "
)


@dataclass(frozen=True)
class Persona:
    """How one synthetic person types, moves the pointer and uses apps."""

    name: str
    dwell_ms: float
    flight_ms: float
    rhythm_sd: float  # log-normal spread of timings
    error_rate: float
    speed_px_s: float
    curvature: float
    click_hold_ms: float
    sample_hz: float
    apps: tuple[str, ...]
    app_stay_s: float


PERSONAS = (
    Persona("alice", 95, 150, 0.25, 0.03, 900, 0.10, 110, 60, ("terminal", "firefox", "slack"), 25),
    Persona("bob", 130, 230, 0.40, 0.08, 520, 0.28, 170, 60, ("outlook", "excel", "firefox"), 40),
    Persona("carol", 75, 120, 0.20, 0.02, 1400, -0.15, 80, 60, ("vscode", "terminal", "chrome"), 18),
)


def persona(name: str) -> Persona:
    """The persona called `name`."""
    for p in PERSONAS:
        if p.name == name:
            return p
    raise KeyError(name)


def _lognormal(rng: np.random.Generator, mean: float, sd: float, size: int | None = None) -> np.ndarray:
    return mean * rng.lognormal(-sd * sd / 2, sd, size)


def _typing(p: Persona, rng: np.random.Generator, start_us: int, seconds: float) -> Iterator[dict]:
    """Key press/release events typing TEXT in bursts, with errors corrected by backspace."""
    t = float(start_us)
    end = start_us + seconds * 1e6
    i = int(rng.integers(len(TEXT)))
    while t < end:
        burst = int(rng.integers(15, 60))
        for _ in range(burst):
            if rng.random() < p.error_rate:
                chars = [KEY_NAMES[int(rng.integers(1, 27))], "backspace"]
            else:
                chars = [TEXT[i % len(TEXT)]]
                i += 1
            for ch in chars:
                key = (
                    "Space"
                    if ch == " "
                    else "Backspace"
                    if ch == "backspace"
                    else f"Key{ch.upper()}"
                    if ch.isalpha()
                    else ch
                )
                dwell = _lognormal(rng, p.dwell_ms * (1.3 if ch == " " else 1.0), p.rhythm_sd)
                yield {"type": "keystroke", "ts": int(t), "key": key, "event": "press"}
                yield {"type": "keystroke", "ts": int(t + dwell * 1000), "key": key, "event": "release"}
                flight = _lognormal(rng, p.flight_ms * (1.4 if ch in " .," else 1.0), p.rhythm_sd)
                t += max(flight, 20) * 1000
        t += rng.uniform(2, 12) * 1e6  # think, read, use the mouse


def _pointer(p: Persona, rng: np.random.Generator, start_us: int, seconds: float) -> Iterator[dict]:
    """Pointer movements to random targets (minimum-jerk speed profile, bent paths), clicks, drags and scrolls."""
    t = float(start_us)
    end = start_us + seconds * 1e6
    x, y = 960.0, 540.0
    step = 1e6 / p.sample_hz
    while t < end:
        tx, ty = rng.uniform(20, 1900), rng.uniform(20, 1060)
        distance = float(np.hypot(tx - x, ty - y))
        duration = max(0.15, distance / _lognormal(rng, p.speed_px_s, 0.2))
        n = max(int(duration * p.sample_hz), 3)
        s = np.linspace(0, 1, n + 1)[1:]
        progress = 10 * s**3 - 15 * s**4 + 6 * s**5  # minimum jerk
        bend = p.curvature * distance * np.sin(np.pi * progress) * rng.normal(1, 0.2)
        nx, ny = -(ty - y) / max(distance, 1), (tx - x) / max(distance, 1)
        px = x + (tx - x) * progress + nx * bend + rng.normal(0, 0.6, n)
        py = y + (ty - y) * progress + ny * bend + rng.normal(0, 0.6, n)
        drag = rng.random() < 0.08
        if drag:
            yield {"type": "mouse", "ts": int(t), "x": x, "y": y, "event": "press", "button": "left"}
        for k in range(n):
            t += step * rng.uniform(0.9, 1.1)
            yield {"type": "mouse", "ts": int(t), "x": round(float(px[k]), 1), "y": round(float(py[k]), 1),
                   "event": "move", "button": "left" if drag else ""}  # fmt: skip
        x, y = float(px[-1]), float(py[-1])
        if drag or rng.random() < 0.6:
            button = "right" if not drag and rng.random() < 0.1 else "left"
            t += _lognormal(rng, 120, 0.3) * 1000
            if not drag:
                yield {"type": "mouse", "ts": int(t), "x": x, "y": y, "event": "press", "button": button}
            t += _lognormal(rng, p.click_hold_ms, 0.25) * 1000
            yield {"type": "mouse", "ts": int(t), "x": x, "y": y, "event": "release", "button": button}
        if rng.random() < 0.15:
            for _ in range(int(rng.integers(3, 12))):
                t += _lognormal(rng, 60, 0.3) * 1000
                yield {"type": "mouse", "ts": int(t), "x": x, "y": y, "event": "scroll", "scroll_delta": -1}
        t += _lognormal(rng, 400, 0.8) * 1000


def _apps(p: Persona, rng: np.random.Generator, start_us: int, seconds: float) -> Iterator[dict]:
    t = float(start_us)
    end = start_us + seconds * 1e6
    current = 0
    while t < end:
        yield {"type": "app", "ts": int(t), "app_name": p.apps[current], "window_class": p.apps[current],
               "event": "focus"}  # fmt: skip
        current = (current + 1 + int(rng.random() < 0.3)) % len(p.apps)
        t += _lognormal(rng, p.app_stay_s, 0.5) * 1e6


def events(p: Persona, *, seconds: float, seed: int, start_us: int = 1_763_978_400_000_000) -> list[dict]:
    """One session of SecLyzer-schema events (time-ordered) of persona `p`."""
    rng = np.random.default_rng(seed)
    merged = [
        *_typing(p, rng, start_us, seconds),
        *_pointer(p, rng, start_us, seconds),
        *_apps(p, rng, start_us, seconds),
    ]
    merged = [e for e in merged if e["ts"] < start_us + seconds * 1e6]
    merged.sort(key=lambda e: e["ts"])
    return merged


def session(p: Persona, *, seconds: float, seed: int, start_us: int = 1_763_978_400_000_000) -> EventLog:
    """One session of persona `p` as columnar events."""
    validator = EventValidator()
    for event in events(p, seconds=seconds, seed=seed, start_us=start_us):
        validator.add(event)
    return validator.take()


def jsonl(records: list[dict]) -> str:
    """Events as JSON lines."""
    return "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records)
