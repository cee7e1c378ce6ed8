"""Bitcoin network: double-spend risk and confirmation advice, mining concentration, the majority-attack monitor,
fee-spike episodes and fraud scoring, over built-in or uploaded blocks and daily series. Each tab runs inside its
own error boundary, so a problem with one (a window without blocks, say) leaves the others working."""

import streamlit as st

from core.chain.store import ChainStore
from core.chain.views import chain_report
from ui import common
from ui.bitcoin import concentration, fees, fraud, monitor, risk, sources
from ui.errors import guarded

wh = common.warehouse()
store = ChainStore(wh)
st.title("Bitcoin network")
st.caption(
    "How many confirmations are safe against the pools that mine today, how concentrated mining is, whether any "
    "pool is mining like a majority, when fees spiked and why, and how well transactions can be scored for fraud."
)
link = common.linked()
left, right = st.columns(2)
with left:
    blocks_name, blocks_key, blocks = sources.choose_blocks(wh, store, link)
with right:
    series_name, series = sources.choose_series(store, link)
majority, alerts = monitor.run(blocks_key, blocks)
risk_tab, concentration_tab, monitor_tab, fees_tab, fraud_tab, upload_tab = st.tabs(
    ["Risk and advice", "Concentration", "Monitor", "Fee spikes", "Fraud scoring", "Upload"]
)
with risk_tab:
    advice, risk_figure = guarded(risk.show)(blocks) or (None, None)
with concentration_tab:
    table, concentration_figures = guarded(concentration.show)(blocks_key, blocks) or (None, [])
with monitor_tab:
    monitor_figure = guarded(monitor.show)(majority, alerts, common.number(link.get("height")))
with fees_tab:
    episodes, fee_figure = guarded(fees.show)(series, blocks) or (None, None)
with fraud_tab:
    fraud_result, fraud_figure = guarded(fraud.show)() or (None, None)
with upload_tab:
    guarded(sources.upload_panel)(store)
published = st.session_state.setdefault("chain_published", set())
if (blocks_key, series_name) not in published:
    store.raise_alerts(blocks_name, alerts)
    if episodes is not None:
        store.raise_alerts(series_name, None, episodes)
    published.add((blocks_key, series_name))
figures = [risk_figure, *concentration_figures, monitor_figure, fee_figure, fraud_figure]
common.report_button(
    lambda: chain_report(
        source=blocks_name,
        concentration=table,
        advice=advice,
        alerts=alerts,
        episodes=episodes,
        series_source=series_name,
        fraud=fraud_result,
        figures=[f for f in figures if f is not None],
    ),
    "Bitcoin network",
    "chain_report",
)
