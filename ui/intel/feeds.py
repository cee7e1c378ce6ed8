"""The feeds panel: what is loaded and how old it is, load the known feeds, upload an analyst's own."""

from __future__ import annotations

import streamlit as st

from core.intel import service
from core.intel.feeds import MAX_UPLOAD_BYTES, FeedError
from core.intel.store import IntelStore
from core.intel.views import feeds_frame
from ui import common
from ui.background import run_cancellable

LOAD_LIMIT_S = 300.0


def show(store: IntelStore) -> None:
    """Feed table with stale warnings, known-feed loading and uploads."""
    if loaded := st.session_state.pop("intel_loaded", None):
        st.success(f"Loaded {common.md_escape(loaded)}.", icon=":material/check:")
    ages = service.feed_ages(store)
    if ages.empty:
        st.info("No feed is loaded yet: load the known feeds below or upload your own.", icon=":material/info:")
    else:
        for row in ages[ages["stale"]].itertuples():
            st.warning(
                f"Feed **{common.md_escape(row.name)}** is {row.age_days:,.0f} days old: reload it or "
                "treat a miss as unknown, not clean.",
                icon=":material/schedule:",
            )
        st.dataframe(feeds_frame(ages), hide_index=True, width="stretch")
        st.dataframe(store.indicator_counts(), hide_index=True)
    st.subheader("Load known feeds")
    available = [f for f in service.KNOWN_FEEDS if service.known_feed_path(f) is not None]
    if not available:
        st.caption("No copy of the known feeds was found (set CTAS_INTEL_FEEDS to their folder).")
    chosen = st.multiselect(
        "Feeds",
        [f.name for f in available],
        default=[f.name for f in available[:1]],
        key="intel_known",
        help="; ".join(f"{f.name}: {f.description}" for f in available),
    )
    if st.button("Load", key="intel_load", icon=":material/cloud_download:", disabled=not chosen):
        st.session_state["intel_load_request"] = tuple(chosen)
    request = st.session_state.get("intel_load_request")
    if request:
        feeds = [f for f in available if f.name in request]
        loaded = run_cancellable(
            "intel_load",
            "|".join(request),
            lambda: {f.name: service.load_known_feed(store, f) for f in feeds},
            label=f"Loading {', '.join(request)}…",
            limit_s=LOAD_LIMIT_S,
        )
        st.session_state.pop("intel_load_request", None)
        if loaded:
            st.session_state["intel_loaded"] = ", ".join(f"{k}: {v:,} indicators" for k, v in loaded.items())
            st.rerun()
    _upload(store)


def _upload(store: IntelStore) -> None:
    st.subheader("Upload a feed")
    st.caption(
        "CSV with a value (or indicator) column and optional type, confidence, family, tags, first_seen and "
        "last_seen; a STIX 2.1 bundle; or a MISP event (JSON). Reloading a feed of the same name merges it."
    )
    with st.form("intel_upload", clear_on_submit=True):
        name = st.text_input("Feed name", max_chars=80, key="intel_feed_name")
        upload = st.file_uploader("Feed file", type=["csv", "json", "txt"], key="intel_feed_file")
        submitted = st.form_submit_button("Load feed", icon=":material/upload:")
    if submitted:
        if upload is None or not name.strip():
            st.error("Name the feed and choose its file.", icon=":material/error:")
            return
        if upload.size > MAX_UPLOAD_BYTES:
            st.error(f"The file is larger than {MAX_UPLOAD_BYTES // 2**20} MiB.", icon=":material/error:")
            return
        try:
            count = service.load_upload(store, name, upload.name, upload.getvalue())
        except FeedError as exc:
            st.error(common.md_escape(exc), icon=":material/error:")
            return
        st.success(f"Feed **{common.md_escape(name.strip())}** holds {count:,} indicators.", icon=":material/check:")
