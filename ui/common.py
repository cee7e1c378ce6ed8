"""The warehouse handle, the sidebar and the download buttons every page uses."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import streamlit as st

from core.report import Report, safe_csv
from core.samples import load_samples
from core.warehouse import Warehouse, WarehouseError, open_warehouse, resolve_path

COUNT_COLUMNS = {
    name: st.column_config.NumberColumn(format="localized") for name in ("rows", "columns", "skipped rows")
}


@st.cache_resource(show_spinner="Opening the warehouse…")
def _open(path: str) -> Warehouse:
    warehouse = open_warehouse(path)
    load_samples(warehouse)
    return warehouse


def warehouse() -> Warehouse:
    """This process's warehouse; stops the page with a clear message if it cannot be opened."""
    try:
        return _open(resolve_path())
    except WarehouseError as exc:
        st.error(f"**The warehouse cannot be opened.** {exc}", icon=":material/error:")
        st.stop()


def sidebar(wh: Warehouse) -> None:
    """The shared sidebar: which warehouse file is open, its size and how many datasets it holds."""
    with st.sidebar:
        st.caption("Warehouse")
        datasets = wh.list_datasets()
        if wh.path == ":memory:":
            st.markdown("`in memory`")
        else:
            path = Path(wh.path)
            st.markdown(f"`{path.name}`", help=f"Warehouse file: {path}")
        left, right = st.columns(2)
        left.metric("Datasets", len(datasets))
        right.metric("Size", _human_bytes(wh.size_bytes()))
        st.caption(f"{sum(d.rows for d in datasets):,} rows · schema v{wh.schema_version}")


def _human_bytes(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:,.0f} {unit}" if unit == "B" else f"{value:,.1f} {unit}"
        value /= 1024
    return f"{value:,.1f} GiB"


def report_button(build: Callable[[], Report], title: str, key: str) -> None:
    """A "Download report" button; the report is built only when clicked."""
    stub = Report(title)
    st.download_button(
        "Download report",
        data=lambda: build().to_html(),
        file_name=stub.file_name("html"),
        mime="text/html",
        icon=":material/description:",
        on_click="ignore",
        key=key,
        help="A self-contained HTML report (opens offline) of what this page shows.",
    )


def csv_button(frame: pd.DataFrame, file_name: str, key: str, label: str = "Download CSV") -> None:
    """A CSV download of `frame`, with formula-like cells escaped for spreadsheets."""
    st.download_button(
        label,
        data=lambda: safe_csv(frame),
        file_name=file_name,
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
        key=key,
    )
