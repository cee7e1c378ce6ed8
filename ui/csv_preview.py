"""The upload preview several pages share: what an ingest would store, shown before anything is written."""

import pandas as pd
import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

from core.csvformat import DELIMITER_NAMES
from core.datasets import problems_frame
from core.warehouse import CsvPreview, IngestError, IngestLimits
from ui import common
from ui.common import md_escape

LIMITS = IngestLimits()


def preview(
    uploaded: UploadedFile, header: bool | None = None, delimiter: str | None = None, *, key: str = "data_preview"
) -> CsvPreview | IngestError:
    """The preview of the uploaded file, computed once per file and reading options (kept in the session at `key`)."""
    wh = common.warehouse()
    wanted = (uploaded.file_id, header, delimiter)
    cached = st.session_state.get(key)
    if cached is None or cached[0] != wanted:
        try:
            result = wh.preview_csv(uploaded.getvalue(), header=header, delimiter=delimiter, limits=LIMITS)
        except IngestError as exc:
            result = exc
        cached = (wanted, result)
        st.session_state[key] = cached
    return cached[1]


def show_preview(preview: CsvPreview) -> None:
    """What an ingest would store: counts, format, duplicates, malformed rows, renamed columns, types, first rows."""
    cols = st.columns(5)
    cols[0].metric("Rows", f"{preview.rows:,}")
    cols[1].metric("Columns", len(preview.columns))
    cols[2].metric("Encoding", preview.facts.encoding)
    cols[3].metric("Delimiter", DELIMITER_NAMES[preview.delimiter])
    cols[4].metric("Header row", "yes" if preview.has_header else "no")
    if preview.same_content_as:
        st.warning(
            "The warehouse already holds this exact file as: " + md_escape(", ".join(preview.same_content_as)),
            icon=":material/content_copy:",
        )
    if preview.problem_count:
        st.warning(
            f"**{preview.problem_count:,} malformed row(s).** They do not match the header's "
            f"{len(preview.columns)} columns or hold values that cannot be read. The first ones:",
            icon=":material/warning:",
        )
        st.dataframe(problems_frame(preview.problems), hide_index=True, width="stretch")
    if preview.renamed:
        renamed = pd.DataFrame({"in the file": list(preview.renamed), "stored as": list(preview.renamed.values())})
        st.info("Some column names were made unique or printable:", icon=":material/edit:")
        st.dataframe(renamed, hide_index=True)
    types = pd.DataFrame({"column": [c.name for c in preview.columns], "type": [c.type for c in preview.columns]})
    left, right = st.columns([1, 3])
    left.caption("Inferred types")
    left.dataframe(types, hide_index=True, width="stretch")
    right.caption(f"First {len(preview.head)} rows")
    right.dataframe(preview.head, hide_index=True, width="stretch")
