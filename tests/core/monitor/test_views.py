"""Metric files as analysts upload them: NAB's format, time zones, epoch seconds, bad values and bad windows; a fuzz
test that nothing but a clear MetricFileError comes out; and the window report."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.monitor import nab
from core.monitor.views import MetricFileError, monitor_report, nab_scores, read_metric_file, score_series

NAB_FILE = "realAWSCloudwatch/ec2_cpu_utilization_5f5533.csv"


def _csv(times: list[str], values: list[str] | None = None) -> bytes:
    values = values or [str(i % 7) for i in range(len(times))]
    return ("timestamp,value\n" + "".join(f"{t},{v}\n" for t, v in zip(times, values, strict=True))).encode()


def test_nab_file_and_its_windows_score_as_nab_does(shared_data: Path) -> None:
    root = shared_data / "nab"
    windows = json.loads((root / "labels" / "combined_windows.json").read_text())
    metric = read_metric_file(
        (root / "data" / NAB_FILE).read_bytes(), json.dumps({NAB_FILE: windows[NAB_FILE]}).encode()
    )
    assert len(metric.frame) == 4032 and len(metric.windows) == 2 and metric.dropped_rows == 0
    scores = {"novelty": score_series(metric.frame, "novelty")["score"].to_numpy()}
    table = nab_scores(metric, scores).set_index("detector")
    corpus = nab.Corpus.load(root / "data", root / "labels" / "combined_windows.json")
    rows = corpus.scored_rows(NAB_FILE, corpus.read(NAB_FILE)["timestamp"].tolist())
    direct = nab.score_file(rows, scores["novelty"], 0.5, nab.PROFILES[0]).score
    assert table.loc["novelty", "standard"] == round(direct, 3)


def test_offsets_are_converted_to_utc_and_epoch_seconds_are_read() -> None:
    times = [f"2024-01-01T00:{m:02d}:00{'+01:00' if m % 2 else 'Z'}" for m in range(12)]
    frame = read_metric_file(_csv(times)).frame
    assert frame["ts"].iloc[0] == pd.Timestamp("2023-12-31 23:01:00")  # 00:01+01:00, sorted first
    epoch = read_metric_file(_csv([str(1_420_070_400 + 60 * i) for i in range(12)])).frame
    assert epoch["ts"].iloc[0] == pd.Timestamp("2015-01-01 00:00:00")


def test_infinite_and_unreadable_values_are_dropped_and_counted() -> None:
    times = [f"2024-01-01 00:{m:02d}:00" for m in range(14)]
    values = ["1"] * 10 + ["inf", "-inf", "abc", ""]
    metric = read_metric_file(_csv(times, values))
    assert len(metric.frame) == 10 and metric.dropped_rows == 4


@pytest.mark.parametrize(
    ("windows", "message"),
    [
        ([["", ""]], "start and an end"),
        ([["NaT", "2024-01-01 00:05:00"]], "start and an end"),
        ([["2024-01-01 00:05:00", "2024-01-01 00:01:00"]], "not after the end"),
        ([["2024-01-01 00:01:00", "2024-01-01 00:05:00"], ["2024-01-01 00:04:00", "2024-01-01 00:08:00"]], "overlap"),
        ({"a.csv": [], "b.csv": []}, "several files"),
        ("[" * 100_000 + "]" * 100_000, "not JSON"),
    ],
)
def test_bad_windows_get_clear_messages(windows: object, message: str) -> None:
    raw = windows.encode() if isinstance(windows, str) else json.dumps(windows).encode()
    times = [f"2024-01-01 00:{m:02d}:00" for m in range(12)]
    with pytest.raises(MetricFileError, match=message):
        read_metric_file(_csv(times), raw)


def test_a_window_edge_that_is_not_a_sample_time_is_explained() -> None:
    times = [f"2024-01-01 00:{m:02d}:00" for m in range(12)]
    metric = read_metric_file(_csv(times), json.dumps([["2024-01-01 00:02:30", "2024-01-01 00:05:00"]]).encode())
    with pytest.raises(MetricFileError, match="00:02:30"):
        nab_scores(metric, {"robust": np.zeros(12)})


def test_nab_refuses_overlapping_or_outside_windows() -> None:
    with pytest.raises(ValueError, match="overlap"):
        nab.scored_rows(100, [(40, 60), (50, 70)])
    with pytest.raises(ValueError, match="within"):
        nab.scored_rows(100, [(60, 50)])


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=600), st.one_of(st.none(), st.binary(max_size=200)))
def test_any_upload_gives_a_frame_or_a_clear_error(data: bytes, windows: bytes | None) -> None:
    for payload in (data, b"timestamp,value\n" + data):
        try:
            metric = read_metric_file(payload, windows)
        except MetricFileError:
            continue
        assert np.isfinite(metric.frame["value"]).all() and metric.frame["ts"].notna().all()


def test_window_report_renders_offline() -> None:
    ts = pd.date_range("2024-01-01", periods=400, freq="1s")
    frame = pd.DataFrame({"ts": ts, "value": np.r_[np.full(300, 10.0), np.full(100, 90.0)]})
    scored = {"cpu.total": score_series(frame, "robust", step_seconds=1.0)}
    alerts = pd.DataFrame(
        {"id": [1], "rule": ["CPU busy"], "metric": ["cpu.total"], "severity": ["high"], "message": ["=cmd|' /C'"],
         "action": ["look"], "started_at": [ts[300]], "ended_at": [pd.NaT], "peak": [90.0], "acknowledged_at": [pd.NaT]}
    )  # fmt: skip
    html = monitor_report("Host monitor", scored, alerts, "robust").to_html()
    assert "CPU (%)" in html and "1 alert</strong>" in html and "1 still open" in html
    assert "https://" not in html.split("<script")[0]  # nothing fetched: plotly is inlined
