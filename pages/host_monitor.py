"""Host monitor: live metrics from this host with anomaly detection and alerts, or the analysis of a metric file."""

import streamlit as st

from core.monitor.sampler import sampler_for
from ui import common
from ui.host_monitor import live, metric_file

wh = common.warehouse()
st.title("Host monitor")
mode = st.segmented_control("Mode", ["Live host", "Analyse a metric file"], default="Live host", key="mon_mode")
if mode == "Analyse a metric file":
    metric_file()
else:
    live(sampler_for(wh), wh)
