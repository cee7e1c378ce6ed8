"""The warehouse handle, the sidebar and the download buttons every page uses."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from core import compute
from core.report import Report, ReportError, figure_png, report_file_name, safe_csv
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


_legacy_mode_checked = False


def _leave_legacy_pages_mode() -> None:
    """Rerun through app.py if Streamlit ran a page directly as a legacy `pages/` app.

    Until the first `st.navigation` call in a process, Streamlit treats a `pages/` folder beside the main script as
    its old multipage mode: a first visitor arriving on a deep link (say /host_monitor) gets the page alone, with
    the folder's file names as navigation and without app.py's sidebar, and so does everyone after them. CTAS
    navigates with `st.navigation` only, so the flag is cleared and the run restarted through app.py. Checked once
    per process: afterwards only `streamlit.testing` resets the flag, for each of its runs.
    """
    global _legacy_mode_checked  # noqa: PLW0603 - once per process, like the flag it clears
    if not _legacy_mode_checked:
        _legacy_mode_checked = True
        if PagesManager.uses_pages_directory:
            PagesManager.uses_pages_directory = False
            st.rerun()


def warehouse() -> Warehouse:
    """This process's warehouse; stops the page with a clear message if it cannot be opened."""
    _leave_legacy_pages_mode()
    try:
        return _open(resolve_path())
    except WarehouseError as exc:
        st.error(f"**The warehouse cannot be opened.** {md_escape(exc)}", icon=":material/error:")
        st.stop()


def warehouse_at(path: str) -> Warehouse:
    """The app's warehouse at `path` (the one `warehouse()` opened, an in-memory one included), for readers that
    cache by the warehouse's path."""
    return _open(path)


COMPUTE_HELP = (
    "Where AutoML trials and batch analyses run, set by the CTAS_COMPUTE environment variable: none (this process), "
    "local:N (a local Dask cluster of N worker processes) or a scheduler address such as tcp://scheduler:8786."
)


def sidebar(wh: Warehouse) -> None:
    """The shared sidebar: which warehouse file is open, its size and how many datasets it holds."""
    with st.sidebar:
        st.caption("Warehouse")
        datasets = wh.list_datasets()
        if wh.path == ":memory:":
            st.markdown("`in memory`")
        else:
            path = Path(wh.path)
            st.markdown(md_escape(path.name), help=f"Warehouse file: {md_escape(path)}")
        left, right = st.columns(2)
        left.metric("Datasets", len(datasets))
        right.metric("Size", _human_bytes(wh.size_bytes()))
        st.caption(f"{sum(d.rows for d in datasets):,} rows · schema v{wh.schema_version}")
        st.caption("Compute")
        try:
            st.markdown(md_escape(compute.setting().describe()), help=COMPUTE_HELP)
        except compute.ComputeError as exc:
            st.error(md_escape(exc), icon=":material/error:")


def compute_line() -> str:
    """Where parallel work runs, for a caption."""
    try:
        return compute.setting().describe()
    except compute.ComputeError:
        return "nowhere yet: the CTAS_COMPUTE setting is not valid (see the sidebar)"


def _human_bytes(size: int) -> str:
    if size < 1024:
        return f"{size:,} B"
    value = size / 1024
    for unit in ("KiB", "MiB"):
        if value < 1024:
            return f"{value:,.1f} {unit}"
        value /= 1024
    return f"{value:,.1f} GiB"


@contextmanager
def dropping(key: str) -> Iterator[None]:
    """Forget the session's request `key` once the block ends or fails; a rerun that interrupts it (Streamlit's
    script control, not an Exception) keeps the request, so the next run rejoins its job."""
    try:
        yield
    except Exception:
        st.session_state.pop(key, None)
        raise
    st.session_state.pop(key, None)


_FOLLOWED = "_ctas_links_followed"
MAX_LINK_VALUE = 200
_NUMBER = re.compile(r"[0-9]{1,18}")


def linked() -> dict[str, str]:
    """The query parameters of the link this page was opened with (Investigations links back to the page that raised
    a signal this way), the first time this session sees that link only, so the analyst's own choices stand
    afterwards; values longer than MAX_LINK_VALUE are left out. Call it once per run of a page."""
    params = {k: v for k, v in st.query_params.to_dict().items() if len(v) <= MAX_LINK_VALUE}
    mark = tuple(sorted(params.items()))
    followed = st.session_state.setdefault(_FOLLOWED, set())
    if not params or mark in followed:
        return {}
    followed.add(mark)
    return params


def number(text: str | None) -> int | None:
    """A link's value as a whole number (ASCII digits only), or None."""
    return int(text) if text is not None and _NUMBER.fullmatch(text) else None


def keep_valid(key: str, options: list) -> None:
    """Forget a widget's value set from outside (a link) when it is not one of the widget's options."""
    if key in st.session_state and st.session_state[key] not in options:
        del st.session_state[key]


def from_investigation(what: str) -> None:
    """Say that the page was opened from a signal in Investigations, and in which state."""
    st.info(f"Opened from Investigations: {what}.", icon=":material/troubleshoot:")


def md_escape(text: object) -> str:
    """Text shown literally inside Streamlit markdown (file names, error messages from data)."""
    return re.sub(r"([\\`*_\[\]<>#|~$])", r"\\\1", str(text))


def report_button(build: Callable[[], Report], title: str, key: str) -> None:
    """A "Download report" button; the report is built only when clicked."""
    st.download_button(
        "Download report",
        data=lambda: build().to_html(),
        file_name=report_file_name(title),
        mime="text/html",
        icon=":material/description:",
        on_click="ignore",
        key=key,
        help="A self-contained HTML report (opens offline) of what this page shows.",
    )


def csv_button(build: Callable[[], pd.DataFrame], file_name: str, key: str, label: str = "Download CSV") -> None:
    """A CSV download of the frame `build()` returns (only when clicked), formula-like cells escaped."""
    st.download_button(
        label,
        data=lambda: safe_csv(build()),
        file_name=file_name,
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
        key=key,
    )


def png_button(build: Callable[[], go.Figure], file_name: str, key: str) -> None:
    """A PNG download of a plotly figure, rendered on the server only when clicked."""

    def render() -> bytes:
        try:
            return figure_png(build())
        except ReportError as exc:
            return str(exc).encode()

    st.download_button(
        "Download PNG",
        data=render,
        file_name=file_name,
        mime="image/png",
        icon=":material/image:",
        on_click="ignore",
        key=key,
        help="The chart as a PNG image for reports (needs Chromium on the server).",
    )
