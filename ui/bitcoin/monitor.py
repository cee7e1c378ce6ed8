"""The majority-attack monitor over the chosen blocks: its figure, its alerts, and the leading pool's probability of
holding a majority now."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.chain.blocks import pool_label
from core.chain.monitor import MajorityMonitor
from core.chain.views import majority_figure
from ui import common

MONITOR = MajorityMonitor()


@st.cache_data(max_entries=4, show_spinner="Running the monitor over every block…")
def run(key: str, _blocks: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The per-block majority test and the alerts of all three tests (cached per block set, named by `key`)."""
    majority = MONITOR.majority(_blocks)
    return majority, MONITOR.scan(_blocks, majority)


def show(majority: pd.DataFrame, alerts: pd.DataFrame, height: int | None) -> go.Figure | None:
    """Metrics, the monitor's figure and the alert table; `height` (from a link) picks out one alert."""
    if majority.empty:
        st.info(
            f"The monitor needs at least {MONITOR.window + MONITOR.baseline:,} blocks: a window of {MONITOR.window} "
            f"and {MONITOR.baseline:,} blocks of baseline before it.",
            icon=":material/info:",
        )
        return None
    latest = majority.iloc[-1]
    cells = st.columns(4)
    cells[0].metric("Blocks tested", f"{len(majority):,}")
    cells[1].metric("Majority alerts", int((alerts["level"] == "majority").sum()))
    cells[2].metric("Burst and run alerts", int((alerts["level"] != "majority").sum()))
    cells[3].metric(
        f"P(majority) now: {pool_label(latest['pool'])}",
        f"{latest['probability']:.2%}",
        help=f"{int(latest['count'])} of the last {MONITOR.window} blocks; the probability that this pool holds "
        "over half the hash rate (Jeffreys posterior). A 51 % pool shows here long before it can be told from an "
        "honest one with confidence.",
    )
    figure = majority_figure(majority, MONITOR.alpha, MONITOR.window)
    st.plotly_chart(figure, width="stretch")
    st.caption(
        f"Majority alarm: the leading pool's count in {MONITOR.window} blocks has a binomial tail below "
        f"{MONITOR.alpha:.1e} against an honest pool as large as the largest share of the {MONITOR.baseline:,} "
        f"blocks before (an honest pool at that share would raise about {MONITOR.false_alarms_per_year:g} alarm "
        "a year). Bursts "
        f"({MONITOR.burst_blocks} blocks in too little time) and runs (one pool's consecutive blocks) are tested "
        "against tail probabilities calibrated on 2021–2022 (bench/chain_calibrate.py)."
    )
    shown = alerts.assign(pool=alerts["pool"].map(lambda p: pool_label(p) if p else ""))
    if height is not None and height in set(alerts["height"]):
        st.info(f"The alert at height {height:,} is the one the investigation linked to.", icon=":material/link:")
        shown = pd.concat([shown[shown["height"] == height], shown[shown["height"] != height]])
    st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        column_config={
            "probability": st.column_config.NumberColumn("P(majority)", format="percent"),
            "p_value": st.column_config.NumberColumn("tail probability", format="%.1e"),
            "ts": st.column_config.DatetimeColumn("time (UTC)", format="YYYY-MM-DD HH:mm"),
            "detail": st.column_config.TextColumn(width="large"),
        },
    )
    common.csv_button(lambda: shown, "bitcoin_alerts.csv", "chain_alerts_csv", "Download alerts CSV")
    return figure
