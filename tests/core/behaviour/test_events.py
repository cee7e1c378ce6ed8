"""Event validation and the data-set readers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.behaviour.events import (
    FLOOD_LIMITS,
    MAX_APP_NAMES,
    MOVE,
    OTHER_APPS,
    PRESS,
    RELEASE,
    SCROLL,
    EventValidator,
    parse_jsonl,
)
from core.behaviour.keys import KEY_CLASS, KEY_CODES, KEY_NAMES, LETTER, MODIFIER, key_code
from core.behaviour.parsers import DataFormatError, read_aalto, read_balabit

SHARED = Path(__file__).resolve().parents[4] / "shared" / "data" / "behaviour"
BALABIT_SESSION = SHARED / "balabit" / "training_files" / "user7" / "session_0041905381.csv.gz"
AALTO_FILE = SHARED / "aalto136m" / "102_keystrokes.txt.gz"


def key(ts: int, name: str = "KeyA", event: str = "press") -> str:
    return json.dumps({"type": "keystroke", "ts": ts, "key": name, "event": event})


def test_each_kind_of_bad_event_is_counted_and_skipped() -> None:
    lines = [
        key(1_000_000),
        "{not json",
        "[1, 2]",
        json.dumps({"type": "keystroke", "key": "KeyA", "event": "press"}),  # no ts
        json.dumps({"type": "keystroke", "ts": "soon", "key": "KeyA", "event": "press"}),
        json.dumps({"type": "mouse", "ts": 2_000_000, "x": "left", "y": 3, "event": "move"}),
        json.dumps({"type": "mouse", "ts": 2_000_000, "x": True, "y": 3, "event": "move"}),
        json.dumps({"type": "keystroke", "ts": 3_000_000, "key": 65, "event": "press"}),
        json.dumps({"type": "gamepad", "ts": 3_000_000, "event": "press"}),
        json.dumps({"type": "keystroke", "ts": 3_000_000, "key": "KeyA", "event": "hold"}),
        key(500_000),  # time went backwards
        json.dumps({"type": "keystroke", "ts": -5, "key": "KeyA", "event": "press"}),
        json.dumps({"type": "app", "ts": 4_000_000, "app_name": "x" * 5000, "event": "focus"}),  # oversized line
        key(1_200_000, event="release"),
        "",
    ]
    log = parse_jsonl(lines)
    assert len(log.keys) == 2 and log.keys.press.tolist() == [True, False]
    assert dict(log.rejected) == {"malformed": 3, "missing_field": 1, "wrong_type": 5, "unknown_event": 2,
                                  "time_backwards": 1}  # fmt: skip


def test_a_flood_is_cut_at_the_per_second_limit() -> None:
    limit = FLOOD_LIMITS["keystroke"]
    log = parse_jsonl([key(5_000_000 + i) for i in range(limit + 50)] + [key(6_000_000)])
    assert len(log.keys) == limit + 1
    assert log.rejected["flood"] == 50


@given(st.lists(st.one_of(
    st.dictionaries(st.sampled_from(["type", "ts", "key", "event", "x", "y", "app_name", "button", "scroll_delta"]),
                    st.one_of(st.none(), st.booleans(), st.integers(-10, 10**17), st.floats(allow_nan=True),
                              st.sampled_from(["keystroke", "mouse", "app", "press", "release", "move", "focus",
                                               "scroll", "left", "KeyA"]), st.text(max_size=5))),
    st.text(max_size=20), st.integers(), st.lists(st.integers(), max_size=3),
), max_size=40))  # fmt: skip
@settings(max_examples=300, deadline=None)
def test_any_input_is_either_accepted_or_counted(events: list) -> None:
    validator = EventValidator()
    accepted = sum(validator.add(e) is not None for e in events)
    log = validator.take()
    assert accepted == log.accepted
    assert accepted + sum(log.rejected.values()) == len(events)
    assert np.all(np.diff(log.keys.ts) >= 0) and np.all(np.diff(log.mouse.ts) >= 0)


def test_key_names_of_every_capture_tool_share_one_code() -> None:
    assert key_code("KeyA") == key_code("a") == key_code("A") == KEY_CODES["a"]
    assert key_code("BKSP") == key_code("Backspace") == KEY_CODES["backspace"]
    assert key_code(" ") == key_code("Space") == KEY_CODES["space"]
    assert key_code("Shift_L") == key_code("ShiftRight") == key_code("SHIFT") == KEY_CODES["shift"]
    assert key_code("Digit7") == KEY_CODES["7"] and key_code("F11") == KEY_CODES["function"]
    assert key_code("no such key") == 0 and KEY_NAMES[0] == "unknown"
    assert KEY_CLASS[key_code("q")] == LETTER and KEY_CLASS[key_code("ctrl")] == MODIFIER


def test_balabit_session_reads_into_mouse_events() -> None:
    events = read_balabit(BALABIT_SESSION)
    assert len(events) > 80_000
    assert np.all(np.diff(events.ts) >= 0)
    counts = np.bincount(events.kind, minlength=4)
    assert counts[MOVE] > 70_000 and counts[SCROLL] > 1000
    assert abs(int(counts[PRESS]) - int(counts[RELEASE])) <= 5 and counts[PRESS] > 1000  # RDP logs lose a few
    assert events.x.max() <= 10_000 and events.y.max() <= 10_000


def test_aalto_file_reads_into_key_events_per_sentence() -> None:
    typed = read_aalto(AALTO_FILE)
    assert typed.participant == "102"
    assert typed.keys.press.sum() == (~typed.keys.press).sum() > 500
    assert len(np.unique(typed.sentence)) == 15
    assert np.all(np.diff(typed.keys.ts) >= 0)


def test_files_in_the_wrong_format_are_refused(tmp_path: Path) -> None:
    wrong = tmp_path / "session.csv"
    wrong.write_text("a,b\n1,2\n")
    with pytest.raises(DataFormatError, match="Balabit columns"):
        read_balabit(wrong)
    with pytest.raises(DataFormatError, match="Aalto columns"):
        read_aalto(wrong)


def test_hostile_values_are_rejected_not_raised() -> None:
    deep = "[" * 1500 + "]" * 1500  # json.loads raises RecursionError on this
    huge = '{"type": "keystroke", "ts": ' + "9" * 400 + ', "key": "a", "event": "press"}'
    log = parse_jsonl([deep, huge, json.dumps({"type": "app", "ts": 1, "window_class": "xterm", "event": "focus"})])
    assert dict(log.rejected) == {"malformed": 1, "wrong_type": 1}
    assert log.apps.names == ("xterm",)  # window_class stands in for a missing app_name


def test_app_names_are_capped() -> None:
    validator = EventValidator()
    for i in range(MAX_APP_NAMES + 50):
        validator.add({"type": "app", "ts": i * 1_000_000, "app_name": f"app{i}", "event": "focus"})
    log = validator.take()
    assert len(log.apps.names) == MAX_APP_NAMES and log.apps.names[-1] == OTHER_APPS
    assert (log.apps.app[MAX_APP_NAMES - 1 :] == MAX_APP_NAMES - 1).all()
