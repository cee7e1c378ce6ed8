"""Mining concentration: shares over time, and per window the top-k shares, HHI, Nakamoto coefficient, entropy."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.chain.concentration import concentration, pool_shares
from core.chain.views import concentration_figure, pool_share_figure

WINDOWS = {"day": "day", "week": "week", "month": "month", "year": "year", "144 blocks": 144, "2,016 blocks": 2016}


@st.cache_data(max_entries=8, show_spinner="Computing concentration…")
def _tables(key: str, _blocks: pd.DataFrame, by: str | int, unknown: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    return concentration(_blocks, by, unknown), pool_shares(_blocks, by)


def show(key: str, blocks: pd.DataFrame) -> tuple[pd.DataFrame, list]:
    """The concentration panel; returns its table and figures (for the report)."""
    left, right = st.columns(2)
    window = left.selectbox("Window", list(WINDOWS), index=2, key="chain_window")
    unknown = right.radio(
        "Unattributed blocks",
        ["exclude", "entity"],
        format_func={"exclude": "left out (shares of attributed blocks)", "entity": "counted as one more entity"}.get,
        horizontal=True,
        key="chain_unknown",
        help="Left out, a pool's share is of the blocks we know the miner of; as an entity, 'unknown' competes "
        "as if it were one pool. HHI and the Nakamoto coefficient change with the choice where many blocks are "
        "unattributed (10 % in 2021).",
    )
    by = WINDOWS[window]
    table, shares = _tables(key, blocks, by, unknown)
    figures = [pool_share_figure(shares, window), concentration_figure(table, window)]
    for figure in figures:
        st.plotly_chart(figure, width="stretch")
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={
            **{c: st.column_config.NumberColumn(format="percent") for c in ("top1_share", "top2_share", "top3_share")},
            "start": st.column_config.DateColumn(format="YYYY-MM-DD"),
            "hhi": st.column_config.NumberColumn("HHI", format="%.0f"),
            "entropy_bits": st.column_config.NumberColumn("entropy (bits)", format="%.2f"),
            "nakamoto": st.column_config.NumberColumn("Nakamoto coefficient"),
        },
    )
    return table, figures
