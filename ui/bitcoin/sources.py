"""Where the page's blocks and series come from: the built-in sets or an upload kept in the warehouse; and the
upload forms, which check a file completely before anything is written."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

from core.chain.blocks import ChainInputError, read_block_file, read_blocks
from core.chain.fees import FEES, SERIES, read_series, read_series_folder
from core.chain.samples import built_in_blocks, built_in_series
from core.chain.store import ChainStore
from core.warehouse import Warehouse, WarehouseError
from ui import common

MAX_UPLOAD_BYTES = 64 * 2**20
PENDING = {"blocks": "chain_new_blocks", "series": "chain_new_series"}
STORED = "chain_stored"


@st.cache_data(max_entries=4, show_spinner="Reading and checking the blocks…")
def _file_blocks(path: str) -> pd.DataFrame:
    return read_block_file(Path(path))


@st.cache_data(max_entries=4, show_spinner="Reading the uploaded blocks…")
def _stored_blocks(warehouse_path: str, name: str, created_at: str) -> pd.DataFrame:
    return ChainStore(common.warehouse_at(warehouse_path)).blocks(name)


@st.cache_data(max_entries=4)
def _folder_series(path: str) -> dict[str, pd.Series]:
    return read_series_folder(Path(path))


def _choice(kind: str, label: str, options: list[str], link: dict[str, str]) -> str:
    """The chosen set of one kind: a new upload first, then a link from Investigations, then the analyst's pick."""
    key = f"chain_{kind}"
    if PENDING[kind] in st.session_state:
        st.session_state[key] = st.session_state.pop(PENDING[kind])
    if link.get(kind) in options:
        st.session_state[key] = link[kind]
        common.from_investigation(f"the {kind} {common.md_escape(link[kind])}")
    common.keep_valid(key, options)
    return st.selectbox(label, options, key=key, help="Built-in sets, then your uploads (newest first).")


def choose_blocks(wh: Warehouse, store: ChainStore, link: dict[str, str]) -> tuple[str, str, pd.DataFrame]:
    """The block set the analyst chose (a link from Investigations may choose it): its name, a key that changes
    with its content (for caches) and its blocks."""
    built_in = built_in_blocks()
    uploads = store.sources("blocks")
    name = _choice("blocks", "Blocks", list(built_in) + list(uploads["name"]), link)
    if name in built_in:
        return name, str(built_in[name]), _file_blocks(str(built_in[name]))
    created = str(uploads.loc[uploads["name"] == name, "created_at"].iloc[0])
    return name, f"{wh.path}|{name}|{created}", _stored_blocks(wh.path, name, created)


def choose_series(store: ChainStore, link: dict[str, str]) -> tuple[str, dict[str, pd.Series]]:
    """The set of daily series the analyst chose and its series."""
    built_in = built_in_series()
    name = _choice("series", "Daily series", list(built_in) + list(store.sources("series")["name"]), link)
    if name in built_in:
        return name, _folder_series(str(built_in[name]))
    return name, store.series(name)


def upload_panel(store: ChainStore) -> None:
    """Upload a block file or a set of daily series; each is checked whole and stored under a name."""
    if STORED in st.session_state:
        st.success(st.session_state.pop(STORED), icon=":material/check:")
    left, right = st.columns(2)
    with left:
        st.markdown("**Blocks** (Parquet or CSV: `height`, `pool_slug`, `date`)")
        upload = st.file_uploader("Block file", type=["parquet", "csv"], key="chain_blocks_file")
        name = st.text_input("Name", max_chars=80, key="chain_blocks_name", placeholder="the file's name")
        store_blocks = st.button("Check and store", icon=":material/upload:", key="chain_blocks_store")
        if store_blocks and upload is not None:
            _store("blocks", lambda: store.save_blocks(name or upload.name, read_blocks(_bytes(upload), upload.name)))
    with right:
        st.markdown(f"**Daily series** (blockchain.com CSV: `x`, `y`; `{FEES}.csv` required)")
        files = st.file_uploader("Series files", type=["csv"], accept_multiple_files=True, key="chain_series_files")
        name = st.text_input("Name", max_chars=80, key="chain_series_name", placeholder="the first file's name")
        if st.button("Check and store", icon=":material/upload:", key="chain_series_store") and files:
            _store("series", lambda: store.save_series(name or files[0].name, _series(files)))
    uploads = pd.concat([store.sources("blocks").assign(kind="blocks"), store.sources("series").assign(kind="series")])
    if len(uploads):
        st.dataframe(uploads, hide_index=True, width="stretch")
        doomed = st.selectbox("Delete an upload", ["—", *uploads["name"]], key="chain_delete")
        if doomed != "—" and st.button("Delete", icon=":material/delete:", key="chain_delete_go"):
            store.delete(doomed)
            st.rerun()


def _bytes(upload: UploadedFile) -> bytes:
    if upload.size > MAX_UPLOAD_BYTES:
        raise ChainInputError(f"{upload.name} is larger than {MAX_UPLOAD_BYTES // 2**20} MiB.")
    return upload.getvalue()


def _series(files: list[UploadedFile]) -> dict[str, pd.Series]:
    series = {}
    for upload in files:
        stem = Path(upload.name).stem
        if stem not in SERIES:
            raise ChainInputError(f"{upload.name}: name the file after its series, one of {', '.join(SERIES)} (.csv).")
        series[stem] = read_series(_bytes(upload), upload.name)
    if FEES not in series:
        raise ChainInputError(f"The series need {FEES}.csv.")
    return series


def _store(kind: str, save: Callable[[], str]) -> None:
    """Run `save`; on success choose the new upload and rerun, on refusal say why (nothing was written)."""
    try:
        name = save()
    except (ChainInputError, WarehouseError) as exc:
        st.error(f"**Nothing was stored.** {common.md_escape(exc)}", icon=":material/error:")
        return
    st.session_state[PENDING[kind]] = name
    st.session_state[STORED] = f"Stored as {common.md_escape(name)} and chosen above."
    st.rerun()
