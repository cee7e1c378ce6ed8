"""Keystroke dynamics: key events → keystrokes (press, release) → one feature row per window or per text.

Flight times are press-to-press (PP) and release-to-press (RP) between consecutive keystrokes, leaving out pauses longer
than a second. Unigram and digraph slots are a FIXED vocabulary (the most frequent English letters and letter pairs),
so a slot means the same key or pair in every window: a slot holds the mean dwell (unigram) or PP time (digraph) and
is NaN when the window has none.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.behaviour import _kernels, keys
from core.behaviour.events import KeyEvents
from core.behaviour.keys import KEY_CLASS, KEY_CODES, KEY_NAMES, key_code
from core.behaviour.windows import DEFAULT_WINDOWS, WindowSpec, window_bounds

KEYSTROKE_BASE_FEATURES = (
    "keys", "keys_per_s", "dwell_mean", "dwell_std", "dwell_median", "pp_mean", "pp_std", "pp_median", "rp_mean",
    "rp_std", "rp_median", "overlap_share", "dwell_letter", "dwell_digit", "dwell_space", "dwell_backspace",
    "dwell_modifier", "dwell_punctuation", "pp_letter_letter", "pp_letter_space", "pp_space_letter", "pp_to_backspace",
    "pp_from_backspace", "backspace_share", "modifier_share", "punctuation_share", "pauses_per_key", "pause_mean_s",
    "burst_keys", "pp_cv",
)  # fmt: skip
UNIGRAMS = tuple("etaoinshrdlucm")
DIGRAPHS = ("th", "he", "in", "er", "an", "re", "nd", "on", "en", "at", "ou", "ed", "ha", "to", "or", "it", "is",
            "hi", "es", "ng", "e ", " t", "s ", " a", "d ", "t ", " i", " w", " s", " o")  # fmt: skip
KEYSTROKE_FEATURES = (
    *KEYSTROKE_BASE_FEATURES,
    *(f"dwell_{u}" for u in UNIGRAMS),
    *(f"pp_{d.replace(' ', '␣')}" for d in DIGRAPHS),
)
assert len(KEYSTROKE_BASE_FEATURES) == _kernels.N_KEY_BASE
_CLASSES = ("LETTER", "DIGIT", "SPACE", "BACKSPACE", "MODIFIER", "PUNCTUATION")
assert all(getattr(_kernels, c) == getattr(keys, c) for c in _CLASSES)

N_KEYS = len(KEY_NAMES)
UNIGRAM_SLOT = np.full(N_KEYS, -1, np.int64)
UNIGRAM_SLOT[[KEY_CODES[u] for u in UNIGRAMS]] = np.arange(len(UNIGRAMS))
DIGRAPH_SLOT = np.full(N_KEYS * N_KEYS, -1, np.int64)
DIGRAPH_SLOT[[key_code(a) * N_KEYS + key_code(b) for a, b in DIGRAPHS]] = np.arange(len(DIGRAPHS))
MIN_WINDOW_KEYS = 10
"""A window with fewer keystrokes than this carries too little timing to score."""


@dataclass(frozen=True)
class Keystrokes:
    """Matched keystrokes in press order: key code, key class, press and release time (µs)."""

    key: np.ndarray
    cls: np.ndarray
    down: np.ndarray
    up: np.ndarray

    def __len__(self) -> int:
        return len(self.down)


def keystrokes(events: KeyEvents) -> Keystrokes:
    """Pair presses with releases (auto-repeat presses and orphan releases are dropped)."""
    key, down, up = _kernels.pair_keystrokes(events.ts, events.key, events.press, N_KEYS)
    return Keystrokes(key, KEY_CLASS[key], down, up)


def features(strokes: Keystrokes, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """One row of KEYSTROKE_FEATURES per index range [lo, hi) of `strokes`."""
    return _kernels.keystroke_features(
        strokes.key, strokes.cls, strokes.down, strokes.up, np.asarray(lo, np.int64), np.asarray(hi, np.int64),
        UNIGRAM_SLOT, DIGRAPH_SLOT, N_KEYS, len(KEYSTROKE_FEATURES),
    )  # fmt: skip


def window_features(
    strokes: Keystrokes, spec: WindowSpec = DEFAULT_WINDOWS, **bounds: int
) -> tuple[np.ndarray, np.ndarray]:
    """Window end times (µs) and feature rows over sliding windows of keystrokes (by press time)."""
    ends, lo, hi = window_bounds(strokes.down, spec, **bounds)
    return ends, features(strokes, lo, hi)


def segment_features(strokes: Keystrokes, segment: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Feature rows per contiguous run of equal `segment` labels (one label per keystroke), e.g. typed sentences."""
    if len(segment) == 0:
        return np.empty(0, segment.dtype), np.empty((0, len(KEYSTROKE_FEATURES)))
    starts = np.flatnonzero(np.r_[True, segment[1:] != segment[:-1]])
    ends = np.r_[starts[1:], len(segment)]
    return segment[starts], features(strokes, starts, ends)
