"""Figures, tables and the report of the Bitcoin network page."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from scipy import stats

from core.chain.fees import FEES, SERIES
from core.chain.fraud import PUBLISHED, FraudEvaluation
from core.chain.risk import MODELS
from core.report import Report

CAUSE_COLOURS = {
    "halving": "#d62728",
    "transaction demand": "#ff7f0e",
    "fewer blocks": "#9467bd",
    "fee bidding": "#1f77b4",
}
MODEL_STYLES = {"Nakamoto": "dot", "Rosenfeld": "solid", "closed form": "dash"}
MAX_POINTS = 4_000


def _layout(fig: go.Figure, title: str, x: str, y: str) -> go.Figure:
    fig.update_layout(
        title=title,
        xaxis_title=x,
        yaxis_title=y,
        template="plotly_white",
        height=420,
        legend={"orientation": "h", "y": -0.2},
        margin={"t": 60, "b": 40},
    )
    return fig


def fee_figure(series: dict[str, pd.Series], episodes: pd.DataFrame) -> go.Figure:
    """Daily fees (log scale) with each episode shaded in its cause's colour."""
    fees = series[FEES]
    fig = go.Figure(go.Scatter(x=fees.index, y=fees.to_numpy(), mode="lines", name=SERIES[FEES], line={"width": 1.5}))
    for row in episodes.itertuples(index=False):
        fig.add_vrect(
            x0=row.start - pd.Timedelta(hours=12),
            x1=row.end + pd.Timedelta(hours=12),
            fillcolor=CAUSE_COLOURS.get(row.cause, "#7f7f7f"),
            opacity=0.25,
            line_width=0,
        )
    for cause, colour in CAUSE_COLOURS.items():
        if cause in set(episodes["cause"]):
            fig.add_trace(
                go.Scatter(
                    x=[None],
                    y=[None],
                    mode="markers",
                    name=f"episode: {cause}",
                    marker={"color": colour, "symbol": "square", "size": 12, "opacity": 0.5},
                )
            )
    fig.update_yaxes(type="log")
    return _layout(fig, f"Daily fees with {len(episodes)} spike episodes shaded", "day", "fees (BTC, log scale)")


def pool_share_figure(shares: pd.DataFrame, by: str) -> go.Figure:
    """Stacked shares of the largest pools per window."""
    fig = go.Figure()
    for pool, rows in shares.groupby("pool", sort=False):
        fig.add_trace(
            go.Scatter(
                x=rows["start"],
                y=rows["share"],
                name=str(pool),
                stackgroup="one",
                mode="lines",
                hovertemplate="%{x|%Y-%m-%d}: %{y:.1%}",
            )
        )
    fig.update_yaxes(tickformat=".0%", range=[0, 1])
    return _layout(fig, f"Share of blocks by pool, per {by}", "window start", "share of blocks")


def concentration_figure(table: pd.DataFrame, by: str) -> go.Figure:
    """Top-1 and top-2 shares per window, with the Nakamoto coefficient on hover."""
    fig = go.Figure()
    for column, name in (
        ("top1_share", "largest pool"),
        ("top2_share", "two largest"),
        ("top3_share", "three largest"),
    ):
        fig.add_trace(
            go.Scatter(
                x=table["start"],
                y=table[column],
                name=name,
                mode="lines",
                customdata=table[["nakamoto", "hhi"]].to_numpy(),
                hovertemplate="%{y:.1%}; Nakamoto coefficient %{customdata[0]}, HHI %{customdata[1]:.0f}",
            )
        )
    fig.add_hline(y=0.5, line_dash="dash", line_color="#d62728", annotation_text="half the blocks")
    fig.update_yaxes(tickformat=".0%", range=[0, 1])
    return _layout(fig, f"Concentration per {by}", "window start", "share of attributed blocks")


def majority_figure(scan: pd.DataFrame, alpha: float, window: int) -> go.Figure:
    """The leading pool's blocks in each window against the count that would raise a majority alarm."""
    bucket = np.arange(len(scan)) // max(1, -(-len(scan) // MAX_POINTS))
    shown = scan.loc[scan.groupby(bucket)["count"].idxmax()]  # the peak of each bucket stays visible
    threshold = stats.binom.isf(alpha, window, shown["honest_bound"]) + 1
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=shown["height"],
            y=shown["count"],
            mode="lines",
            name=f"leading pool's blocks of {window}",
            customdata=np.stack([shown["pool"], shown["probability"]], axis=1),
            hovertemplate="%{customdata[0]}: %{y} blocks; P(majority) %{customdata[1]:.1%}",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=shown["height"], y=threshold, mode="lines", name="alarm level", line={"color": "#d62728", "dash": "dash"}
        )
    )
    fig.add_hline(y=window / 2, line_dash="dot", line_color="#7f7f7f", annotation_text="half the window")
    return _layout(fig, "Majority-attack monitor", "block height", f"blocks in the last {window}")


def risk_figure(q: float, max_depth: int = 60) -> go.Figure:
    """Attacker success probability by depth for one attacker share, in each model (log scale)."""
    depths = np.arange(0, max_depth + 1)
    fig = go.Figure()
    for name, model in MODELS.items():
        fig.add_trace(
            go.Scatter(
                x=depths,
                y=[max(model(q, int(z)), 1e-300) for z in depths],
                name=name,
                mode="lines",
                line={"dash": MODEL_STYLES[name]},
            )
        )
    fig.update_yaxes(type="log", exponentformat="e")
    return _layout(
        fig,
        f"Double-spend success probability for an attacker with {q:.0%}",
        "confirmations",
        "probability (log scale)",
    )


def chain_report(
    *,
    source: str,
    concentration: pd.DataFrame | None,
    advice: pd.DataFrame | None,
    alerts: pd.DataFrame | None,
    episodes: pd.DataFrame | None,
    series_source: str | None,
    fraud: FraudEvaluation | None = None,
    figures: list[go.Figure],
) -> Report:
    """The page as a report: advice, concentration, alerts and fee episodes, with the figures shown."""
    report = Report("Bitcoin network", subtitle=f"Blocks: {source}; series: {series_source or 'none'}")
    if advice is not None:
        report.add_markdown("## Confirmation advice")
        report.add_table(advice, caption="Coalitions of the largest pools, shares with 95 % intervals, depths")
    if concentration is not None:
        report.add_markdown("## Concentration")
        report.add_table(concentration, caption="Per window: shares, HHI, Nakamoto coefficient, entropy")
    if alerts is not None:
        majority = int((alerts["level"] == "majority").sum()) if len(alerts) else 0
        report.add_markdown(f"## Monitor\n{len(alerts):,} alerts, {majority} at the majority level.")
        report.add_table(alerts, caption="Alerts")
    if episodes is not None:
        report.add_markdown(f"## Fee-spike episodes\n{len(episodes):,} episodes.")
        report.add_table(episodes, caption="Episodes: start, duration, peak against the 14-day median, cause")
    if fraud is not None:
        report.add_markdown(f"## Fraud scoring\nTrained on steps 1–34, tested on 35–49. {PUBLISHED}")
        report.add_table(fraud.overall, caption="Illicit class on the test steps")
        report.add_table(fraud.by_step, caption="Illicit-class F1 by test step")
    for fig in figures:
        report.add_figure(fig)
    return report


def fraud_figure(by_step: pd.DataFrame) -> go.Figure:
    """Illicit-class F1 of both models per test step, with the illicit transactions of each step as bars."""
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            x=by_step["step"],
            y=by_step["illicit"],
            name="illicit transactions",
            yaxis="y2",
            marker={"color": "#d9d9d9"},
        )
    )
    for column, colour in (("model F1", "#1f77b4"), ("random forest F1", "#ff7f0e")):
        fig.add_trace(
            go.Scatter(x=by_step["step"], y=by_step[column], name=column, mode="lines+markers", line={"color": colour})
        )
    fig.update_layout(
        yaxis={"range": [0, 1.05], "title": "illicit F1"},
        yaxis2={
            "overlaying": "y",
            "side": "right",
            "title": "illicit transactions",
            "showgrid": False,
            "rangemode": "tozero",
            "tickformat": "d",
        },
    )
    return _layout(fig, "Illicit-class F1 by test time step", "time step", "illicit F1")
