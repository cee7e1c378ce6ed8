"""The window of blocks the confirmation advisor looks at: the last N blocks or a date range."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.chain.advisor import window_blocks

LAST = {"last 144 blocks (a day)": 144, "last 1,008 blocks (a week)": 1008, "last 4,320 blocks (a month)": 4320}
RANGE = "a date range"


def choose(blocks: pd.DataFrame) -> tuple[pd.DataFrame | None, str]:
    """The chosen window's blocks and a label for it; None and the reason when the choice holds no block."""
    choice = st.selectbox("Advisor window", [*LAST, RANGE], index=1, key="chain_advisor_window")
    if choice != RANGE:
        chosen = window_blocks(blocks, last=LAST[choice])
    else:
        first, last = blocks["ts"].iloc[0].date(), blocks["ts"].iloc[-1].date()
        picked = st.date_input("From and to (inclusive)", (max(first, last - pd.Timedelta(days=30)), last),
                               min_value=first, max_value=last, key="chain_advisor_dates")  # fmt: skip
        if not isinstance(picked, tuple) or len(picked) != 2:
            return None, "Pick both ends of the range."
        chosen = window_blocks(blocks, start=picked[0], end=pd.Timestamp(picked[1]) + pd.Timedelta(days=1))
        choice = f"{picked[0]} to {picked[1]}"
        if chosen.empty:
            return None, f"No block is dated from {picked[0]} to {picked[1]}."
    first_height, last_height = int(chosen["height"].iloc[0]), int(chosen["height"].iloc[-1])
    return chosen, f"{choice}: {len(chosen):,} blocks, heights {first_height:,} to {last_height:,}"
