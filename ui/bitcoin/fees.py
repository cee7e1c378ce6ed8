"""Fee-spike episodes of the chosen daily series."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.chain.fees import BASELINE_DAYS, HAMPEL_K, blocks_per_day, fee_episodes
from core.chain.views import fee_figure
from ui import common


def show(series: dict[str, pd.Series], blocks: pd.DataFrame) -> tuple[pd.DataFrame, go.Figure]:
    """The episodes and the fee chart (the chosen blocks' daily counts join the causes where they cover the fee
    days); returns both (for the report)."""
    episodes = fee_episodes(series, blocks_per_day(blocks["ts"]))
    fees = series["transaction-fees"]
    years = max((fees.index[-1] - fees.index[0]).days + 1, 1) / 365.25
    cells = st.columns(3)
    cells[0].metric("Days", f"{len(fees):,}")
    cells[1].metric("Episodes", len(episodes))
    cells[2].metric("Episodes a year", f"{len(episodes) / years:.1f}")
    figure = fee_figure(series, episodes)
    st.plotly_chart(figure, width="stretch")
    st.caption(
        f"A day spikes when its fees over the median of the {BASELINE_DAYS} days before it (the days after it, "
        f"while fewer than {BASELINE_DAYS} are behind it) is an outlier by Hampel's rule ({HAMPEL_K:g} scaled MADs). "
        "Cause: the halving calendar, then transactions up, then blocks or hash rate down, else fee bidding."
    )
    st.dataframe(
        episodes,
        hide_index=True,
        width="stretch",
        column_config={
            **{c: st.column_config.DateColumn(format="YYYY-MM-DD") for c in ("start", "end", "peak_day")},
            "peak_fees": st.column_config.NumberColumn("peak fees (BTC)", format="%.1f"),
            "baseline": st.column_config.NumberColumn("baseline (BTC)", format="%.1f"),
            "magnitude": st.column_config.NumberColumn("peak / baseline", format="%.1fx"),
            "why": st.column_config.TextColumn(width="large"),
        },
    )
    common.csv_button(lambda: episodes, "fee_episodes.csv", "chain_fees_csv", "Download episodes CSV")
    return episodes, figure
