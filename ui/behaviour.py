"""The Behaviour page's panels: enrolment, the live feed, timelines and alerts, session replay, drift, evaluation."""

from __future__ import annotations

import json
from datetime import timedelta

import pandas as pd
import streamlit as st

from core.behaviour import sample, store
from core.behaviour.events import EventLog, group_events
from core.behaviour.models import EnrolmentError
from core.behaviour.profiles import UserProfile, enrol
from core.behaviour.runner import FeedError, FeedRunner
from core.behaviour.store import BehaviourStore, ProfileStoreError
from core.behaviour.views import (
    EventFileError,
    behaviour_report,
    det_figure,
    drift_figure,
    keystroke_strip_figure,
    mouse_path_figure,
    read_event_file,
    read_labels,
    roc_figure,
    score_sessions,
    session_verification,
    timeline_figure,
    users_frame,
)
from core.cases import local_host
from core.warehouse import Warehouse, WarehouseError
from ui import common
from ui.errors import guarded

REFRESH_SECONDS = 2
TIMELINE_SPAN = timedelta(hours=1)  # the live panel shows the last hour of windows (of event time)
SPEEDS = {"real time (1×)": 1.0, "10× faster": 10.0, "60× faster": 60.0, "as fast as possible": 0.0}
STATE_BADGES = {"NORMAL": "green", "MONITORING": "orange", "RESTRICTED": "red", "LOCKED": "violet"}
SAMPLE_SOURCE = "Shipped sample (live session)"


@st.cache_resource
def feed_runner(path: str) -> FeedRunner:
    """One background feed per warehouse file, shared by every session."""
    return FeedRunner(common.warehouse_at(path))


@st.cache_resource(show_spinner="Loading profiles…")
def _profiles(path: str, stamp: str) -> dict[str, UserProfile]:
    """The active profiles, cached per warehouse and profile versions."""
    return store.load_all(common.warehouse_at(path))


def _profile_stamp(wh: Warehouse) -> str:
    """Which profile versions are active: caches keyed on it refresh after an enrolment."""
    return ",".join(f"{r.user}:{r.version}" for r in BehaviourStore(wh).behaviour_profiles().itertuples(index=False))


def profiles(wh: Warehouse) -> dict[str, UserProfile]:
    """The active profiles (reloaded when an enrolment adds a version)."""
    try:
        return _profiles(wh.path, _profile_stamp(wh))
    except ProfileStoreError as exc:
        st.error(f"**The profiles cannot be loaded.** {common.md_escape(exc)}", icon=":material/error:")
        return {}


# -- enrolment ---------------------------------------------------------------------------------------------------
def enrol_panel(wh: Warehouse) -> None:
    enrolled = BehaviourStore(wh).behaviour_profiles()
    with st.expander("Enrol users", icon=":material/how_to_reg:", expanded=enrolled.empty):
        st.caption(
            "Each enrolment stores a new profile version and makes it the active one: profiles never change silently. "
            "Two-class models need at least two users enrolled together."
        )
        left, right = st.columns(2)
        if left.button(
            "Enrol alice, bob and carol from the sample", key="beh_enrol_sample", icon=":material/group_add:"
        ):
            _enrol(wh, sample.enrolment_logs(), "the shipped sample")
        uploaded = right.file_uploader(
            "Or enrol from an event file (JSON lines with a `user` field; gzip allowed)",
            type=["jsonl", "json", "gz", "txt"],
            key="beh_enrol_upload",
        )
        if uploaded is not None and right.button("Enrol from this file", key="beh_enrol_file"):
            try:
                logs, rejected = _uploaded_logs(uploaded.getvalue())
            except EventFileError as exc:
                st.error(f"**Nothing enrolled.** {common.md_escape(exc)}", icon=":material/error:")
                return
            if rejected:
                st.warning(f"{rejected:,} events were unusable and skipped.", icon=":material/warning:")
            _enrol(wh, logs, common.md_escape(uploaded.name))
    if (flash := st.session_state.pop("beh_flash", None)) is not None:
        st.success(flash, icon=":material/check_circle:")


def _enrol(wh: Warehouse, logs: dict[str, EventLog], origin: str) -> None:
    with st.status(f"Enrolling {len(logs)} users from {origin}…", expanded=True) as status:
        try:
            st.write("Extracting features and training keystroke, mouse and app-usage models…")
            built = enrol(logs)
            versions = store.save_all(wh, built)
        except (EnrolmentError, ProfileStoreError, WarehouseError) as exc:
            status.update(label="Enrolment failed", state="error")
            st.error(f"**Nothing enrolled.** {common.md_escape(exc)}", icon=":material/error:")
            return
        status.update(label="Enrolled", state="complete")
    st.session_state["beh_flash"] = "Enrolled " + ", ".join(
        f"**{common.md_escape(u)}** (v{v})" for u, v in versions.items()
    )
    st.rerun()


# -- live feed ---------------------------------------------------------------------------------------------------
def feed_controls(runner: FeedRunner, users: list[str]) -> None:
    with st.sidebar:
        st.subheader("Live feed")
        source = st.radio("Source", ["Sample replay", "Redis (SecLyzer)"], key="beh_source")
        host = st.text_input(
            "Host of these events", local_host(), key="beh_host", max_chars=253,
            help="The machine whose keyboard and mouse the feed carries (SecLyzer runs there; the sample replay stands "
            "in for this one). Its trust alerts name it in Investigations; leave it empty when unknown.",
        )  # fmt: skip
        if source == "Sample replay":
            speed = st.selectbox("Speed", list(SPEEDS), index=1, key="beh_speed")
            start = lambda: runner.start_replay(speed=SPEEDS[speed], host=host)  # noqa: E731
        else:
            url = st.text_input("Redis URL", "redis://localhost:6379/0", key="beh_redis_url")
            channel = st.text_input("Channel", "seclyzer:events", key="beh_channel")
            default_user = st.selectbox("Events without a user belong to", users or ["—"], key="beh_default_user")
            start = lambda: runner.start_redis(url, channel, default_user, host)  # noqa: E731
        _feed_buttons(runner, start, bool(users))


@st.fragment(run_every=REFRESH_SECONDS)
@guarded
def _feed_buttons(runner: FeedRunner, start, can_start: bool) -> None:
    """Start and Stop, refreshed with the feed: a replay that ends re-enables Start without a page reload."""
    left, right = st.columns(2)
    left.button(
        "Start",
        key="beh_start",
        on_click=_start,
        args=(start,),
        disabled=runner.running or not can_start,
        icon=":material/play_arrow:",
        type="primary",
    )
    right.button("Stop", key="beh_stop", on_click=runner.stop, disabled=not runner.running, icon=":material/stop:")
    if (problem := st.session_state.pop("beh_start_error", None)) is not None:
        st.error(common.md_escape(problem), icon=":material/error:")


def _start(start) -> None:
    try:
        start()
    except (FeedError, ProfileStoreError) as exc:
        st.session_state["beh_start_error"] = str(exc)


@st.fragment(run_every=REFRESH_SECONDS)
@guarded
def live_panel(wh: Warehouse, runner: FeedRunner) -> None:
    scores, alerts = BehaviourStore(wh).behaviour_scores(last=TIMELINE_SPAN), BehaviourStore(wh).behaviour_alerts()
    users = users_frame(BehaviourStore(wh).behaviour_profiles(), scores, alerts)
    feeds = BehaviourStore(wh).behaviour_feeds()
    state = "running" if runner.running else "stopped"
    note = f"Feed {state}" + (f" · {runner.source}" if runner.source else "")
    for row in feeds.itertuples(index=False):
        rejected = json.loads(row.rejected)
        reasons = ", ".join(f"{count:,} {reason.replace('_', ' ')}" for reason, count in rejected.items())
        note += f" · {row.source}: {row.accepted:,} events accepted, {sum(rejected.values()):,} rejected"
        note += f" ({reasons})" if reasons else ""
    st.caption(note)
    if runner.error:
        st.error(f"**The feed stopped.** {common.md_escape(runner.error)}", icon=":material/error:")
    tiles = st.columns(max(1, len(users)))
    for tile, row in zip(tiles, users.itertuples(index=False), strict=False):
        tile.metric(
            row.user,
            row.state,
            "—" if pd.isna(row.fused) else f"{row.fused:.0f} / 100",
            delta_arrow="off",
            delta_color="off",
            border=True,
        )
    st.dataframe(users, hide_index=True, column_config={"fused": st.column_config.NumberColumn(format="%.0f")})
    if scores.empty:
        st.info(
            "No scores yet: enrol users, then start the sample replay or the Redis feed in the sidebar.",
            icon=":material/info:",
        )
        return
    for user in sorted(scores.user.unique()):
        st.plotly_chart(timeline_figure(scores[scores.user == user], user), key=f"beh_timeline_{user}")
    st.subheader("Alerts")
    st.dataframe(alerts, hide_index=True, column_config={"score": st.column_config.NumberColumn(format="%.0f")})
    common.report_button(lambda: _report(users, scores, alerts), "Behaviour monitoring", key="beh_report")


def _report(users: pd.DataFrame, scores: pd.DataFrame, alerts: pd.DataFrame):
    figures = [timeline_figure(scores[scores.user == u], u) for u in sorted(scores.user.unique())]
    return behaviour_report(users, figures, alerts)


# -- session replay and drift ------------------------------------------------------------------------------------
@st.cache_data(show_spinner="Reading the sample session…")
def _sample_logs() -> dict[str, EventLog]:
    logs, _ = group_events(sample.live_events(), "user")
    return logs


@st.cache_data(max_entries=2, show_spinner="Reading the event file…")
def _uploaded_logs(data: bytes) -> tuple[dict[str, EventLog], int]:
    """An uploaded event file's events per user (parsed once per file, not on every rerun)."""
    return group_events(read_event_file(data), "user")


@st.cache_data(max_entries=2, show_spinner="Scoring sessions…")
def _scored_upload(events_file: bytes, labels_file: bytes, _profiles: dict, stamp: str) -> pd.DataFrame:
    return score_sessions(read_event_file(events_file), read_labels(labels_file), _profiles)


def _session_logs(key: str) -> dict[str, EventLog] | None:
    source = st.radio("Events", [SAMPLE_SOURCE, "Upload an event file"], horizontal=True, key=f"{key}_source")
    if source == SAMPLE_SOURCE:
        return _sample_logs()
    uploaded = st.file_uploader(
        "Event file (JSON lines with a `user` field; gzip allowed)",
        key=f"{key}_upload",
        type=["jsonl", "json", "gz", "txt"],
    )
    if uploaded is None:
        return None
    try:
        logs, rejected = _uploaded_logs(uploaded.getvalue())
    except EventFileError as exc:
        st.error(common.md_escape(exc), icon=":material/error:")
        return None
    if rejected:
        st.caption(f"{rejected:,} unusable events skipped.")
    return logs


def replay_panel() -> None:
    logs = _session_logs("beh_replay")
    if not logs:
        return
    common.keep_valid("beh_replay_user", sorted(logs))
    user = st.selectbox("User", sorted(logs), key="beh_replay_user")
    log = logs[user]
    times = [t for t in (log.mouse.ts, log.keys.ts) if len(t)]
    if not times:
        st.info("This user has no mouse or keystroke events.", icon=":material/info:")
        return
    first, last = min(int(t[0]) for t in times), max(int(t[-1]) for t in times)
    total = max(1, int((last - first) / 1e6))
    span = st.slider("Seconds into the session", 0, total, (0, min(total, 60)), key="beh_replay_range")
    start, end = first + span[0] * 1_000_000, first + span[1] * 1_000_000
    left, right = st.columns(2)
    left.plotly_chart(mouse_path_figure(log, start, end), key="beh_mouse_path")
    right.plotly_chart(keystroke_strip_figure(log, start, end), key="beh_key_strip")


def drift_panel(wh: Warehouse) -> None:
    known = profiles(wh)
    if not known:
        st.info("Enrol users first: drift compares recent behaviour with the enrolment.", icon=":material/info:")
        return
    logs = _session_logs("beh_drift")
    if not logs:
        return
    users = sorted(set(logs) & set(known))
    if not users:
        st.warning("None of the users in these events is enrolled.", icon=":material/warning:")
        return
    common.keep_valid("beh_drift_user", users)
    user = st.selectbox("User", users, key="beh_drift_user")
    drift = known[user].drift(logs[user])
    if drift.empty:
        st.info("Too little input to compare.", icon=":material/info:")
        return
    st.plotly_chart(drift_figure(drift), key="beh_drift_chart")
    st.caption(
        "Shifts beyond ±2 standard deviations on many features suggest re-enrolment (explicit, never automatic)."
    )


@st.cache_data(max_entries=2, show_spinner="Scoring the sample's sessions…")
def _scored_sample(_profiles: dict, stamp: str) -> pd.DataFrame:
    events, labels = sample.labelled_sessions()
    return score_sessions(events, labels, _profiles)


# -- evaluation --------------------------------------------------------------------------------------------------
def evaluation_panel(wh: Warehouse) -> None:
    known = profiles(wh)
    if not known:
        st.info("Enrol users first: sessions are scored against the claimed user's profile.", icon=":material/info:")
        return
    choice = st.radio(
        "Labelled sessions",
        ["The sample's sessions (75 s each)", "Upload events and labels"],
        horizontal=True,
        key="beh_eval_source",
    )
    stamp = _profile_stamp(wh)
    if choice.startswith("The sample"):
        scored = _scored_sample(known, stamp)
    else:
        left, right = st.columns(2)
        event_file = left.file_uploader(
            "Events (JSON lines with `user` and `session` fields)",
            key="beh_eval_events",
            type=["jsonl", "json", "gz", "txt"],
        )
        label_file = right.file_uploader("Labels (CSV: session,is_illegal)", type=["csv"], key="beh_eval_labels")
        if event_file is None or label_file is None:
            return
        try:
            scored = _scored_upload(event_file.getvalue(), label_file.getvalue(), known, stamp)
        except EventFileError as exc:
            st.error(common.md_escape(exc), icon=":material/error:")
            return
    try:
        result = session_verification(scored)
    except EventFileError as exc:
        st.error(common.md_escape(exc), icon=":material/error:")
        st.dataframe(scored, hide_index=True)
        return
    a, b, c, d = st.columns(4)
    a.metric("AUC", f"{result.auc:.3f}")
    b.metric("EER", f"{100 * result.eer:.1f} %")
    c.metric("Genuine sessions", result.genuine)
    d.metric("Impostor sessions", result.impostor)
    left, right = st.columns(2)
    left.plotly_chart(roc_figure(result), key="beh_roc")
    right.plotly_chart(det_figure(result), key="beh_det")
    st.dataframe(scored, hide_index=True, column_config={"score": st.column_config.NumberColumn(format="%.1f")})
    common.csv_button(lambda: scored, "ctas-behaviour-evaluation.csv", key="beh_eval_csv")
