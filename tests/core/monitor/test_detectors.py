"""The detector kernels against plain Python references, and the streaming (online) property."""

from __future__ import annotations

import math
import statistics
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.monitor import _kernels, _memory_kernels
from core.monitor.detectors import (
    DETECTORS,
    LIVE_DETECTORS,
    MEMORY_DETECTOR_ROWS,
    MEMORY_DETECTORS,
    ArtimeDetector,
    ChangePointDetector,
    ContextualDetector,
    NoveltyDetector,
    RobustDetector,
    SeasonalDetector,
    anomaly_rate,
    detectors_for_rows,
)
from tests.core.monitor.artime_reference import artime_reference
from tests.core.monitor.contextual_reference import contextual_reference

values = st.lists(
    st.one_of(
        st.sampled_from([0.0, 1.0, 1.0, 2.5, -3.0, 100.0]),
        st.floats(-1e3, 1e3, allow_nan=False),
        st.just(math.nan),
    ),
    min_size=0,
    max_size=80,
)


def robust_z_reference(x: list[float], window: int, floor: float) -> list[float]:
    out, kept = [], []
    for v in x:
        score = 0.0
        if not math.isnan(v):
            recent = kept[-window:]
            if len(recent) >= 3:
                centre = statistics.median(recent)
                mad = statistics.median([abs(r - centre) for r in recent])
                spread = max(recent) - min(recent)
                if spread <= 0:
                    spread = abs(centre) if centre != 0 else 1.0
                score = abs(v - centre) / max(1.4826 * mad, floor * spread, sys.float_info.min)
            kept.append(v)
        out.append(score)
    return out


def seasonal_z_reference(x: list[float], period: int, alpha: float, beta: float) -> list[float]:
    out, offset, level, var, seen = [], [0.0] * period, 0.0, 0.0, 0
    for i, v in enumerate(x):
        score = 0.0
        if not math.isnan(v):
            phase = i % period
            if seen == 0:
                level = v
            r = v - (level + offset[phase])
            if seen >= 2 * period:
                score = abs(r) / math.sqrt(var + 1e-12 * (1 + level * level))
            if seen >= period:
                var = (1 - alpha) * (var + alpha * r * r)
            level += alpha * (v - offset[phase] - level)
            offset[phase] = offset[phase] + beta * (v - level - offset[phase]) if seen >= period else v - level
            seen += 1
        out.append(score)
    return out


def novelty_reference(x: list[float], history: int, weights: tuple, period: int, *, days: int, warmup: int,
                      quiet: int, decay: float = 0.9999, slack: int = 1) -> list:  # fmt: skip
    out, combined = [0.0] * len(x), [0.0] * len(x)
    kept: list[float] = []  # valid values, oldest first
    pairs: list[tuple[float, float]] = []  # pairs of consecutive valid rows, by the row they end on
    peaks, seen = [0.0, 0.0, 0.0], [0, 0, 0]
    for t, v in enumerate(x):
        if math.isnan(v):
            continue
        d_value = min((abs(v - r) for r in kept[-history:]), default=math.inf)
        d_pair = math.inf
        if t >= 1 and not math.isnan(x[t - 1]):
            candidates = pairs[-history:]
            d_pair = min((math.sqrt((v - b) ** 2 + (x[t - 1] - a) ** 2) for a, b in candidates), default=math.inf)
        at_phase = [
            abs(v - x[s])
            for d in range(1, days + 1)
            for s in range(t - d * period - slack, t - d * period + slack + 1)
            if 0 <= s < t and not math.isnan(x[s])
        ]
        distances = (d_value, d_pair, min(at_phase, default=math.inf))
        c = 0.0
        for j, d in enumerate(distances):
            if seen[j] >= warmup and d < math.inf and peaks[j] > 0:
                c = max(c, weights[j] * d / peaks[j])
            if d < math.inf:
                peaks[j] = max(peaks[j] * decay, d)
                seen[j] += 1
        combined[t] = c
        if c > 0 and all(combined[s] < c for s in range(max(0, t - quiet), t)):
            out[t] = c
        if t >= 2 and not math.isnan(x[t - 1]) and not math.isnan(x[t - 2]):
            pairs.append((x[t - 2], x[t - 1]))
        kept.append(v)
    return out


def change_surprise_reference(x: list[float], hazard: float, max_run: int, memory: float, warmup: int) -> list:
    """Adams & MacKay's recursion written out over a list of runs, each with its own Normal–Gamma statistics
    (μ, κ, α, β) and log probability; a new run is centred on the latest value with the EW mean |step| as spread."""
    out = [0.0] * len(x)
    runs: list[list[float]] = []  # [log p, μ, κ, α, β] for run lengths 0, 1, 2, ...
    step = usual = 0.0
    previous = math.nan
    seen = 0
    for t, v in enumerate(x):
        if math.isnan(v):
            continue
        if seen == 0:
            runs = [[0.0, v, 1.0, 1.0, 1.0]]
        else:
            floor = max(step, 1e-9 * (abs(v) + abs(previous)), 1e-150)
            runs[0][4] = max(floor**2, (v - previous) ** 2) if seen == 1 else floor**2
            joint = []
            for log_p, mu, kappa, alpha, beta in runs:
                nu, scale2 = 2 * alpha, beta * (kappa + 1) / (alpha * kappa)
                log_pdf = (
                    math.lgamma((nu + 1) / 2) - math.lgamma(nu / 2) - 0.5 * math.log(nu * math.pi * scale2)
                    - (nu + 1) / 2 * math.log1p((v - mu) ** 2 / (nu * scale2))
                )  # fmt: skip
                joint.append(log_p + log_pdf)
            peak = max(joint)
            evidence = peak + math.log(sum(math.exp(j - peak) for j in joint))
            if seen > max(warmup, 1) and -evidence > usual:
                out[t] = -evidence - usual
            usual = -evidence if seen == 1 else memory * usual + (1 - memory) * -evidence
            stay = math.log1p(-hazard) - evidence
            grown = [
                [j + stay, (k * mu + v) / (k + 1), k + 1, a + 0.5, b + k * (v - mu) ** 2 / (2 * (k + 1))]
                for j, (_, mu, k, a, b) in zip(joint, runs, strict=True)
            ][:max_run]
            runs = [[math.log(hazard), v, 1.0, 1.0, 0.0], *grown]
            kept = sum(math.exp(r[0]) for r in runs)
            for r in runs:
                r[0] -= math.log(kept)
            step = abs(v - previous) if seen == 1 else memory * step + (1 - memory) * abs(v - previous)
        previous = v
        seen += 1
    return out


def louder_than_recent_reference(scores: list[float], quiet: int) -> list[float]:
    return [
        c if c > 0 and all(scores[s] < c for s in range(max(0, t - quiet), t)) else 0.0 for t, c in enumerate(scores)
    ]


@settings(max_examples=200, deadline=None)
@given(values, st.sampled_from([0.5, 0.01]), st.integers(1, 6), st.sampled_from([0.9, 0.5]), st.integers(0, 3))
def test_change_surprise_matches_reference(
    x: list[float], hazard: float, max_run: int, memory: float, warmup: int
) -> None:
    got = _kernels.change_surprise(np.array(x, dtype=np.float64), hazard, max_run, memory, warmup)
    np.testing.assert_allclose(got, change_surprise_reference(x, hazard, max_run, memory, warmup), rtol=1e-7, atol=1e-9)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([0.0, 0.5, 1.0, 2.0]) | st.floats(0, 10), max_size=60), st.integers(0, 8))
def test_louder_than_recent_matches_reference(scores: list[float], quiet: int) -> None:
    got = _kernels.louder_than_recent(np.array(scores, dtype=np.float64), quiet)
    np.testing.assert_array_equal(got, louder_than_recent_reference(scores, quiet))


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.sampled_from([0.0, 1.0, 2.0, 3.0, math.nan, 1e300, -1e300]) | st.floats(-20, 20, allow_nan=False),
        max_size=120,
    ),
    st.booleans(),
    st.integers(0, 12),
    st.sampled_from([0.5, 0.75, 1.0]),
)
def test_contextual_matches_reference(x: list[float], running: bool, rest: int, threshold: float) -> None:
    series = np.array(x, dtype=float)
    if running:  # the range seen so far, as the detector uses it
        low, high = np.fmin.accumulate(series), np.fmax.accumulate(series)
    else:  # a fixed range that values may leave (they take the end levels)
        low, high = np.full(len(x), -5.0), np.full(len(x), 5.0)
    got = _memory_kernels.contextual(series, low, high, rest, threshold)
    _close(got, contextual_reference(series, low, high, rest, threshold))


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.sampled_from([0.0, 1.0, 2.0, math.nan, 1e300, -1e300]) | st.floats(-20, 20, allow_nan=False),
        max_size=700,
    ),
    st.booleans(),
    st.sampled_from([32, 40, 64, 260]),  # 260: two rows per downsampled one
)
def test_artime_matches_reference(x: list[float], running: bool, probation: int) -> None:
    series = np.array(x, dtype=float)
    if running:
        low, high = np.fmin.accumulate(series), np.fmax.accumulate(series)
    else:
        low, high = np.full(len(x), -20.0), np.full(len(x), 20.0)
    got = _memory_kernels.artime(series, low, high, probation)
    _close(got, artime_reference(series, low, high, probation))


def test_artime_matches_reference_on_a_real_metric(shared_data) -> None:
    """Past the probation, with a category memory hundreds of windows deep (NAB's CPU series, its own range)."""
    frame = pd.read_csv(shared_data / "nab" / "data" / "realAWSCloudwatch" / "ec2_cpu_utilization_5f5533.csv")
    series = frame["value"].to_numpy()[:1500]
    low, high = np.fmin.accumulate(series), np.fmax.accumulate(series)
    got = _memory_kernels.artime(series, low, high, 150)
    assert got.any()
    _close(got, artime_reference(series, low, high, 150))


def test_the_memory_detectors_start_afresh_every_block_of_rows() -> None:
    """Each block of `memory_rows` rows is scored as if it were the whole series, so a row's cost is bounded."""
    rng = np.random.default_rng(6)
    series = np.cumsum(rng.normal(size=3500))
    for detector in (ContextualDetector(memory_rows=1600, rest_seconds=10.0), ArtimeDetector(memory_rows=1600)):
        whole = detector.score(series, 1.0)
        for start in (0, 1600, 3200):
            block = detector.score(series[start : start + 1600], 1.0)
            np.testing.assert_array_equal(whole[start : start + 1600], block)
        assert whole[1600:].any()


def test_a_settled_range_changes_nothing_before_it_and_holds_after() -> None:
    """With `settle_rows`, the rows before it score as with the range that follows the data; after it, a value far
    beyond the held range takes the top level instead of stretching the range (so the levels before it stay)."""
    rng = np.random.default_rng(7)
    series = np.concatenate([10 + rng.normal(0, 1, 1200), [500.0], 10 + rng.normal(0, 1, 400)])
    for settled, following in (
        (ContextualDetector(settle_rows=1000), ContextualDetector()),
        (ArtimeDetector(settle_rows=1000), ArtimeDetector()),
    ):
        held, free = settled.score(series, 300.0), following.score(series, 300.0)
        np.testing.assert_array_equal(held[:1000], free[:1000])
        assert not np.array_equal(held[1000:], free[1000:])


def test_the_memory_detectors_score_metric_files_up_to_their_limit() -> None:
    assert detectors_for_rows(MEMORY_DETECTOR_ROWS) == list(DETECTORS)
    assert detectors_for_rows(MEMORY_DETECTOR_ROWS + 1) == list(LIVE_DETECTORS)
    assert set(MEMORY_DETECTORS) <= set(DETECTORS) and not set(MEMORY_DETECTORS) & set(LIVE_DETECTORS)


def _close(got: np.ndarray, want: list[float]) -> None:
    np.testing.assert_allclose(got, np.array(want, dtype=np.float64), rtol=1e-9, atol=1e-12)


@settings(max_examples=300, deadline=None)
@given(values, st.integers(3, 12), st.sampled_from([0.05, 0.2, 1.0]))
def test_robust_z_matches_reference(x: list[float], window: int, floor: float) -> None:
    _close(_kernels.robust_z(np.array(x, dtype=np.float64), window, floor), robust_z_reference(x, window, floor))


@settings(max_examples=200, deadline=None)
@given(values, st.integers(2, 7), st.sampled_from([0.01, 0.3]), st.sampled_from([0.2, 0.5]))
def test_seasonal_z_matches_reference(x: list[float], period: int, alpha: float, beta: float) -> None:
    got = _kernels.seasonal_z(np.array(x, dtype=np.float64), period, alpha, beta)
    _close(got, seasonal_z_reference(x, period, alpha, beta))


@settings(max_examples=300, deadline=None)
@given(
    values,
    st.integers(2, 10),
    st.sampled_from([(1.0, 0.05, 0.01), (1.0, 1.0, 1.0), (0.5, 0.0, 2.0)]),
    st.data(),
)
def test_novelty_matches_reference(x: list[float], history: int, weights: tuple, data: st.DataObject) -> None:
    period, days = data.draw(st.integers(2, 9)), data.draw(st.integers(0, 3))
    decay, quiet, slack = (
        data.draw(st.sampled_from([1.0, 0.9])),
        data.draw(st.integers(0, 4)),
        data.draw(st.integers(0, 2)),
    )
    got = _kernels.novelty(
        np.array(x, dtype=np.float64), history, np.array(weights), period, days, slack, decay, 2, quiet
    )
    want = novelty_reference(x, history, weights, period, days=days, warmup=2, quiet=quiet, decay=decay, slack=slack)
    _close(got, want)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-50, 50, allow_nan=False), min_size=2, max_size=300), st.data())
def test_every_detector_is_online(x: list[float], data: st.DataObject) -> None:
    """The score at row i depends on rows <= i only: changing later rows changes nothing before them."""
    series = np.array(x)
    cut = data.draw(st.integers(1, len(x) - 1))
    altered = series.copy()
    altered[cut:] = data.draw(st.floats(-1e6, 1e6, allow_nan=False))
    for detector in (
        RobustDetector(window=9),
        SeasonalDetector(period_seconds=5.0),
        NoveltyDetector(history=20, period_seconds=7.0, quiet_seconds=5.0),
        ChangePointDetector(max_run=12, warmup=3, quiet_seconds=4.0),
        ContextualDetector(rest_seconds=5.0),
        ArtimeDetector(probation_rows=40),
    ):
        before, after = detector.score(series, 1.0), detector.score(altered, 1.0)
        np.testing.assert_array_equal(before[:cut], after[:cut])
        assert np.all((before >= 0) & (before <= 1))


def test_level_shift_is_flagged_once_when_it_starts() -> None:
    rng = np.random.default_rng(1)
    series = np.concatenate([10 + rng.normal(0, 1, 600), 40 + rng.normal(0, 1, 300)])
    scores = DETECTORS["novelty"].score(series)
    assert scores.argmax() == 600 and scores[600] > 0.9
    assert not np.any(scores[601:700] >= 0.5)  # the new level is known after its first rows: no alert storm
    robust = DETECTORS["robust"].score(series)
    assert robust[600] >= 0.5 and robust[:600].max() < robust[600]


def test_a_variance_shift_is_a_change_point_when_it_starts() -> None:
    """The level stays, the spread grows tenfold: no single early value is out of range for long, yet the change
    detector reports it within a few rows and stays quiet before."""
    rng = np.random.default_rng(2)
    series = np.concatenate([50 + rng.normal(0, 1, 800), 50 + rng.normal(0, 10, 400)])
    scores = ChangePointDetector().score(series, 300.0)
    assert scores[:800].max() < 0.5
    assert 800 <= int(np.argmax(scores >= 0.5)) < 810


def test_anomaly_rate_is_the_share_of_recent_alerts() -> None:
    scores = np.array([0.9, 0.1, 0.6, 0.2, 0.2, 0.7])
    np.testing.assert_allclose(anomaly_rate(scores, 3), [1, 1 / 2, 2 / 3, 1 / 3, 1 / 3, 1 / 3])
    with pytest.raises(ValueError):
        anomaly_rate(scores, 0)


@pytest.mark.parametrize(
    "make",
    [
        lambda: RobustDetector(window=2),
        lambda: SeasonalDetector(alpha=1.5),
        lambda: SeasonalDetector(period_seconds=0),
        lambda: NoveltyDetector(decay=0),
        lambda: NoveltyDetector(quiet_seconds=-1),
        lambda: NoveltyDetector(quiet_seconds=math.nan),
        lambda: NoveltyDetector(phase_weight=0),
        lambda: ChangePointDetector(hazard=0),
        lambda: ChangePointDetector(hazard=1),
        lambda: ChangePointDetector(max_run=0),
        lambda: ChangePointDetector(max_run=2.5),
        lambda: ChangePointDetector(max_run=True),
        lambda: ChangePointDetector(quiet_seconds=math.inf),
        lambda: NoveltyDetector(history=10**9),
        lambda: RobustDetector(window=10**9),
        lambda: ChangePointDetector(memory=1),
        lambda: ChangePointDetector(quiet_seconds=-5),
        lambda: ContextualDetector(rest_seconds=-1),
        lambda: ContextualDetector(rest_threshold=0),
        lambda: ContextualDetector(value_range=(1.0, 1.0)),
        lambda: ContextualDetector(value_range=(0.0, math.inf)),
        lambda: ContextualDetector(memory_rows=10),
        lambda: ContextualDetector(rest_threshold=1.5),
        lambda: ContextualDetector(value_range=(0.0, 1.0, 2.0)),
        lambda: ContextualDetector(value_range="ab"),
        lambda: ArtimeDetector(probation_rows=10),
        lambda: ArtimeDetector(memory_rows=100),
        lambda: ArtimeDetector(settle_rows=-1),
        lambda: ContextualDetector(settle_rows=2.5),
        lambda: ArtimeDetector(value_range=(2.0, 1.0)),
    ],
)
def test_bad_parameters_are_refused(make) -> None:
    with pytest.raises(ValueError):
        make()


@pytest.mark.parametrize("step", [0.0, -1.0, math.inf, math.nan])
def test_a_bad_sample_spacing_is_refused(step: float) -> None:
    for detector in DETECTORS.values():
        with pytest.raises(ValueError, match="step_seconds"):
            detector.score(np.arange(20.0), step)


def test_infinite_readings_are_scored_as_missing() -> None:
    """One ±inf reading scores 0 and leaves every later score as if it were NaN."""
    rng = np.random.default_rng(4)
    series = 10 + rng.normal(0, 1, 1200)
    holed, broken = series.copy(), series.copy()
    holed[500], broken[500] = math.nan, math.inf
    broken[700] = -math.inf
    holed[700] = math.nan
    for detector in DETECTORS.values():
        scores = detector.score(broken, 300.0)
        np.testing.assert_array_equal(scores, detector.score(holed, 300.0))
        assert np.all((scores >= 0) & (scores <= 1)) and scores[500] == 0


def test_the_quiet_span_is_capped_in_rows_for_fine_samples() -> None:
    """At 1 s samples the 48,000 s span would be 48,000 rows; it is capped, so a second change 200 rows after the
    first is still reported."""
    rng = np.random.default_rng(5)
    series = np.concatenate([10 + rng.normal(0, 1, 600), 40 + rng.normal(0, 1, 200), 90 + rng.normal(0, 1, 200)])
    scores = DETECTORS["novelty"].score(series, 1.0)
    assert scores[600] >= 0.5 and scores[800] >= 0.5


def test_two_dimensional_input_is_refused() -> None:
    with pytest.raises(ValueError, match="1-D"):
        DETECTORS["robust"].score(np.zeros((3, 3)))


def test_scores_of_a_file_do_not_change_when_rows_are_added() -> None:
    """The sample spacing comes from the first rows, so a change of spacing later cannot reach back."""
    from core.monitor.views import score_series

    start = pd.Timestamp("2024-01-01")
    early = start + pd.to_timedelta(np.arange(3000) * 300, unit="s")
    late = early[-1] + pd.to_timedelta(np.arange(1, 4001) * 60, unit="s")
    rng = np.random.default_rng(3)
    values = 50 + 10 * np.sin(np.arange(7000) / 40) + rng.normal(0, 1, 7000)
    whole = pd.DataFrame({"ts": early.append(late), "value": values})
    for detector in DETECTORS:
        before = score_series(whole.iloc[:3000], detector)["score"].to_numpy()
        after = score_series(whole, detector)["score"].to_numpy()[:3000]
        np.testing.assert_array_equal(before, after)


def test_a_period_longer_than_the_series_allocates_nothing_and_scores_zero() -> None:
    scores = SeasonalDetector().score(np.arange(500.0), step_seconds=0.001)  # a day is 86.4M rows here
    assert not scores.any()


def test_a_window_with_a_subnormal_range_scores_finite() -> None:
    """Found by hypothesis: floor x a subnormal range underflows to 0, and the score divided by it."""
    x = np.array([0.0, 0.0, 5e-324, 0.0, 1.0])
    scores = _kernels.robust_z(x, 3, 0.05)
    assert np.isfinite(scores).all() and scores[-1] > 0
