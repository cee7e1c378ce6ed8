"""The behaviour kernels equal their plain Python references on generated event streams."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from core.behaviour import _kernels, keystroke, mouse
from core.behaviour.events import key_events, mouse_events
from core.behaviour.keys import KEY_CLASS, KEY_CODES
from tests.core.behaviour import reference

FAST_KEYS = [KEY_CODES[c] for c in ("t", "h", "e", "space", "backspace", "shift", "a", "1", ".", "n")]


def assert_rows_equal(got, expected) -> None:
    np.testing.assert_allclose(
        np.asarray(got, float), np.asarray(expected, float), rtol=1e-9, atol=1e-9, equal_nan=True
    )


@st.composite
def key_streams(draw):
    """Presses and releases with repeats, orphans and overlaps, in time order."""
    n = draw(st.integers(0, 60))
    gaps = draw(st.lists(st.integers(0, 1_500_000), min_size=n, max_size=n))
    keys = draw(st.lists(st.sampled_from(FAST_KEYS), min_size=n, max_size=n))
    press = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    return key_events(np.cumsum(gaps, dtype=np.int64), keys, press)


@given(key_streams())
@settings(max_examples=150, deadline=None)
def test_pairing_matches_reference(events) -> None:
    key, down, up = _kernels.pair_keystrokes(events.ts, events.key, events.press, len(KEY_CLASS))
    ref_key, ref_down, ref_up = reference.pair_keystrokes(events.ts, events.key, events.press)
    assert key.tolist() == ref_key
    assert down.tolist() == ref_down
    assert up.tolist() == ref_up


@given(key_streams(), st.data())
@settings(max_examples=150, deadline=None)
def test_keystroke_window_matches_reference(events, data) -> None:
    strokes = keystroke.keystrokes(events)
    n = len(strokes)
    lo = data.draw(st.integers(0, n))
    hi = data.draw(st.integers(lo, n))
    got = keystroke.features(strokes, np.array([lo]), np.array([hi]))[0]
    expected = reference.keystroke_window(
        strokes.key.tolist(), strokes.cls.tolist(), strokes.down.tolist(), strokes.up.tolist(), lo, hi,
        keystroke.UNIGRAM_SLOT.tolist(), keystroke.DIGRAPH_SLOT.tolist(), keystroke.N_KEYS,
        len(keystroke.KEYSTROKE_FEATURES),
    )  # fmt: skip
    assert_rows_equal(got, expected)


@st.composite
def mouse_streams(draw):
    """Pointer samples with repeated times, idle gaps, clicks, drags and scrolls, in time order."""
    n = draw(st.integers(0, 50))
    gaps = draw(
        st.lists(st.sampled_from([0, 8_000, 16_000, 40_000, 300_000, 700_000, 2_500_000]), min_size=n, max_size=n)
    )
    kinds = draw(st.lists(st.sampled_from([0, 0, 0, 0, 1, 2, 3]), min_size=n, max_size=n))
    buttons = draw(st.lists(st.sampled_from([0, 1, 2]), min_size=n, max_size=n))
    xs = draw(st.lists(st.integers(0, 1920), min_size=n, max_size=n))
    ys = draw(st.lists(st.integers(0, 1080), min_size=n, max_size=n))
    scroll = draw(st.lists(st.sampled_from([-1.0, 1.0, 3.0]), min_size=n, max_size=n))
    columns = {"ts": np.cumsum(gaps, dtype=np.int64), "x": xs, "y": ys, "kind": kinds, "button": buttons,
               "scroll": scroll}  # fmt: skip
    return mouse_events(columns)


def _columns(e):
    return e.ts.tolist(), e.x.tolist(), e.y.tolist(), e.kind.tolist(), e.button.tolist(), e.scroll.tolist()


@given(mouse_streams(), st.data())
@settings(max_examples=150, deadline=None)
def test_mouse_window_matches_reference(events, data) -> None:
    n = len(events)
    lo = data.draw(st.integers(0, n))
    hi = data.draw(st.integers(lo, n))
    got = mouse.features(events, np.array([lo]), np.array([hi]), 30.0)[0]
    assert_rows_equal(got, reference.mouse_window(*_columns(events), lo, hi, 30.0))


@given(mouse_streams())
@settings(max_examples=150, deadline=None)
def test_actions_match_reference(events) -> None:
    found = mouse.actions(events)
    ts, x, y, kind, button, _ = _columns(events)
    expected = reference.segment_actions(ts, x, y, kind, button)
    assert list(zip(found.first.tolist(), found.last.tolist(), found.kind.tolist(), strict=True)) == expected
    for row, (first, last, action_kind) in zip(found.features, expected, strict=True):
        assert_rows_equal(row, reference.action(ts, x, y, kind, first, last, action_kind))
