"""The Data page's panels: the ingest form and a dataset's detail view (the upload preview is ui/csv_preview.py)."""

import pandas as pd
import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

from core.csvformat import dataset_name_from
from core.datasets import completeness_figure, problems_frame
from core.warehouse import CsvPreview, IngestError, WarehouseError
from ui import common
from ui.common import md_escape
from ui.csv_preview import LIMITS

HEADER_CHOICES = {"Detect": None, "Yes": True, "No": False}
DELIMITER_CHOICES = {"Detect": None, "Comma": ",", "Semicolon": ";", "Tab": "\t", "Pipe": "|"}
BAD_ROW_CHOICES = {"Refuse the file and list them": "fail", "Leave them out and count them": "skip"}
SHOWN_ROWS = 200
CSV_EXPORT_ROWS = 1_000_000


@st.cache_data(max_entries=32, show_spinner="Profiling the dataset…")
def _profile(path: str, name: str, created_at: str, sha256: str) -> pd.DataFrame:
    """Column profile, cached per warehouse, dataset, ingest time and content (a re-created dataset is new)."""
    wh = common.warehouse_at(path)
    return wh.profile_dataset(name)


def ingest_form(uploaded: UploadedFile, preview: CsvPreview, header: bool | None, delimiter: str | None) -> None:
    """The dataset name, what to do with malformed rows, and the ingest itself."""
    wh = common.warehouse()
    name = st.text_input(
        "Dataset name",
        value=dataset_name_from(uploaded.name),
        key=f"data_name_{uploaded.file_id}",
        help="Lower-case letters, digits and underscores, starting with a letter.",
    )
    on_bad_rows = "fail"
    if preview.problem_count:
        choice = st.radio("Malformed rows", list(BAD_ROW_CHOICES), key="data_bad_rows")
        on_bad_rows = BAD_ROW_CHOICES[choice]
    if not st.button("Ingest into the warehouse", type="primary", icon=":material/upload:", key="data_ingest"):
        return
    with st.status(f"Ingesting {uploaded.name}…", expanded=True) as status:
        try:
            info = wh.ingest_csv(
                uploaded.getvalue(),
                name,
                original_filename=uploaded.name,
                header=header,
                delimiter=delimiter,
                limits=LIMITS,
                on_bad_rows=on_bad_rows,
            )
        except WarehouseError as exc:
            status.update(label="Ingest refused: nothing was stored.", state="error")
            st.error(md_escape(exc), icon=":material/error:")
            if isinstance(exc, IngestError) and exc.problems:
                st.dataframe(problems_frame(exc.problems), hide_index=True, width="stretch")
            return
        status.update(label=f"Stored {info.rows:,} rows as {info.name}.", state="complete")
    skipped = f", {info.skipped_rows:,} malformed rows left out" if info.skipped_rows else ""
    st.session_state["data_flash"] = (
        f"Stored **{info.rows:,}** rows of {md_escape(info.original_filename)} as **{info.name}**{skipped}."
    )
    st.session_state["data_selected"] = info.name
    st.session_state["data_upload_round"] = st.session_state.get("data_upload_round", 0) + 1
    st.session_state.pop("data_preview", None)
    st.rerun()


def dataset_detail(name: str) -> None:
    """One dataset: its catalogue entry, column profile, completeness, first rows, CSV export and deletion."""
    wh = common.warehouse()
    info = wh.dataset(name)
    cols = st.columns(4)
    cols[0].metric("Rows", f"{info.rows:,}")
    cols[1].metric("Columns", len(info.columns))
    cols[2].metric("Malformed rows left out", f"{info.skipped_rows:,}")
    cols[3].metric("Source encoding", info.encoding)
    st.caption(
        f"From {md_escape(info.original_filename)}, ingested {info.created_at:%Y-%m-%d %H:%M} UTC, "
        f"sha256 `{info.sha256}`"
    )
    profile = _profile(wh.path, name, info.created_at.isoformat(), info.sha256)
    left, right = st.columns([3, 2])
    left.dataframe(profile, hide_index=True, width="stretch", height=35 * (len(profile) + 1) + 3)
    figure = completeness_figure(profile, info.rows, name)
    right.plotly_chart(figure, width="stretch", key=f"data_fig_{name}", config={"displayModeBar": False})
    st.caption(f"First {min(SHOWN_ROWS, info.rows):,} rows")
    st.dataframe(wh.read_dataset(name, limit=SHOWN_ROWS), hide_index=True, width="stretch")

    actions = st.columns([2, 2, 2, 4])
    with actions[0]:
        label = "Download CSV" if info.rows <= CSV_EXPORT_ROWS else f"Download first {CSV_EXPORT_ROWS:,} rows"
        common.csv_button(
            lambda: wh.read_dataset(name, limit=CSV_EXPORT_ROWS), f"{name}.csv", f"data_csv_{name}", label
        )
    with actions[1]:
        common.png_button(lambda: figure, f"{name}-completeness.png", f"data_png_{name}")
    if actions[2].button("Delete dataset…", icon=":material/delete:", key="data_delete"):
        st.session_state["data_confirm_delete"] = name
    if st.session_state.get("data_confirm_delete") == name:
        st.warning(f"Delete **{md_escape(name)}** ({info.rows:,} rows) from the warehouse? This cannot be undone.")
        yes, no, _ = st.columns([2, 2, 6])
        if yes.button("Yes, delete it", type="primary", key="data_delete_yes"):
            try:
                wh.drop_dataset(name)
            except WarehouseError as exc:
                st.error(md_escape(exc))
                return
            st.session_state.pop("data_confirm_delete", None)
            st.session_state["data_flash"] = f"Deleted **{name}**."
            st.rerun()
        if no.button("Cancel", key="data_delete_no"):
            st.session_state.pop("data_confirm_delete", None)
            st.rerun()
