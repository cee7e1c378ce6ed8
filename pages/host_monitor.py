"""Host monitor: live metrics from this host with anomaly detection and alerts, or the analysis of a metric file."""

import pandas as pd
import streamlit as st

from core.monitor.sampler import sampler_for
from core.monitor.store import HostStore
from ui import common
from ui.host_monitor import live, metric_file

wh = common.warehouse()
st.title("Host monitor")
alert = common.number(common.linked().get("alert"))
if alert is not None:  # a link from Investigations: that alert, whatever the window shows
    found = HostStore(wh).alerts()
    found = found[found["id"] == alert]
    if len(found):
        row = found.iloc[0]
        state = "still open" if pd.isna(row["ended_at"]) else f"ended {row['ended_at']:%Y-%m-%d %H:%M:%S}"
        common.from_investigation(f"alert {alert}, **{common.md_escape(row['rule'])}** · "
                                  f"{common.md_escape(row['message'])} · since {row['started_at']:%Y-%m-%d %H:%M:%S} "
                                  f"· {state}")  # fmt: skip
mode = st.segmented_control("Mode", ["Live host", "Analyse a metric file"], default="Live host", key="mon_mode")
if mode == "Analyse a metric file":
    metric_file()
else:
    live(sampler_for(wh), wh)
