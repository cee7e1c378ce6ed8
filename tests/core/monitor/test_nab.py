"""The NAB scorer against the published per-file scores, and its threshold sweep against brute force."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.monitor import nab


def _corpus(shared_data: Path) -> nab.Corpus:
    root = shared_data / "nab"
    return nab.Corpus.load(root / "data", root / "labels" / "combined_windows.json")


def test_scorer_reproduces_every_published_per_file_score(shared_data: Path) -> None:
    compared, worst = nab.reproduce_published(_corpus(shared_data), shared_data / "nab" / "results")
    assert compared == 276  # 4 detectors x 3 profiles x 23 files with per-row outputs
    assert worst <= 1e-9  # the published scores carry 12 significant digits


def test_published_scoreboard_normalisation(shared_data: Path) -> None:
    """Summing the published per-file scores and normalising gives the published dev scoreboard."""
    import pandas as pd

    corpus = _corpus(shared_data)
    published = pd.read_csv(shared_data / "nab" / "results" / "published_per_file_scores_dev.csv")
    board = pd.read_csv(shared_data / "nab" / "results" / "scoreboard_dev_subset.csv").set_index("detector")
    rows = []
    for name in corpus.files():
        timestamps = corpus.read(name)["timestamp"].tolist()
        rows.append(corpus.scored_rows(name, timestamps))
    for profile in nab.PROFILES:
        total = published[(published.Detector == "numenta") & (published.Profile == profile.name)].Score.sum()
        assert round(nab.normalised(total, rows, profile), 1) == board.loc["numenta", f"dev_{profile.name}"]


def _scored_as_nab_runs_it(shared_data: Path, design: str) -> dict[str, float]:
    """The dev corpus's normalised score, per profile, of one of our kernels of a published design in NAB's setting."""
    corpus = _corpus(shared_data)
    runs = []
    for name in corpus.files():
        frame = corpus.read(name)
        scores = nab.AS_NAB_RUNS[design](frame["value"].to_numpy())
        runs.append((corpus.scored_rows(name, frame["timestamp"].tolist()), scores))
    return {result.profile: result.score for result in nab.evaluate(runs)}


def test_contextual_scores_as_published_in_nabs_setting(shared_data: Path) -> None:
    """Run as NAB runs CAD OSE (each file's range known in advance), our contextual kernel scores the dev files
    within 1.5 points of the published contextOSE standard score (71.6), and within 3 under the other profiles (67.9
    low FP, 74.6 low FN; ours 70.9, 65.1, 74.6). Per-row scores differ: the published ones came from an earlier
    edition whose ties fell by Python 2's tuple hashes."""
    got = _scored_as_nab_runs_it(shared_data, "contextual")
    assert abs(got["standard"] - 71.6) <= 1.5
    assert abs(got["reward_low_FP_rate"] - 67.9) <= 3.0
    assert abs(got["reward_low_FN_rate"] - 74.6) <= 3.0


def test_artime_scores_near_published_in_nabs_setting(shared_data: Path) -> None:
    """Run as NAB runs ARTime (each file's range and length known in advance), our ARTime kernel scores the dev files
    within 3 points of the published ARTime under every profile (71.1 standard, 62.2 low FP, 76.0 low FN; ours 68.6,
    60.4, 73.7: the sign convention of the published Haar details is not documented)."""
    got = _scored_as_nab_runs_it(shared_data, "artime")
    published = {"standard": 71.1, "reward_low_FP_rate": 62.2, "reward_low_FN_rate": 76.0}
    for profile, score in published.items():
        assert abs(got[profile] - score) <= 3.0, (profile, got[profile])


def test_scaled_sigmoid_edges() -> None:
    assert nab.scaled_sigmoid(-1.0) == 2.0 / (1.0 + math.exp(-5.0)) - 1.0
    assert nab.scaled_sigmoid(0.0) == 0.0
    assert nab.scaled_sigmoid(3.5) == -1.0
    assert nab.probation_rows(4032) == 604 and nab.probation_rows(10_000) == 750


def test_window_edge_that_is_no_timestamp_is_an_error() -> None:
    try:
        nab.window_rows(["2020-01-01 00:00:00"], [["2020-01-01 00:00:00", "2020-01-02 00:00:00"]])
    except ValueError as error:
        assert "2020-01-02 00:00:00" in str(error)
    else:
        raise AssertionError("a missing window edge must be refused")


files = st.tuples(
    st.integers(20, 120).flatmap(
        lambda n: st.tuples(
            st.just(n),
            st.lists(st.tuples(st.integers(0, n - 1), st.integers(1, 15)), max_size=3),
            st.lists(st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0]), min_size=n, max_size=n),
        )
    )
)


def _windows(n: int, raw: list[tuple[int, int]]) -> list[tuple[int, int]]:
    windows, last = [], -1
    for start, width in sorted(raw):
        if start > last + 1 and start + width - 1 < n:
            windows.append((start, start + width - 1))
            last = start + width - 1
    return windows


@settings(max_examples=60, deadline=None)
@given(st.lists(files, min_size=1, max_size=4))
def test_sweep_finds_the_best_threshold(corpus: list) -> None:
    """The exact sweep agrees with scoring every candidate threshold file by file."""
    runs = []
    for ((n, raw_windows, scores),) in corpus:
        runs.append((nab.scored_rows(n, _windows(n, raw_windows)), np.array(scores)))
    for profile in nab.PROFILES:
        threshold, total = nab.best_threshold(runs, profile)
        candidates = sorted({float(s) for _, scores in runs for s in scores} | {math.inf}, reverse=True)
        totals = {t: sum(nab.score_file(rows, scores, t, profile).score for rows, scores in runs) for t in candidates}
        best = max(totals.values())
        assert math.isclose(total, best, abs_tol=1e-9)
        assert math.isclose(totals[threshold], best, abs_tol=1e-9)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abc"), files, files), min_size=2, max_size=6))
def test_leave_one_category_out_scores_each_category_at_a_choice_made_without_it(corpus: list) -> None:
    """Two candidates per file; each fold's candidate and threshold are the best on the other categories (by brute
    force over every threshold), and the figure is the held-out totals summed and normalised."""
    runs: dict[str, list] = {"first": [], "second": []}
    for i, (kind, ((n, raw_windows, first),), ((_, _, second),)) in enumerate(corpus):
        rows = nab.scored_rows(n, _windows(n, raw_windows))
        runs["first"].append((f"{kind}/{i}.csv", rows, np.array(first)))
        runs["second"].append((f"{kind}/{i}.csv", rows, np.resize(np.array(second), n)))
    categories = sorted({nab.category(name) for name, _, _ in runs["first"]})
    if len(categories) < 2 or not any(rows.n_windows for _, rows, _ in runs["first"]):
        with pytest.raises(ValueError, match=r"two categories|one anomaly window"):
            nab.leave_one_category_out(runs, nab.PROFILES[0])
        return
    profile = nab.PROFILES[0]
    result = nab.leave_one_category_out(runs, profile)
    want_total = 0.0
    for fold, held_out in zip(result.folds, categories, strict=True):
        best_of = {}
        for key, candidate in runs.items():
            train = [(r, s) for name, r, s in candidate if nab.category(name) != held_out]
            thresholds = sorted({float(x) for _, s in train for x in s} | {math.inf}, reverse=True)
            best_of[key] = max(sum(nab.score_file(r, s, t, profile).score for r, s in train) for t in thresholds)
        top = max(best_of.values())  # candidates within rounding of the best tie: either may be chosen
        assert fold.held_out == held_out and best_of[fold.candidate] >= top - 1e-9
        train_rows = [r for name, r, _ in runs["first"] if nab.category(name) != held_out]
        if any(r.n_windows for r in train_rows):
            assert math.isclose(fold.train_score, nab.normalised(top, train_rows, profile), abs_tol=1e-7)
        else:
            assert math.isnan(fold.train_score)
        held = [(r, s) for name, r, s in runs[fold.candidate] if nab.category(name) == held_out]
        want_total += sum(nab.score_file(r, s, fold.threshold, profile).score for r, s in held)
    every = [r for _, r, _ in runs["first"]]
    assert math.isclose(result.score, nab.normalised(want_total, every, profile), abs_tol=1e-7)


def test_candidates_must_score_the_same_files() -> None:
    rows = nab.scored_rows(30, [(10, 12)])
    runs = {"a": [("x/1.csv", rows, np.zeros(30))], "b": [("y/1.csv", rows, np.zeros(30))]}
    with pytest.raises(ValueError, match="same files"):
        nab.leave_one_category_out(runs, nab.PROFILES[0])
