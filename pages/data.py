"""Data: upload CSV files into the warehouse after checking them, and inspect or delete datasets."""

import streamlit as st

from core.datasets import catalogue_frame, catalogue_report
from core.warehouse import IngestError
from ui import common
from ui.common import md_escape
from ui.csv_preview import LIMITS, preview, show_preview
from ui.data import DELIMITER_CHOICES, HEADER_CHOICES, dataset_detail, ingest_form

wh = common.warehouse()
st.title("Data")
st.caption("Upload CSV files into the warehouse, check what will be stored before it is, and manage datasets.")
if flash := st.session_state.pop("data_flash", None):
    st.success(flash, icon=":material/check_circle:")

st.subheader("Add a dataset")
uploaded = st.file_uploader(
    "CSV file (comma, semicolon, tab or pipe separated; UTF-8, Latin-1 or Windows-1252)",
    type=["csv", "tsv", "txt"],
    key=f"data_upload_{st.session_state.get('data_upload_round', 0)}",
    help=f"Up to {LIMITS.max_bytes // 2**20} MiB, {LIMITS.max_rows:,} rows and {LIMITS.max_columns:,} columns.",
)
with st.expander("Reading options"):
    option_cols = st.columns(2)
    header = HEADER_CHOICES[option_cols[0].radio("Header row", list(HEADER_CHOICES), horizontal=True)]
    delimiter = DELIMITER_CHOICES[option_cols[1].radio("Delimiter", list(DELIMITER_CHOICES), horizontal=True)]
if uploaded is not None:
    result = preview(uploaded, header, delimiter)
    if isinstance(result, IngestError):
        st.error(f"**{md_escape(uploaded.name)} cannot be read.** {md_escape(result)}", icon=":material/error:")
    else:
        show_preview(result)
        if result.refusal:
            st.error(f"**{md_escape(uploaded.name)} cannot be ingested.** {result.refusal}", icon=":material/error:")
        else:
            ingest_form(uploaded, result, header, delimiter)

st.subheader("Datasets")
datasets = wh.list_datasets()
if not datasets:
    st.info("No datasets yet: upload a CSV file above.", icon=":material/info:")
    selected = None
else:
    st.dataframe(catalogue_frame(datasets), hide_index=True, width="stretch", column_config=common.COUNT_COLUMNS)
    names = [d.name for d in datasets]
    if st.session_state.get("data_selected") not in names:
        st.session_state["data_selected"] = names[0]
    selected = st.selectbox("Inspect a dataset", names, key="data_selected")
    dataset_detail(selected)

common.report_button(lambda: catalogue_report(wh, selected), "Data catalogue", key="data_report")
