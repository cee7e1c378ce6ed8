"""What the Host Monitor page shows: scored series, charts with anomaly shading, window summaries, reports,
and the analysis of an uploaded metric file (NAB's `timestamp,value` format)."""

from __future__ import annotations

import io
import itertools
import json
import math
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.errors import CtasError
from core.monitor import nab
from core.monitor.detectors import ALERT_LEVEL, DETECTORS, anomaly_rate
from core.report import Report

RATE_WINDOW = 60
STEP_ROWS = 100  # rows whose median spacing sets a metric file's sample spacing
MAX_CHART_POINTS = 1500
MAX_METRIC_FILE_ROWS = 2_000_000
LABELS = {
    "cpu.total": "CPU (%)",
    "memory.used_percent": "Memory used (%)",
    "swap.used_percent": "Swap used (%)",
    "disk.used_percent": "Disk used (%)",
    "load.1m": "Load (1 min)",
    "net.recv_bytes_per_s": "Network in (B/s)",
    "net.sent_bytes_per_s": "Network out (B/s)",
    "disk.read_bytes_per_s": "Disk read (B/s)",
    "disk.write_bytes_per_s": "Disk write (B/s)",
}


class MetricFileError(CtasError, ValueError):
    """An uploaded metric file cannot be analysed; the message says why."""


def chart_bucket_seconds(span: timedelta, max_points: int = MAX_CHART_POINTS) -> int:
    """The averaging bucket that keeps a chart of `span` at or under `max_points` points (1 s = raw)."""
    return max(1, math.ceil(span.total_seconds() / max_points))


def label(metric: str) -> str:
    """A metric's display name."""
    return LABELS.get(metric, metric)


def score_series(
    frame: pd.DataFrame, detector: str, step_seconds: float | None = None, rate_window: int = RATE_WINDOW
) -> pd.DataFrame:
    """One metric's (ts, value) with the detector's score, the anomaly bit and the anomaly rate over `rate_window`.

    `step_seconds` is the sample spacing (known for live charts); when None it is the median spacing of the first
    STEP_ROWS rows, so later rows never change earlier scores.
    """
    frame = frame.sort_values("ts", kind="stable").reset_index(drop=True)
    values = frame["value"].to_numpy(dtype=np.float64)
    step = step_seconds or nab.step_seconds(frame["ts"].iloc[:STEP_ROWS])
    scores = DETECTORS[detector].score(values, step) if len(values) else np.zeros(0)
    return frame.assign(
        score=scores, anomaly=scores >= ALERT_LEVEL, anomaly_rate=anomaly_rate(scores, rate_window) * 100
    )


def metric_figure(scored: pd.DataFrame, metric: str, windows: list[tuple[object, object]] = ()) -> go.Figure:
    """The metric over time with anomalies marked and shaded, and an anomaly-rate strip below it."""
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.8, 0.2], vertical_spacing=0.04)
    fig.add_scatter(
        x=scored["ts"], y=scored["value"], mode="lines", name=label(metric), line={"width": 1.4}, row=1, col=1
    )
    hits = scored[scored["anomaly"]]
    fig.add_scatter(
        x=hits["ts"],
        y=hits["value"],
        mode="markers",
        name="anomaly",
        marker={"color": "#d62728", "size": 8, "symbol": "x"},
        row=1,
        col=1,
    )
    for start, end in _runs(scored):
        fig.add_vrect(x0=start, x1=end, fillcolor="#d62728", opacity=0.12, line_width=0, row=1, col=1)
    for start, end in windows:
        fig.add_vrect(x0=start, x1=end, fillcolor="#2ca02c", opacity=0.12, line_width=0, row=1, col=1)
    fig.add_bar(x=scored["ts"], y=scored["anomaly_rate"], name="anomaly rate (%)", marker_color="#ff7f0e", row=2, col=1)
    fig.update_yaxes(title_text=label(metric), row=1, col=1)
    fig.update_yaxes(title_text="anomalies %", range=[0, 100], row=2, col=1)
    fig.update_xaxes(title_text="time (UTC)", row=2, col=1)
    fig.update_layout(
        height=330,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        title=label(metric),
        legend={"orientation": "h", "y": 1.12, "x": 1, "xanchor": "right"},
        bargap=0,
    )
    return fig


def _runs(scored: pd.DataFrame, pad: int = 2) -> list[tuple[object, object]]:
    """Time spans round the anomalous rows (a few rows either side), merged where they touch."""
    flagged = np.flatnonzero(scored["anomaly"].to_numpy())
    spans: list[list[int]] = []
    for i in flagged:
        lo, hi = max(0, i - pad), min(len(scored) - 1, i + pad)
        if spans and lo <= spans[-1][1] + 1:
            spans[-1][1] = hi
        else:
            spans.append([lo, hi])
    ts = scored["ts"].to_numpy()
    return [(ts[lo], ts[hi]) for lo, hi in spans]


def window_summary(scored: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Per metric: samples, latest, mean, peak and when, anomalies and their share."""
    rows = []
    for metric, frame in scored.items():
        if frame.empty:
            continue
        peak = frame["value"].idxmax()
        rows.append(
            {
                "metric": label(metric),
                "samples": len(frame),
                "latest": round(float(frame["value"].iloc[-1]), 2),
                "mean": round(float(frame["value"].mean()), 2),
                "peak": round(float(frame["value"].max()), 2),
                "peak at": frame["ts"].iloc[peak],
                "anomalies": int(frame["anomaly"].sum()),
                "anomaly rate %": round(100 * float(frame["anomaly"].mean()), 2),
            }
        )
    return pd.DataFrame(rows)


def monitor_report(title: str, scored: dict[str, pd.DataFrame], alerts: pd.DataFrame, detector: str) -> Report:
    """The window report: figures per metric, the summary table and the alerts of the window."""
    report = Report(title, subtitle=f"Anomalies by the {detector} detector (score ≥ {ALERT_LEVEL})")
    summary = window_summary(scored)
    anomalies = int(summary["anomalies"].sum()) if len(summary) else 0
    still_open = int(alerts["ended_at"].isna().sum()) if len(alerts) else 0
    report.add_markdown(
        f"**{_count(len(summary), 'metric')}**, {_count(anomalies, 'anomalous sample')}, "
        f"**{_count(len(alerts), 'alert')}** ({still_open} still open)."
    )
    report.add_table(summary, "Window summary")
    if len(alerts):
        report.add_table(alerts.drop(columns=["id"]), "Alerts")
    for metric, frame in scored.items():
        report.add_figure(metric_figure(frame, metric), label(metric))
    return report


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


@dataclass(frozen=True)
class MetricFile:
    """An uploaded metric series, with labelled anomaly windows when given."""

    frame: pd.DataFrame  # ts (datetime), value
    windows: list[tuple[pd.Timestamp, pd.Timestamp]]
    dropped_rows: int


def read_metric_file(data: bytes, windows_json: bytes | None = None) -> MetricFile:
    """Parse a `timestamp,value` CSV (NAB's format) and optional windows (a JSON list of [start, end], or NAB's
    `combined_windows.json` holding one file's entry). Times with a UTC offset are converted to UTC; numeric
    times are seconds since 1970. Rows without a readable time or a finite number are dropped and counted."""
    try:
        frame = pd.read_csv(io.BytesIO(data), nrows=MAX_METRIC_FILE_ROWS + 1)
    except (ValueError, UnicodeDecodeError) as error:
        raise MetricFileError(f"The file is not a readable CSV: {error}") from None
    columns = {str(c).lower().strip(): c for c in frame.columns}
    if "timestamp" not in columns or "value" not in columns:
        raise MetricFileError(f"Expected the columns timestamp and value; the file has {', '.join(map(str, frame))}.")
    if len(frame) > MAX_METRIC_FILE_ROWS:
        raise MetricFileError(f"The file has more than {MAX_METRIC_FILE_ROWS:,} rows.")
    ts = _times(frame[columns["timestamp"]])
    value = pd.to_numeric(frame[columns["value"]], errors="coerce").astype(float)
    good = ts.notna() & np.isfinite(value)
    if good.sum() < 10:
        raise MetricFileError("Fewer than 10 rows have both a readable timestamp and a finite number.")
    clean = pd.DataFrame({"ts": ts[good], "value": value[good]}).sort_values("ts", kind="stable")
    return MetricFile(clean.reset_index(drop=True), _windows(windows_json), int((~good).sum()))


def _times(column: pd.Series) -> pd.Series:
    """Naive UTC times from text (any offsets) or from numbers (seconds since 1970); unreadable ones NaT."""
    try:
        if pd.api.types.is_numeric_dtype(column):
            parsed = pd.to_datetime(column, unit="s", errors="coerce", utc=True)
        else:
            parsed = pd.to_datetime(column.astype(str), errors="coerce", format="mixed", utc=True)
    except (ValueError, OverflowError) as error:
        raise MetricFileError(f"The timestamps cannot be read: {error}") from None
    return parsed.dt.tz_localize(None)


def _windows(data: bytes | None) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    if not data:
        return []
    try:
        parsed = json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError) as error:
        raise MetricFileError(f"The windows file is not JSON: {str(error)[:200]}") from None
    if isinstance(parsed, dict):
        if len(parsed) != 1:
            raise MetricFileError("The windows file holds several files' windows: keep only this file's entry.")
        parsed = next(iter(parsed.values()))
    try:
        windows = [(pd.Timestamp(str(a)[:19]), pd.Timestamp(str(b)[:19])) for a, b in parsed]
    except (TypeError, ValueError):
        raise MetricFileError("Windows must be a list of [start, end] timestamps.") from None
    if any(pd.isna(a) or pd.isna(b) or a > b for a, b in windows):
        raise MetricFileError("Each window needs a start and an end, the start not after the end.")
    windows.sort()
    if any(later[0] <= earlier[1] for earlier, later in itertools.pairwise(windows)):
        raise MetricFileError("Anomaly windows must not overlap.")
    return windows


def nab_scores(metric: MetricFile, scores: dict[str, np.ndarray]) -> pd.DataFrame:
    """Each detector's NAB score on this one file (raw, not normalised: +1 per early detection, −0.11 per FP) at
    its alert level, for the three profiles."""
    stamps = [t.strftime("%Y-%m-%d %H:%M:%S") for t in metric.frame["ts"]]
    window_texts = [(a.strftime("%Y-%m-%d %H:%M:%S"), b.strftime("%Y-%m-%d %H:%M:%S")) for a, b in metric.windows]
    try:
        rows = nab.scored_rows(len(stamps), nab.window_rows(stamps, window_texts))
    except ValueError as error:
        raise MetricFileError(str(error)) from None
    out = []
    for name, score in scores.items():
        line = {"detector": name}
        for profile in nab.PROFILES:
            result = nab.score_file(rows, score, ALERT_LEVEL, profile)
            line[profile.name] = round(result.score, 3)
        line["detections"] = int((score >= ALERT_LEVEL).sum())
        out.append(line)
    return pd.DataFrame(out)
