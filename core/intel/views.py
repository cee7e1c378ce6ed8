"""What the Intel page shows: indicator tables, hit summaries, charts and the downloadable report."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from core.intel.extract import Indicator
from core.report import Report

HIT_SUMMARY_COLUMNS = ("indicator_type", "indicator", "source", "family", "confidence", "events", "first", "last")


def indicator_frame(indicators: list[Indicator], text: str, feed_hits: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per indicator: type, value, benign reason, feeds that list it, occurrences, first place and context."""
    rows = []
    known = _feeds_by_value(feed_hits)
    for item in indicators:
        start, end = item.offsets[0] if item.offsets else (0, 0)
        context = text[max(0, start - 40) : end + 40].replace("\n", " ")
        rows.append(
            {
                "type": item.type,
                "value": item.value,
                "benign": item.benign or "",
                "feeds": known.get((item.type, item.value), ""),
                "occurrences": len(item.offsets),
                "offset": start,
                "context": context,
            }
        )
    return pd.DataFrame(rows, columns=["type", "value", "benign", "feeds", "occurrences", "offset", "context"])


def _feeds_by_value(feed_hits: pd.DataFrame | None) -> dict[tuple[str, str], str]:
    if feed_hits is None or feed_hits.empty:
        return {}
    labels = feed_hits.assign(
        label=feed_hits["source"] + feed_hits["family"].fillna("").map(lambda f: f" ({f})" if f else "")
    )
    return labels.groupby(["type", "value"])["label"].agg(lambda s: "; ".join(sorted(set(s)))).to_dict()


def type_counts_figure(frame: pd.DataFrame, title: str) -> go.Figure:
    """Indicators per type, benign ones apart."""
    counts = frame.assign(flag=frame["benign"].map(lambda b: "benign" if b else "to check")).value_counts(
        ["type", "flag"]
    )
    data = counts.rename("indicators").reset_index()
    fig = px.bar(
        data,
        x="type",
        y="indicators",
        color="flag",
        barmode="stack",
        title=title,
        color_discrete_map={"to check": "#c0392b", "benign": "#95a5a6"},
    )
    fig.update_layout(xaxis_title="Indicator type", yaxis_title="Indicators", legend_title="")
    return fig


def hit_summary(hits: pd.DataFrame) -> pd.DataFrame:
    """Hits grouped by indicator and feed: how many events, first and last event time."""
    if hits.empty:
        return pd.DataFrame(columns=list(HIT_SUMMARY_COLUMNS))
    summary = hits.groupby(["indicator_type", "indicator", "source"], dropna=False).agg(
        family=("family", "first"),
        confidence=("confidence", "max"),
        events=("row_number", "nunique"),
        first=("event_time", "min"),
        last=("event_time", "max"),
    )
    return summary.reset_index().sort_values(["events", "confidence"], ascending=False)[list(HIT_SUMMARY_COLUMNS)]


def hits_by_source_figure(hits: pd.DataFrame) -> go.Figure:
    """Events hit per feed and family (top 15 families)."""
    named = hits.assign(family=hits["family"].fillna("(no family given)"))
    data = named.groupby(["source", "family"])["row_number"].nunique()
    data = data.rename("events").reset_index().sort_values("events", ascending=False).head(15)
    fig = px.bar(
        data, x="events", y="family", color="source", orientation="h", title="Events matched by feed and family"
    )
    fig.update_layout(xaxis_title="Events", yaxis_title="Family", yaxis={"autorange": "reversed"})
    return fig


def hits_over_time_figure(hits: pd.DataFrame) -> go.Figure:
    """Matched events per day and feed."""
    timed = hits.dropna(subset=["event_time"])
    fig = go.Figure()
    if not timed.empty:
        daily = timed.assign(day=pd.to_datetime(timed["event_time"]).dt.floor("D"))
        daily = daily.groupby(["day", "source"])["row_number"].nunique().rename("events").reset_index()
        fig = px.bar(daily, x="day", y="events", color="source")
    fig.update_layout(title="Matched events per day", xaxis_title="Day", yaxis_title="Events")
    return fig


def feeds_frame(feeds: pd.DataFrame) -> pd.DataFrame:
    """The feed table as the page shows it."""
    columns = ["name", "kind", "indicators", "skipped", "published_at", "loaded_at", "age_days", "stale", "origin"]
    return feeds[[c for c in columns if c in feeds.columns]]


def intel_report(
    indicators: pd.DataFrame | None,
    feeds: pd.DataFrame,
    hits: pd.DataFrame | None,
    dataset: str | None,
    *,
    techniques: pd.DataFrame | None = None,
    explanation: pd.DataFrame | None = None,
) -> Report:
    """The Intel page as a report: the report's indicators and techniques, the feeds, the latest match's hits, and
    the explanation shown on the Graph tab."""
    report = Report("Threat intelligence", subtitle="Indicators, techniques, feeds, matches and explanations")
    if indicators is not None and not indicators.empty:
        report.add_markdown(
            f"## Indicators in the report\n{len(indicators):,} indicators, "
            f"{int((indicators['benign'] != '').sum()):,} flagged benign."
        )
        report.add_figure(type_counts_figure(indicators, "Indicators by type"))
        report.add_table(indicators.drop(columns=["context"]), caption="Indicators")
    if techniques is not None and not techniques.empty:
        report.add_markdown(f"## ATT&CK techniques in the report\n{len(techniques):,} techniques.")
        report.add_table(techniques, caption="Techniques: named in the text or learned from a sentence")
    report.add_markdown("## Feeds")
    report.add_table(feeds_frame(feeds), caption="Feeds in the warehouse")
    if hits is not None and dataset is not None:
        report.add_markdown(
            f"## Matches in {dataset}\n{len(hits):,} hits on "
            f"{hits['row_number'].nunique() if len(hits) else 0:,} events."
        )
        if len(hits):
            report.add_figure(hits_by_source_figure(hits))
            report.add_figure(hits_over_time_figure(hits))
            report.add_table(hit_summary(hits), caption="Hits by indicator and feed")
    if explanation is not None and not explanation.empty:
        report.add_markdown("## Why: paths in the correlation graph")
        report.add_table(explanation, caption="Each path from the node explained to an actor or a technique")
    return report
