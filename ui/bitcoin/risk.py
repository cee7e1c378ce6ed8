"""The double-spend risk calculator and the confirmation advisor for the chosen window of blocks."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.chain.advisor import advise
from core.chain.risk import MODELS, safe_depth
from core.chain.views import risk_figure
from ui.bitcoin import window

RISKS = {"1 in 1,000": 1e-3, "1 in 10,000": 1e-4, "1 in 100,000": 1e-5, "1 in 1,000,000": 1e-6}


def show(blocks: pd.DataFrame) -> tuple[pd.DataFrame | None, go.Figure]:
    """Calculator and the advisor for a window of `blocks`; returns the advice table (None without a window) and
    the calculator's figure (for the report)."""
    chosen, label = window.choose(blocks)
    left, right = st.columns([1, 2])
    with left:
        q = st.slider("Attacker's share of the hash rate", 0.01, 0.49, 0.10, 0.01, key="chain_q", format="%.2f")
        accepted = st.selectbox("Accepted risk", list(RISKS), key="chain_risk")
        z = st.number_input("Confirmations", 0, 10_000, 6, key="chain_z")
        rows = [
            {"model": name, "P(success)": model(q, int(z)), "depth needed": safe_depth(name, q, RISKS[accepted])}
            for name, model in MODELS.items()
        ]
        st.dataframe(
            pd.DataFrame(rows),
            hide_index=True,
            width="stretch",
            column_config={"P(success)": st.column_config.NumberColumn(format="%.3e")},
        )
        st.caption(
            "Nakamoto's whitepaper formula understates the risk; Rosenfeld's exact analysis and Grunspan and "
            "Pérez-Marco's closed form agree (to rounding) and are the ones to rely on."
        )
    figure = risk_figure(q)
    right.plotly_chart(figure, width="stretch")
    st.subheader("Confirmation advisor")
    if chosen is None:
        st.info(label, icon=":material/info:")
        return None, figure
    st.caption(
        f"{label}: the largest pools as potential attackers, alone or together. Shares are of attributed blocks "
        "with 95 % Jeffreys intervals; each depth is for the upper end of the interval."
    )
    advice = advise(chosen, RISKS[accepted])
    st.dataframe(
        advice,
        hide_index=True,
        width="stretch",
        column_config={
            **{c: st.column_config.NumberColumn(format="percent") for c in ("share", "share_low", "share_high")},
            "advice": st.column_config.TextColumn(width="large"),
        },
    )
    return advice, figure
