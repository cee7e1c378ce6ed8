"""Verification models, calibration, metrics, windows, the app profile and the evaluation of uploaded sessions."""

from __future__ import annotations

import contextlib
import gzip
import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.behaviour import sample
from core.behaviour.apps import AppProfile
from core.behaviour.evaluation import verification
from core.behaviour.events import group_events
from core.behaviour.models import EnrolmentError, ScaledManhattan, Verifier
from core.behaviour.profiles import enrol, modality_rows
from core.behaviour.views import (
    EventFileError,
    read_event_file,
    read_labels,
    score_sessions,
    session_verification,
)
from core.behaviour.windows import WindowSpec, window_bounds


def test_equal_error_rate_of_two_normal_samples_matches_theory() -> None:
    rng = np.random.default_rng(0)
    result = verification(rng.normal(1, 1, 20_000), rng.normal(-1, 1, 20_000))
    assert result.eer == pytest.approx(0.1587, abs=0.006)  # Φ(−1)
    assert result.auc == pytest.approx(0.9214, abs=0.004)  # Φ(2/√2)
    assert verification([3.0, 4.0], [1.0, 2.0]).eer == 0.0
    with pytest.raises(ValueError, match="both genuine and impostor"):
        verification([], [1.0])


def test_scaled_manhattan_ignores_features_the_user_never_showed() -> None:
    rows = np.array([[1.0, np.nan, 10.0], [3.0, np.nan, 10.0]])
    model = ScaledManhattan().fit(rows)
    near, far = model.score(np.array([[2.0, 500.0, 10.0], [30.0, 500.0, 10.0]]))
    assert near > far and np.isfinite(near)


@pytest.fixture(scope="module")
def rows_by_user() -> dict[str, np.ndarray]:
    logs = sample.enrolment_logs()
    return {user: modality_rows(log)["keystroke"][1] for user, log in logs.items()}


@pytest.mark.parametrize("method", ["manhattan", "one_class", "two_class"])
def test_each_method_tells_the_user_from_others_with_calibrated_scores(rows_by_user, method: str) -> None:
    own = rows_by_user["alice"]
    train, held_out = own[: len(own) // 2], own[len(own) // 2 :]
    others = np.vstack([rows_by_user["bob"], rows_by_user["carol"]])
    verifier = Verifier(method, "extra_trees").fit(train, others[::2] if method == "two_class" else None)
    genuine, impostor = verifier.score(held_out), verifier.score(others[1::2])
    assert genuine.min() >= 0 and impostor.max() <= 100
    assert verification(genuine, impostor).auc > 0.95
    assert np.median(genuine) > 70 and np.median(impostor) < 35


def test_enrolment_refuses_what_it_cannot_learn(rows_by_user) -> None:
    with pytest.raises(EnrolmentError, match="at least 5 windows"):
        Verifier("manhattan").fit(rows_by_user["alice"][:3])
    with pytest.raises(EnrolmentError, match="needs other users"):
        Verifier("two_class").fit(rows_by_user["alice"])
    with pytest.raises(EnrolmentError, match="unknown method"):
        Verifier("magic").fit(rows_by_user["alice"])
    empty, _ = group_events([{"user": "x", "type": "keystroke", "ts": 1, "key": "a", "event": "press"}], "user")
    with pytest.raises(EnrolmentError, match="not enough"):
        enrol(empty)
    with pytest.raises(EnrolmentError, match="User names are"):
        enrol({"../../etc": empty["x"]})
    with pytest.raises(EnrolmentError, match="No users"):
        enrol({})


def test_a_single_user_enrols_with_one_class_models() -> None:
    logs = sample.enrolment_logs()
    profile = enrol({"carol": logs["carol"]})["carol"]
    assert {v.method for v in profile.verifiers.values()} == {"one_class"}
    scores = profile.score(logs["carol"])
    assert scores.keystroke.median() > 70


@given(st.lists(st.integers(0, 10**9), max_size=50).map(sorted), st.floats(1, 60), st.floats(0.5, 1))
@settings(max_examples=100, deadline=None)
def test_window_bounds_hold_exactly_the_events_inside(ts: list[int], length: float, share: float) -> None:
    spec = WindowSpec(length_s=length, step_s=length * share)
    stamps = np.array(ts, np.int64)
    ends, lo, hi = window_bounds(stamps, spec)
    for end, a, b in zip(ends, lo, hi, strict=True):
        inside = (stamps > end - round(length * 1e6)) & (stamps <= end)
        assert inside.sum() == b - a and inside[a:b].all()


def test_the_app_profile_prefers_the_users_own_habits() -> None:
    logs = sample.enrolment_logs()
    alice = AppProfile().fit(logs["alice"].apps)
    own = alice.event_scores(logs["alice"].apps).mean()
    other = alice.event_scores(logs["bob"].apps).mean()
    assert own > other


def test_uploaded_event_and_label_files_are_checked() -> None:
    with pytest.raises(EventFileError, match="No JSON event objects"):
        read_event_file(b"hello\n[1,2]\n")
    with pytest.raises(EventFileError, match="damaged"):
        read_event_file(b"\x1f\x8b" + b"garbage")
    events = read_event_file(gzip.compress(b'{"type":"app","ts":1,"app_name":"x","event":"focus"}\nnot json\n'))
    assert len(events) == 1
    with pytest.raises(EventFileError, match="is_illegal"):
        read_labels(b"session,label\na,1\n")
    with pytest.raises(EventFileError, match="0 \\(genuine\\) or 1"):
        read_labels(b"session,is_illegal\na,maybe\n")
    assert read_labels(b"filename,is_illegal\ns1,1\ns2,0\n") == {"s1": True, "s2": False}


def test_labelled_sample_sessions_separate_impostors(sample_profiles) -> None:
    events, labels = sample.labelled_sessions()
    scored = score_sessions(events, labels, sample_profiles)
    assert len(scored) == len(labels) and scored.score.notna().all()
    result = session_verification(scored)
    assert result.impostor == 2 and result.auc == 1.0
    unknown = [{**e, "user": "mallory"} for e in events[:100]]
    noted = score_sessions(unknown, labels, sample_profiles)
    assert set(noted.note) == {"no profile for the claimed user"}
    with pytest.raises(EventFileError, match="genuine and impostor"):
        session_verification(noted)


def test_event_file_fuzz_never_raises_anything_but_a_clear_error() -> None:
    rng = np.random.default_rng(1)
    for _ in range(200):
        blob = rng.bytes(int(rng.integers(0, 300)))
        lines = blob + b"\n" + json.dumps({"type": "app", "ts": 5, "event": "focus", "app_name": "a"}).encode()
        with contextlib.suppress(EventFileError):
            read_event_file(lines if rng.random() < 0.5 else blob)


def test_unbounded_scoring_aligns_the_modalities_so_windows_fuse(sample_profiles) -> None:
    log = sample.enrolment_logs()["alice"]
    table = sample_profiles["alice"].score(log)
    both = table[["keystroke", "mouse", "app"]].notna().sum(axis=1)
    assert (both >= 2).mean() > 0.9  # a row is one window of every modality, not one modality's window


def test_the_first_event_falls_in_the_first_window() -> None:
    stamps = np.array([5_000_000, 6_000_000, 40_000_000], np.int64)
    ends, lo, hi = window_bounds(stamps, WindowSpec(30, 5))
    assert lo[0] == 0 and hi[0] == 2 and ends[0] == 34_999_999


def test_a_gzip_bomb_is_refused_before_it_is_unpacked(monkeypatch) -> None:
    from core.behaviour import views

    monkeypatch.setattr(views, "MAX_UNPACKED_BYTES", 10_000)
    with pytest.raises(EventFileError, match="unpacked file is larger"):
        read_event_file(gzip.compress(b"{}\n" * 100_000))


@given(st.integers(min_value=1_001, max_value=400_000), st.sampled_from([b"ab\n", b"\n", b"{}\n", b"x" * 40 + b"\n"]))
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_too_many_lines_are_refused_before_any_line_is_made(monkeypatch, lines: int, line: bytes) -> None:
    """Memory stays within a few times the unpacked size, however short the lines (each line object costs ~50 bytes)."""
    import tracemalloc

    from core.behaviour import views

    monkeypatch.setattr(views, "MAX_EVENT_LINES", 1_000)
    packed = gzip.compress(line * lines)
    tracemalloc.start()
    try:
        with pytest.raises(EventFileError, match="more than 1,000 lines"):
            read_event_file(packed)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak <= 8 * len(line) * lines + 2 * 2**20
