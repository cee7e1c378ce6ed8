"""A report's ATT&CK techniques: ids it names and sentences the mapper reads, on the matrix, exported as a Navigator
layer, and saved with the report's indicators into the correlation graph."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.errors import CtasError
from core.intel.attack import training
from core.intel.attack.mapper import TechniqueMapper
from core.intel.attack.navigator import layer_json
from core.intel.attack.report import report_items, report_stix, report_techniques
from core.intel.attack.store import AttackStore
from core.intel.attack.views import matrix_figure
from core.intel.extract import extract
from core.intel.store import IntelStore
from core.warehouse import Warehouse
from ui import common
from ui.background import run_cancellable

DEFAULT_MIN_CONFIDENCE = 0.8


@st.cache_resource(max_entries=2, show_spinner="Loading the technique mapper…")
def _mapper(path: str, version: int) -> TechniqueMapper:
    """The newest mapper of the warehouse at `path` (`version` keys the cache: a new training replaces it)."""
    return training.load(common.warehouse_at(path), train_if_missing=False, version=version)[0]


@st.cache_data(max_entries=16, show_spinner="Mapping sentences to techniques…")
def _map(text: str, path: str, version: int, min_confidence: float) -> pd.DataFrame:
    """A report's sentences mapped by mapper `version` (cached per text, mapper and threshold)."""
    return training.map_report(text, _mapper(path, version), min_confidence)


def _mapped(wh: Warehouse, text: str, min_confidence: float) -> pd.DataFrame | None:
    store = AttackStore(wh)
    mappers = store.mappers()
    if mappers.empty:
        st.caption("Sentences are mapped by a model trained on TRAM's labelled sentences and ATT&CK's own.")
        if st.button("Train the technique mapper (about a minute, once)", key="intel_train_mapper"):
            st.session_state["intel_train_request"] = True
        if st.session_state.get("intel_train_request"):  # kept until the job ends: a rerun meanwhile rejoins it
            with common.dropping("intel_train_request"):
                entry = run_cancellable("intel_train", "train", lambda: training.train(wh),
                                        label="Training the technique mapper…", limit_s=300)  # fmt: skip
            if entry:
                st.success(f"Mapper v{entry['version']} trained in {entry['seconds']:.0f} s.", icon=":material/check:")
                mappers = store.mappers()
        if mappers.empty:
            return None
    entry = mappers.iloc[0]
    st.caption(
        f"Mapper v{entry['version']}: {entry['sentences']:,} TRAM and {entry['extra_sentences']:,} ATT&CK sentences, "
        f"{entry['labels']} techniques, trained {entry['trained_at']}."
    )
    return _map(text, wh.path, int(entry["version"]), min_confidence)


def show(wh: Warehouse, text: str, indicators: pd.DataFrame, release: str | None) -> pd.DataFrame:
    """The techniques panel; returns the report's technique table."""
    named = [i for i in extract(text) if i.type == "attack_technique"]
    min_confidence = st.slider("Lowest confidence shown for learned techniques", 0.0, 1.0, DEFAULT_MIN_CONFIDENCE,
                               0.05, key="intel_min_confidence")  # fmt: skip
    try:
        mapped = _mapped(wh, text, min_confidence)
    except CtasError as exc:
        st.warning(common.md_escape(exc), icon=":material/warning:")
        mapped = None
    table = report_techniques(named, text, mapped)
    if table.empty:
        st.info("No technique named or recognised in this text.", icon=":material/info:")
        return table
    attack = AttackStore(wh)
    if release:
        names = attack.techniques(release).set_index("attack_id")["name"]
        table.insert(1, "name", table["technique"].map(names).fillna(""))
    columns = {
        "sentence": st.column_config.TextColumn("Sentence or context", width="large"),
        "confidence": st.column_config.ProgressColumn("Confidence", min_value=0, max_value=1),
    }
    st.dataframe(table, hide_index=True, width="stretch", column_config=columns)
    scores = dict(zip(table["technique"], table["confidence"], strict=True))
    if release:
        st.plotly_chart(
            matrix_figure(attack.techniques(release), attack.tactics(release), scores,
                          title=f"The report's techniques on ATT&CK ({release})"),
            width="stretch",
        )  # fmt: skip
    else:
        st.info("Load an ATT&CK release (ATT&CK tab) to see the techniques on the matrix.", icon=":material/info:")
    left, right = st.columns(2)
    comments = dict(zip(table["technique"], table["how"] + ": " + table["sentence"].str.slice(0, 300), strict=True))
    left.download_button(
        "Download Navigator layer",
        data=layer_json(
            "CTAS report", scores, description="Techniques of a report analysed in CTAS", comments=comments
        ),
        file_name="report_layer.json",
        mime="application/json",
        icon=":material/download:",
        on_click="ignore",
        key="intel_layer",
    )
    with right:
        name = st.text_input("Report name", key="intel_report_name", max_chars=120, placeholder="e.g. vendor, date")
        st.download_button(
            "Download STIX 2.1 (report, indicators, techniques)",
            data=lambda: report_stix(name.strip() or "CTAS report", indicators, table),
            file_name="report.stix.json",
            mime="application/json",
            icon=":material/download:",
            on_click="ignore",
            key="intel_report_stix",
        )
        if st.button("Save report to the graph", key="intel_save_report", disabled=not name.strip()):
            report_id = IntelStore(wh).save_report(name.strip(), text, report_items(indicators, table))
            st.success(f"Saved as report {report_id}: rebuild the graph to link it.", icon=":material/check:")
    return table
