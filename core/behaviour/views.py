"""What the Behaviour page shows: score timelines with state bands, session replay, feature drift, the evaluation of
labelled sessions (ROC, DET, EER, AUC) and the page's report."""

from __future__ import annotations

import io
import zlib

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from scipy.stats import norm

from core.behaviour import keystroke
from core.behaviour.decision import THRESHOLDS, TrustState, fuse
from core.behaviour.evaluation import Verification, verification
from core.behaviour.events import EventLog, decode, group_events
from core.behaviour.keys import CLASS_NAMES
from core.behaviour.profiles import MODALITIES, UserProfile
from core.errors import CtasError
from core.report import Report

MAX_EVENT_FILE_BYTES = 100 * 1024 * 1024
MAX_UNPACKED_BYTES = 400 * 1024 * 1024
MAX_EVENT_LINES = 2_000_000
MIN_LABELLED_RUN_S = 30  # shorter state runs are shaded without a label (labels would overlap)
MODALITY_COLOURS = {"keystroke": "#1f77b4", "mouse": "#ff7f0e", "app": "#2ca02c", "fused": "#111111"}
BAND_COLOURS = {
    TrustState.NORMAL: "#2ca02c",
    TrustState.MONITORING: "#e6c229",
    TrustState.RESTRICTED: "#f28e2b",
    TrustState.LOCKED: "#d62728",
}


class EventFileError(CtasError, ValueError):
    """An uploaded event or label file cannot be used; the message says why."""


def read_event_file(data: bytes) -> list[dict]:
    """Event objects from an uploaded JSON-lines file (optionally gzip). Lines that are not a JSON object are left
    out here; the validator then counts every bad event."""
    if len(data) > MAX_EVENT_FILE_BYTES:
        raise EventFileError(f"The file is larger than {MAX_EVENT_FILE_BYTES // 2**20} MiB.")
    if data[:2] == b"\x1f\x8b":
        inflate = zlib.decompressobj(wbits=31)
        try:
            data = inflate.decompress(data, MAX_UNPACKED_BYTES)
        except zlib.error as exc:
            raise EventFileError(f"The gzip file is damaged: {exc}") from exc
        if inflate.unconsumed_tail:
            raise EventFileError(f"The unpacked file is larger than {MAX_UNPACKED_BYTES // 2**20} MiB.")
    if data.count(b"\n") > MAX_EVENT_LINES:  # counted before any line is made: a line costs ~50 bytes of memory
        raise EventFileError(f"The file has more than {MAX_EVENT_LINES:,} lines.")
    events: list[dict] = []
    for line in io.BytesIO(data):  # one line at a time
        if (event := decode(line)) is not None:
            events.append(event)
    if not events:
        raise EventFileError("No JSON event objects found: expected one SecLyzer event per line.")
    return events


def fused_frame(table: pd.DataFrame) -> pd.Series:
    """The fused score of each row of a modality score table."""
    return table.apply(lambda row: fuse({m: row.get(m) for m in MODALITIES}), axis=1).astype(float)


def read_labels(data: bytes) -> dict[str, bool]:
    """Session labels from a CSV with columns `session` (or `filename`) and `is_illegal` (1 = impostor)."""
    try:
        frame = pd.read_csv(io.BytesIO(data), dtype=str, nrows=1_000_000)
    except (ValueError, UnicodeDecodeError) as exc:
        raise EventFileError(f"The label file is not a readable CSV: {exc}") from exc
    name = "session" if "session" in frame.columns else "filename" if "filename" in frame.columns else None
    if name is None or "is_illegal" not in frame.columns:
        raise EventFileError("The label file needs the columns `session` (or `filename`) and `is_illegal`.")
    flags = frame["is_illegal"].str.strip()
    if not flags.isin(["0", "1"]).all():
        raise EventFileError("`is_illegal` must be 0 (genuine) or 1 (impostor) on every row.")
    return dict(zip(frame[name].str.strip(), flags == "1", strict=True))


def score_sessions(events: list[dict], labels: dict[str, bool], profiles: dict[str, UserProfile]) -> pd.DataFrame:
    """One row per labelled session: the claimed user (the events' `user`), genuine or not, and the mean fused score
    of its windows against the claimed user's profile. Sessions without a profile or a scorable window are listed
    with a reason instead of a score."""
    rows = []
    sessions, _ = group_events(events, "session")
    claimed = {}
    for event in events:
        claimed.setdefault(str(event.get("session")), event.get("user"))
    for session, log in sessions.items():
        if session not in labels:
            continue
        user = claimed.get(session)
        row = {
            "session": session,
            "user": user,
            "genuine": not labels[session],
            "score": np.nan,
            "windows": 0,
            "note": "",
        }
        profile = profiles.get(user) if isinstance(user, str) else None
        if profile is None:
            row["note"] = "no profile for the claimed user"
        else:
            table = profile.score(log)
            fused = fused_frame(table).dropna() if len(table) else pd.Series(dtype=float)
            row["windows"] = len(fused)
            if len(fused):
                row["score"] = float(fused.mean())
            else:
                row["note"] = "too little input for one window"
        rows.append(row)
    return pd.DataFrame(rows, columns=["session", "user", "genuine", "score", "windows", "note"])


def session_verification(scored: pd.DataFrame) -> Verification:
    """ROC/DET figures of scored sessions; needs genuine and impostor sessions with scores."""
    usable = scored.dropna(subset=["score"])
    genuine, impostor = usable[usable.genuine].score, usable[~usable.genuine].score
    if genuine.empty or impostor.empty:
        raise EventFileError("The evaluation needs scored genuine and impostor sessions (check the labels).")
    return verification(genuine.to_numpy(), impostor.to_numpy())


def roc_figure(result: Verification) -> go.Figure:
    fig = go.Figure(go.Scatter(x=result.far, y=1 - result.frr, mode="lines", name=f"AUC {result.auc:.3f}"))
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", line={"dash": "dot", "color": "grey"}, name="chance"))
    fig.add_trace(
        go.Scatter(
            x=[result.eer],
            y=[1 - result.eer],
            mode="markers",
            marker={"size": 10},
            name=f"EER {100 * result.eer:.1f} %",
        )
    )
    fig.update_layout(
        title="ROC: sessions scored against the claimed user",
        xaxis_title="False accept rate",
        yaxis_title="True accept rate",
        height=420,
        margin={"t": 60},
    )
    return fig


DET_TICKS = [0.001, 0.01, 0.05, 0.1, 0.2, 0.4, 0.6]


def det_figure(result: Verification) -> go.Figure:
    """Detection error trade-off on normal-deviate axes (the biometric standard)."""
    far, frr = (norm.ppf(np.clip(rate, 1e-4, 1 - 1e-4)) for rate in (result.far, result.frr))
    fig = go.Figure(go.Scatter(x=far, y=frr, mode="lines", name="DET"))
    ticks = {"tickvals": norm.ppf(DET_TICKS), "ticktext": [f"{100 * t:g} %" for t in DET_TICKS],
             "range": [norm.ppf(0.0005), norm.ppf(0.7)]}  # fmt: skip
    fig.add_trace(
        go.Scatter(
            x=[norm.ppf(result.eer)],
            y=[norm.ppf(result.eer)],
            mode="markers",
            marker={"size": 10},
            name=f"EER {100 * result.eer:.1f} %",
        )
    )
    fig.update_layout(
        title="DET curve",
        xaxis={"title": "False accept rate", **ticks},
        yaxis={"title": "False reject rate", **ticks},
        height=420,
        margin={"t": 60},
    )
    return fig


def timeline_figure(scores: pd.DataFrame, user: str) -> go.Figure:
    """A user's window scores per modality and fused, over threshold bands, with non-normal states shaded."""
    fig = go.Figure()
    lower = 0.0
    for threshold, state in reversed(THRESHOLDS):
        fig.add_hrect(y0=lower, y1=threshold, fillcolor=BAND_COLOURS[TrustState(state + 1)], opacity=0.08, line_width=0)
        lower = threshold
    fig.add_hrect(y0=lower, y1=100, fillcolor=BAND_COLOURS[TrustState.NORMAL], opacity=0.08, line_width=0)
    for column in (*MODALITIES, "fused"):
        if column in scores and scores[column].notna().any():
            fig.add_trace(
                go.Scatter(
                    x=scores.ts,
                    y=scores[column],
                    name=column,
                    mode="lines",
                    line={"color": MODALITY_COLOURS[column], "width": 3 if column == "fused" else 1.3},
                    connectgaps=False,
                )
            )
    for start, end, state in _state_runs(scores):
        labelled = (end - start).total_seconds() >= MIN_LABELLED_RUN_S
        if state != TrustState.NORMAL.name:
            label = {"annotation_text": state, "annotation_position": "top left"} if labelled else {}
            fig.add_vrect(
                x0=start, x1=end, fillcolor=BAND_COLOURS[TrustState[state]], opacity=0.18, line_width=0, **label
            )
    fig.update_layout(
        title=f"{user}: trust scores per 30 s window",
        yaxis={"title": "score (0–100)", "range": [0, 100]},
        xaxis_title="time (UTC)",
        height=420,
        legend={"orientation": "h", "y": -0.2},
        margin={"t": 60},
    )
    return fig


def _state_runs(scores: pd.DataFrame) -> list[tuple]:
    if scores.empty:
        return []
    change = scores.state.ne(scores.state.shift()).cumsum()
    return [(g.ts.iloc[0], g.ts.iloc[-1], g.state.iloc[0]) for _, g in scores.groupby(change)]


def mouse_path_figure(log: EventLog, start_us: int, end_us: int) -> go.Figure:
    """The pointer path in a time range (colour = time), with clicks marked."""
    m = log.mouse
    keep = (m.ts >= start_us) & (m.ts <= end_us)
    seconds = (m.ts[keep] - start_us) / 1e6
    fig = go.Figure(
        go.Scatter(
            x=m.x[keep],
            y=m.y[keep],
            mode="lines+markers",
            name="pointer",
            marker={"size": 3, "color": seconds, "colorscale": "Viridis", "colorbar": {"title": "s"}},
            line={"width": 1, "color": "rgba(0,0,0,0.25)"},
        )
    )
    clicks = keep & (m.kind == 1)
    fig.add_trace(
        go.Scatter(
            x=m.x[clicks],
            y=m.y[clicks],
            mode="markers",
            name="clicks",
            marker={"symbol": "x", "size": 10, "color": "#d62728"},
        )
    )
    fig.update_layout(
        title="Mouse path",
        xaxis_title="x (px)",
        height=460,
        margin={"t": 60},
        yaxis={"title": "y (px)", "autorange": "reversed", "scaleanchor": "x"},
    )
    return fig


def keystroke_strip_figure(log: EventLog, start_us: int, end_us: int) -> go.Figure:
    """Each keystroke as a bar from press to release, one row per key class (no key names: they are private)."""
    strokes = keystroke.keystrokes(log.keys)
    keep = (strokes.down >= start_us) & (strokes.down <= end_us)
    start = (strokes.down[keep] - start_us) / 1e6
    dwell = (strokes.up[keep] - strokes.down[keep]) / 1e6
    names = [CLASS_NAMES[c] for c in strokes.cls[keep]]
    fig = go.Figure(
        go.Bar(
            x=dwell,
            base=start,
            y=names,
            orientation="h",
            marker={"color": "#1f77b4"},
            hovertemplate="press at %{base:.2f} s, held %{x:.3f} s<extra></extra>",
        )
    )
    fig.update_layout(
        title="Keystroke timing (press → release)",
        xaxis_title="seconds into the range",
        yaxis={"title": "key class", "categoryorder": "array", "categoryarray": list(CLASS_NAMES)},
        height=360,
        margin={"t": 60},
        bargap=0.3,
    )
    return fig


def drift_figure(drift: pd.DataFrame, top: int = 15) -> go.Figure:
    shown = drift.reindex(drift.shift_sd.abs().sort_values(ascending=False).index).head(top)
    fig = go.Figure(
        go.Bar(
            x=shown.shift_sd,
            y=shown.modality + " · " + shown.feature,
            orientation="h",
            marker={"color": np.where(shown.shift_sd > 0, "#d62728", "#1f77b4")},
        )
    )
    fig.update_layout(
        title=f"Feature drift since enrolment (top {len(shown)})",
        height=460,
        margin={"t": 60},
        xaxis_title="shift of the recent mean (enrolment standard deviations)",
        yaxis={"autorange": "reversed"},
    )
    return fig


def users_frame(profiles: pd.DataFrame, scores: pd.DataFrame, alerts: pd.DataFrame) -> pd.DataFrame:
    """One row per enrolled user: profile version, modalities, current state, latest fused score, open alerts."""
    latest = scores.sort_values("ts").groupby("user").tail(1).set_index("user") if len(scores) else pd.DataFrame()
    rows = []
    for p in profiles.itertuples(index=False):
        row = latest.loc[p.user] if p.user in latest.index else None
        rows.append(
            {
                "user": p.user,
                "state": row.state if row is not None else "—",
                "fused": float(row.fused) if row is not None and pd.notna(row.fused) else np.nan,
                "last window": row.ts if row is not None else pd.NaT,
                "alerts": int((alerts.user == p.user).sum()) if len(alerts) else 0,
                "profile": f"v{p.version}",
                "modalities": ", ".join(p.modalities),
                "method": p.method,
                "enrolled": p.enrolled_at,
            }
        )
    return pd.DataFrame(rows)


def behaviour_report(users: pd.DataFrame, figures: list[go.Figure], alerts: pd.DataFrame) -> Report:
    report = Report("Behaviour monitoring", "Continuous verification: keystroke, mouse and app-usage dynamics")
    report.add_markdown(
        "Scores are 0–100 per 30 s window (100 = behaves like the enrolled user). The fused score weighs keystroke "
        "0.40, mouse 0.35 and app usage 0.25; states move one step after 3 consecutive windows in a worse band "
        "(NORMAL ≥ 70, MONITORING ≥ 50, RESTRICTED ≥ 35, LOCKED below) and back after 4 in a better one."
    )
    report.add_table(users, "Enrolled users")
    for fig in figures:
        report.add_figure(fig)
    report.add_table(alerts, "State alerts")
    return report
