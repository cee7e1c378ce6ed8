"""Paste or upload a report and see its indicators: type, value, benign flag, feed hits and where they occur."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.intel.extract import extract
from core.intel.feeds import FeedError, decode
from core.intel.pdftext import MAX_PDF_BYTES, PdfError, PdfText, is_pdf, pdf_text
from core.intel.stix import to_stix_bundle
from core.intel.store import IntelStore
from core.intel.views import indicator_frame, type_counts_figure
from ui import common

MAX_REPORT_BYTES = 5 * 2**20
REPORT_TYPES = ["txt", "md", "html", "htm", "csv", "json", "log", "pdf"]


def report_text() -> str | None:
    """The report the analyst pasted or uploaded (an upload wins), or None."""
    pasted = st.text_area(
        "Paste a report, an e-mail or a ticket",
        height=180,
        max_chars=MAX_REPORT_BYTES,
        key="intel_text",
        placeholder="Defanged indicators are fine: hxxps://evil[.]example/payload, 203.0.113[.]7, user[@]mail[.]ru",
    )
    upload = st.file_uploader(
        "…or upload one (text, markdown, HTML, CSV, JSON, PDF)", type=REPORT_TYPES, key="intel_file"
    )
    if upload is not None:
        named_pdf = upload.name.lower().endswith(".pdf")
        limit = MAX_PDF_BYTES if named_pdf else MAX_REPORT_BYTES
        if upload.size > limit:
            st.error(f"The file is larger than {limit // 2**20} MiB.", icon=":material/error:")
            return None
        data = upload.getvalue()
        if named_pdf or is_pdf(data):
            return _pdf_report(data, upload.name, upload.file_id)
        try:
            return decode(data, upload.name)
        except FeedError as exc:
            st.error(common.md_escape(exc), icon=":material/error:")
            return None
    return pasted or None


def _pdf_report(data: bytes, name: str, upload_id: str) -> str | None:
    """A PDF's text, read once per upload (a refusal too: reruns do not read it again), with what was read said.
    While the reader runs, a caption counts the seconds: a rerun or stop of the page ends the reader there."""
    held = st.session_state.get("intel_pdf")
    if held is None or held[0] != upload_id:
        shown = st.empty()
        try:
            outcome: PdfText | str = pdf_text(
                data, name, waiting=lambda seconds: shown.caption(f"Reading the PDF's text… {seconds:.0f} s")
            )
        except PdfError as exc:
            outcome = exc.message
        shown.empty()
        st.session_state["intel_pdf"] = held = (upload_id, outcome)
    outcome = held[1]
    if isinstance(outcome, str):
        st.error(common.md_escape(outcome), icon=":material/error:")
        return None
    st.caption(f"Text of {outcome.pages_read:,} of {outcome.pages:,} PDF pages.")
    if outcome.truncated:
        st.warning(
            f"Only the first {outcome.pages_read:,} pages or {len(outcome.text):,} characters of the PDF were read.",
            icon=":material/warning:",
        )
    return outcome.text


@st.cache_data(max_entries=8, show_spinner="Extracting indicators…")
def _extracted(text: str) -> list:
    return extract(text)


def show(store: IntelStore, text: str) -> pd.DataFrame:
    """Extract, look up in the feeds, show; returns the indicator table (for the report and the exports)."""
    found = _extracted(text)
    pairs = pd.DataFrame({"type": [i.type for i in found], "value": [i.value for i in found]})
    table = indicator_frame(found, text, store.lookup(pairs) if len(pairs) else None)
    if table.empty:
        st.info("No indicator found in this text.", icon=":material/info:")
        return table
    known = int((table["feeds"] != "").sum())
    benign = int((table["benign"] != "").sum())
    left, middle, right = st.columns(3)
    left.metric("Indicators", f"{len(table):,}")
    middle.metric("Listed in a feed", f"{known:,}")
    right.metric("Flagged benign", f"{benign:,}")
    types = st.multiselect("Types", sorted(table["type"].unique()), key="intel_types", placeholder="All types")
    hide_benign = st.toggle("Hide benign (private, CDN, well-known, documentation)", key="intel_hide_benign")
    shown = table[table["type"].isin(types)] if types else table
    shown = shown[shown["benign"] == ""] if hide_benign else shown
    st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        column_config={
            "context": st.column_config.TextColumn("Where (first occurrence)", width="large"),
            "offset": st.column_config.NumberColumn("Offset", format="%d"),
        },
    )
    st.plotly_chart(type_counts_figure(table, "Indicators by type"), width="stretch")
    left, right = st.columns(2)
    with left:
        common.csv_button(lambda: shown.drop(columns=["context"]), "indicators.csv", "intel_csv", "Download CSV")
    with right:
        st.download_button(
            "Download STIX 2.1 bundle",
            data=lambda: to_stix_bundle(shown[shown["benign"] == ""]),
            file_name="indicators.stix.json",
            mime="application/json",
            icon=":material/download:",
            on_click="ignore",
            key="intel_stix",
            help="Indicator objects for every shown indicator not flagged benign.",
        )
    return table
