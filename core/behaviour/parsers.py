"""Readers for the public behaviour data sets, into the columnar events of `core.behaviour.events`."""

from __future__ import annotations

import gzip
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from core.behaviour.events import (
    LEFT,
    MOVE,
    NO_BUTTON,
    PRESS,
    RELEASE,
    RIGHT,
    SCROLL,
    KeyEvents,
    MouseEvents,
    key_events,
    mouse_events,
)
from core.behaviour.keys import js_key_name, key_code
from core.errors import CtasError

BALABIT_COLUMNS = ["record timestamp", "client timestamp", "button", "state", "x", "y"]
_BALABIT_KIND = {"Move": MOVE, "Drag": MOVE, "Pressed": PRESS, "Released": RELEASE, "Down": SCROLL, "Up": SCROLL}
_BALABIT_BUTTON = {"Left": LEFT, "Right": RIGHT}
MAX_SCREEN_PX = 10_000  # Balabit's RDP logs hold 65535 glitches; no screen is that wide


class DataFormatError(CtasError, ValueError):
    """A file that is not in the format its reader expects; the message says what is wrong."""


def _open_text(path: Path) -> io.TextIOBase:
    return gzip.open(path, "rt", encoding="utf-8") if path.suffix == ".gz" else path.open(encoding="utf-8")


def read_balabit(path: str | Path) -> MouseEvents:
    """One Balabit Mouse Dynamics Challenge session (CSV, optionally gzip) as mouse events, in client-time order."""
    path = Path(path)
    try:
        with _open_text(path) as handle:
            frame = pd.read_csv(handle)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise DataFormatError(f"{path.name}: not a readable CSV file ({exc})") from exc
    if list(frame.columns) != BALABIT_COLUMNS:
        raise DataFormatError(f"{path.name}: expected the Balabit columns {BALABIT_COLUMNS}, got {list(frame.columns)}")
    kind = frame["state"].map(_BALABIT_KIND)
    t = pd.to_numeric(frame["client timestamp"], errors="coerce")
    x = pd.to_numeric(frame["x"], errors="coerce")
    y = pd.to_numeric(frame["y"], errors="coerce")
    keep = kind.notna() & t.notna() & x.between(0, MAX_SCREEN_PX) & y.between(0, MAX_SCREEN_PX)
    frame, kind, t, x, y = frame[keep], kind[keep], t[keep], x[keep], y[keep]
    order = np.argsort(t.to_numpy(), kind="stable")
    button = frame["button"].map(_BALABIT_BUTTON).fillna(NO_BUTTON)
    scroll = np.where(frame["state"] == "Up", 1.0, np.where(frame["state"] == "Down", -1.0, 0.0))
    return mouse_events({
        "ts": np.round(t.to_numpy()[order] * 1e6).astype(np.int64), "x": x.to_numpy()[order],
        "y": y.to_numpy()[order], "kind": kind.to_numpy()[order], "button": button.to_numpy()[order],
        "scroll": scroll[order],
    })  # fmt: skip


@dataclass(frozen=True)
class TypedSentences:
    """One Aalto participant's key events and, per event, the typed sentence (test section) it belongs to."""

    participant: str
    keys: KeyEvents
    sentence: np.ndarray

    def sentence_of(self, down: np.ndarray) -> np.ndarray:
        """The sentence of each keystroke, given its press time (as `keystroke.keystrokes` returns them)."""
        presses = self.keys.press
        at = np.searchsorted(self.keys.ts[presses], down, side="left")
        return self.sentence[presses][np.minimum(at, presses.sum() - 1)]


AALTO_COLUMNS = ["PARTICIPANT_ID", "TEST_SECTION_ID", "PRESS_TIME", "RELEASE_TIME", "LETTER", "KEYCODE"]


def read_aalto(path: str | Path) -> TypedSentences:
    """One participant file of the Aalto 136M Keystrokes study (TSV, optionally gzip): press and release events."""
    path = Path(path)
    try:
        with _open_text(path) as handle:
            frame = pd.read_csv(handle, sep="\t", quoting=3, dtype=str, keep_default_na=False, on_bad_lines="skip")
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise DataFormatError(f"{path.name}: not a readable TSV file ({exc})") from exc
    missing = [c for c in AALTO_COLUMNS if c not in frame.columns]
    if missing:
        raise DataFormatError(f"{path.name}: missing the Aalto columns {missing}")
    press = pd.to_numeric(frame["PRESS_TIME"], errors="coerce")
    release = pd.to_numeric(frame["RELEASE_TIME"], errors="coerce")
    section = pd.to_numeric(frame["TEST_SECTION_ID"], errors="coerce")
    keep = press.notna() & release.notna() & section.notna() & (release >= press)
    frame = frame[keep]
    names = [
        letter if letter else js_key_name(int(code) if code.isdigit() else -1)
        for letter, code in zip(frame["LETTER"], frame["KEYCODE"], strict=True)
    ]
    codes = np.array([key_code(name) for name in names], dtype=np.int16)
    n = len(frame)
    ts = np.concatenate([press[keep].to_numpy(np.int64), release[keep].to_numpy(np.int64)]) * 1000
    order = np.argsort(ts, kind="stable")
    sentences = np.tile(section[keep].to_numpy(np.int64), 2)
    is_press = np.concatenate([np.ones(n, np.bool_), np.zeros(n, np.bool_)])
    participant = frame["PARTICIPANT_ID"].iloc[0] if n else path.name.split("_")[0]
    return TypedSentences(
        participant, key_events(ts[order], np.tile(codes, 2)[order], is_press[order]), sentences[order]
    )
