"""The Host monitor page's panels: the live host (charts, alerts, rules) and the metric-file analysis."""

from datetime import timedelta

import pandas as pd
import streamlit as st

from core.monitor.alerts import SEVERITIES, AlertRuleError, rules_frame, rules_from_frame
from core.monitor.detectors import (
    CROSS_VALIDATED_NAB,
    LIVE_DETECTORS,
    MEMORY_DETECTOR_ROWS,
    MEMORY_DETECTORS,
    SUMMARIES,
    detectors_for_rows,
)
from core.monitor.sampler import HostSampler, utc_now
from core.monitor.store import HostStore
from core.monitor.views import (
    MetricFileError,
    chart_bucket_seconds,
    label,
    metric_figure,
    monitor_report,
    nab_scores,
    read_metric_file,
    score_series,
    window_summary,
)
from core.warehouse import Warehouse, WarehouseError
from ui import common
from ui.errors import guarded

WINDOWS = {"15 minutes": timedelta(minutes=15), "1 hour": timedelta(hours=1), "24 hours": timedelta(hours=24)}
DEFAULT_METRICS = ["cpu.total", "memory.used_percent", "load.1m", "net.recv_bytes_per_s"]
REFRESH_SECONDS = 2
SEVERITY_BADGES = {"info": "blue", "warning": "orange", "high": "red", "critical": "violet"}


def _set_sampling(sampler: HostSampler) -> None:
    """The Sampling toggle's callback: only this session's own change starts or stops the shared sampler."""
    if st.session_state["mon_sampling"]:
        sampler.start()
    else:
        sampler.stop()


def live(sampler: HostSampler, warehouse: Warehouse) -> None:
    """The live host: sampling switch, metric charts with anomalies, alerts, top processes and the rules editor."""
    with st.sidebar:
        st.subheader("Host monitor")
        span = st.selectbox("Window", list(WINDOWS), key="mon_window")
        detector = st.selectbox(
            "Detector",
            list(LIVE_DETECTORS),
            index=0,
            key="mon_detector",
            help=" · ".join(
                f"{name}: {SUMMARIES[name]} (NAB {CROSS_VALIDATED_NAB[name]:.1f}, cross-validated)"
                for name in LIVE_DETECTORS
            )
            + " · "
            + " and ".join(f"{name} (NAB {CROSS_VALIDATED_NAB[name]:.1f})" for name in MEMORY_DETECTORS)
            + " learn a memory too slow for a live chart: analyse a metric file.",
        )
        st.session_state["mon_sampling"] = sampler.running  # the shared state, whoever changed it last
        st.toggle(
            "Sampling",
            key="mon_sampling",
            on_change=_set_sampling,
            args=(sampler,),
            help="Records this host every second into the warehouse (for every session of this server).",
        )
    recorded = [m for m in HostStore(warehouse).host_metrics() if not m.startswith("cpu.core")]
    metrics = sorted(set(recorded) | set(DEFAULT_METRICS))  # the defaults even before the first batch lands
    chosen = st.multiselect("Metrics", metrics, default=DEFAULT_METRICS, format_func=label, key="mon_metrics")
    _live_panel(sampler, warehouse, chosen, WINDOWS[span], detector)
    _rules_editor(warehouse)


@st.fragment(run_every=REFRESH_SECONDS)
@guarded
def _live_panel(sampler: HostSampler, warehouse: Warehouse, chosen: list[str], span: timedelta, detector: str) -> None:
    now = utc_now()
    bucket = chart_bucket_seconds(span)
    if chosen:
        frame = HostStore(warehouse).host_series(chosen, now - span, bucket_seconds=bucket)
    else:
        frame = pd.DataFrame(columns=["ts", "metric", "value"])
    scored = {m: score_series(frame[frame.metric == m], detector, step_seconds=bucket) for m in chosen}
    status = "sampling every second" if sampler.running else "sampling stopped"
    if bucket > 1:
        status += f" · charts show {bucket} s means"
    st.caption(
        f"{status} · {sampler.stats.readings:,} readings and {sampler.stats.alerts_opened} alerts this run · "
        f"sampler CPU {100 * sampler.overhead():.2f} % of a core · updated {now:%H:%M:%S} UTC"
    )
    if sampler.stats.last_error:
        st.warning(f"The sampler reported: {common.md_escape(sampler.stats.last_error)}", icon=":material/warning:")
    if frame.empty:
        st.info("The sampler is taking its first readings: charts appear within seconds.", icon=":material/timer:")
    tiles = st.columns(max(1, len(scored)))
    for tile, (metric, series) in zip(tiles, scored.items(), strict=False):
        latest = series["value"].iloc[-1] if len(series) else None
        tile.metric(
            label(metric),
            "—" if latest is None else f"{latest:,.1f}",
            help=f"{int(series['anomaly'].sum()) if len(series) else 0} anomalies in the window",
        )
    alerts = HostStore(warehouse).alerts(since=now - span)
    _alerts_panel(warehouse, alerts)
    drawn = [(metric, series) for metric, series in scored.items() if len(series)]
    for row in range(0, len(drawn), 2):
        for column, (metric, series) in zip(st.columns(2), drawn[row : row + 2], strict=False):
            column.plotly_chart(metric_figure(series, metric), key=f"mon_chart_{metric}")
    left, right = st.columns(2)
    left.subheader("Top processes")
    left.dataframe(
        HostStore(warehouse).latest_processes().drop(columns=["ts"]),
        hide_index=True,
        height=380,
        column_config={
            "cpu_percent": st.column_config.NumberColumn("CPU %", format="%.1f"),
            "memory_percent": st.column_config.NumberColumn("memory %", format="%.1f"),
        },
    )
    right.subheader("Window summary")
    right.dataframe(window_summary(scored), hide_index=True)
    with right:
        common.report_button(
            lambda: monitor_report("Host monitor", scored, alerts, detector), "Host monitor", key="mon_report"
        )


def _alerts_panel(warehouse: Warehouse, alerts: pd.DataFrame) -> None:
    open_alerts = alerts[alerts["ended_at"].isna()]
    st.subheader(f"Alerts · {len(open_alerts)} open")
    if alerts.empty:
        st.caption("No alerts in this window.")
        return
    for row in alerts.head(8).itertuples():
        badge = f":{SEVERITY_BADGES.get(row.severity, 'gray')}-badge[{row.severity}]"
        state = "open" if pd.isna(row.ended_at) else f"ended {row.ended_at:%H:%M:%S}"
        text, button = st.columns([5, 1])
        ack = "" if pd.isna(row.acknowledged_at) else f" · acknowledged {row.acknowledged_at:%H:%M:%S}"
        text.markdown(
            f"{badge} **{common.md_escape(row.rule)}** · {common.md_escape(row.message)} · "
            f"since {row.started_at:%H:%M:%S} · {state}{ack}  \n"
            f":gray[{common.md_escape(row.action)}]"
        )
        if pd.isna(row.acknowledged_at):
            button.button("Acknowledge", key=f"mon_ack_{row.id}", on_click=_acknowledge, args=(warehouse, int(row.id)))


def _acknowledge(warehouse: Warehouse, alert_id: int) -> None:
    HostStore(warehouse).acknowledge_alert(alert_id, utc_now())


def _rules_editor(warehouse: Warehouse) -> None:
    with st.expander("Alert rules", icon=":material/rule:"):
        st.caption(
            "A rule alerts when its metric stays above the threshold for the duration; the alert ends when "
            "the metric falls below threshold − hysteresis. anomaly_rate.* metrics are percentages."
        )
        edited = st.data_editor(
            HostStore(warehouse).alert_rules(),
            num_rows="dynamic",
            hide_index=True,
            key="mon_rules",
            column_config={
                "severity": st.column_config.SelectboxColumn(options=SEVERITIES),
                "duration_s": st.column_config.NumberColumn("duration (s)", min_value=0),
                "action": st.column_config.TextColumn(width="large"),
            },
        )
        if st.button("Save rules", key="mon_save_rules", icon=":material/save:"):
            _save_rules(warehouse, edited)
        with st.form("mon_new_rule", clear_on_submit=True, border=True):
            st.markdown("**Add a rule**")
            name_col, metric_col, threshold_col, duration_col, severity_col = st.columns([2, 2, 1, 1, 1])
            name = name_col.text_input("Name", key="mon_new_name")
            metrics = HostStore(warehouse).host_metrics() or ["cpu.total"]
            default = metrics.index("cpu.total") if "cpu.total" in metrics else 0
            metric = metric_col.selectbox("Metric", metrics, index=default, key="mon_new_metric")
            threshold = threshold_col.number_input("Above", value=80.0, key="mon_new_threshold")
            duration = duration_col.number_input("For (s)", min_value=0.0, value=0.0, key="mon_new_duration")
            severity = severity_col.selectbox("Severity", SEVERITIES, index=1, key="mon_new_severity")
            action = st.text_input("Recommended action", key="mon_new_action")
            if st.form_submit_button("Add rule", icon=":material/add_alert:"):
                new = {
                    "name": name,
                    "metric": metric,
                    "threshold": threshold,
                    "duration_s": duration,
                    "hysteresis": 0.0,
                    "severity": severity,
                    "action": action,
                    "enabled": True,
                }
                _save_rules(
                    warehouse, pd.concat([HostStore(warehouse).alert_rules(), pd.DataFrame([new])], ignore_index=True)
                )


def _save_rules(warehouse: Warehouse, table: pd.DataFrame) -> None:
    try:
        HostStore(warehouse).replace_alert_rules(rules_frame(rules_from_frame(table)))
    except (AlertRuleError, WarehouseError) as error:
        st.error(common.md_escape(error), icon=":material/error:")
    else:
        st.toast("Rules saved: the sampler uses them from its next batch (within 5 s).", icon=":material/check:")
        st.rerun()


def metric_file() -> None:
    """An uploaded `timestamp,value` metric file scored by every detector, with NAB scores where windows are given."""
    data = st.file_uploader("Metric file (CSV with timestamp,value: NAB's format)", type=["csv"], key="mon_file")
    labels = st.file_uploader("Anomaly windows (optional JSON list of [start, end])", type=["json"], key="mon_labels")
    if data is None:
        st.info("Upload a `timestamp,value` CSV to see every detector's scores on it.", icon=":material/upload:")
        return
    try:
        metric = read_metric_file(data.getvalue(), labels.getvalue() if labels else None)
        scored = {name: score_series(metric.frame, name) for name in detectors_for_rows(len(metric.frame))}
        table = nab_scores(metric, {n: s["score"].to_numpy() for n, s in scored.items()}) if metric.windows else None
    except MetricFileError as error:
        st.error(common.md_escape(error), icon=":material/error:")
        return
    if metric.dropped_rows:
        st.warning(f"{metric.dropped_rows:,} rows without a readable time or number were left out.")
    st.caption(f"{len(metric.frame):,} samples · {len(metric.windows)} labelled windows (green)")
    if len(scored) < len(CROSS_VALIDATED_NAB):
        st.caption(f"{' and '.join(MEMORY_DETECTORS)} score files of up to {MEMORY_DETECTOR_ROWS:,} rows only.")
    if table is not None:
        st.subheader("NAB score of this file at each detector's alert level")
        st.dataframe(table, hide_index=True)
    for name, series in scored.items():
        st.plotly_chart(metric_figure(series, f"{data.name}: {name}", metric.windows), key=f"mon_file_{name}")
