"""Views of the dataset catalogue for pages and reports: tables, a completeness chart and the catalogue report."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from core.csvformat import DELIMITER_NAMES
from core.report import Report
from core.warehouse import CsvProblem, DatasetInfo, Warehouse


def catalogue_frame(datasets: list[DatasetInfo]) -> pd.DataFrame:
    """One row per dataset, in the words an analyst uses."""
    return pd.DataFrame(
        {
            "dataset": [d.name for d in datasets],
            "file": [d.original_filename for d in datasets],
            "rows": [d.rows for d in datasets],
            "columns": [len(d.columns) for d in datasets],
            "skipped rows": [d.skipped_rows for d in datasets],
            "encoding": [d.encoding for d in datasets],
            "delimiter": [DELIMITER_NAMES.get(d.delimiter, d.delimiter) for d in datasets],
            "size (MiB)": [round(d.size_bytes / 2**20, 2) for d in datasets],
            "ingested (UTC)": [d.created_at for d in datasets],
            "sha256": [d.sha256[:16] for d in datasets],
        }
    )


def problems_frame(problems: tuple[CsvProblem, ...]) -> pd.DataFrame:
    """Malformed rows as a table: line number, kind of problem, details and the start of the line."""
    return pd.DataFrame(
        {
            "line": [p.line for p in problems],
            "problem": [p.kind for p in problems],
            "details": [p.message for p in problems],
            "text": [p.text for p in problems],
        }
    )


def completeness_figure(profile: pd.DataFrame, rows: int, dataset: str) -> go.Figure:
    """Horizontal bars: the share of non-empty values in each column."""
    share = (profile["non_null"] / max(rows, 1) * 100).round(1)
    fig = go.Figure(
        go.Bar(
            x=share,
            y=profile["column"],
            orientation="h",
            marker_color=["#2e7d32" if s >= 99 else "#f9a825" if s >= 80 else "#c62828" for s in share],
            text=[f"{s:.1f} %" for s in share],
            textposition="auto",
            hovertemplate="%{y}: %{x:.1f} % filled<extra></extra>",
        )
    )
    fig.update_layout(
        title={"text": f"Non-empty values per column<br><sup>{dataset}, {rows:,} rows</sup>", "x": 0},
        xaxis={"title": "non-empty values (%)", "range": [0, 100]},
        yaxis={"title": None, "autorange": "reversed", "automargin": True},
        height=max(260, 28 * len(profile) + 120),
        margin={"l": 10, "r": 10, "t": 50, "b": 40},
    )
    return fig


def catalogue_report(warehouse: Warehouse, selected: str | None = None) -> Report:
    """The Data page as a report: the catalogue, and the profile of one dataset if chosen."""
    datasets = warehouse.list_datasets()
    report = Report("Data catalogue", subtitle=f"Warehouse {warehouse.path}")
    total = sum(d.rows for d in datasets)
    report.add_markdown(f"The warehouse holds **{len(datasets)}** dataset(s) with **{total:,}** rows in all.")
    report.add_table(catalogue_frame(datasets), caption="Datasets")
    if selected is not None:
        info = warehouse.dataset(selected)
        profile = warehouse.profile_dataset(selected)
        report.add_markdown(
            f"## {info.name}\n\nFrom `{info.original_filename}` ({info.encoding}, "
            f"{DELIMITER_NAMES.get(info.delimiter, info.delimiter)} separated), {info.rows:,} rows, "
            f"{len(info.columns)} columns, {info.skipped_rows:,} malformed rows skipped, sha256 `{info.sha256}`."
        )
        report.add_figure(completeness_figure(profile, info.rows, info.name), caption="Completeness")
        report.add_table(profile, caption="Columns")
        report.add_table(warehouse.read_dataset(selected, limit=50), caption="First 50 rows")
    return report
