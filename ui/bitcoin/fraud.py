"""Fraud scoring on the Elliptic schema: upload the files (or generate a synthetic set of the same schema), train
with the AutoML search on steps 1–34 and read the illicit class's F1 on steps 35–49, beside the published figures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.automl.runner import fit_table
from core.automl.search import SearchSettings
from core.chain.blocks import ChainInputError
from core.chain.fraud import (
    PUBLISHED,
    TRAIN_LAST_STEP,
    EllipticData,
    FraudEvaluation,
    evaluate,
    read_elliptic,
    synthetic_elliptic,
)
from core.chain.views import fraud_figure
from ui import common
from ui.background import run_cancellable

MAX_UPLOAD_BYTES = 200 * 2**20
RESULT = "chain_fraud_result"


@st.cache_data(max_entries=2, show_spinner="Generating a synthetic data set of the Elliptic schema…")
def _synthetic(seed: int) -> tuple[bytes, bytes, bytes]:
    return synthetic_elliptic(seed=seed)


@st.cache_data(max_entries=2, show_spinner="Reading and checking the files…")
def _read(signature: str, _files: tuple[bytes, bytes, bytes | None]) -> EllipticData:
    return read_elliptic(*_files)


def _files() -> tuple[str, tuple[bytes, bytes, bytes | None]] | None:
    source = st.radio("Transactions", ["Synthetic (Elliptic schema)", "Upload Elliptic files"], horizontal=True,
                      key="chain_fraud_source")  # fmt: skip
    if source.startswith("Synthetic"):
        seed = int(st.number_input("Seed", 0, 10_000, 0, key="chain_fraud_seed"))
        st.caption("12,000 transactions over 49 steps, about 23 % labelled and 10 % of those illicit; the illicit "
                   "pattern changes after step 43, as the real one did.")  # fmt: skip
        return f"synthetic:{seed}", _synthetic(seed)
    cells = st.columns(3)
    features = cells[0].file_uploader("elliptic_txs_features.csv", type=["csv"], key="chain_fraud_features")
    classes = cells[1].file_uploader("elliptic_txs_classes.csv", type=["csv"], key="chain_fraud_classes")
    edges = cells[2].file_uploader("elliptic_txs_edgelist.csv (optional)", type=["csv"], key="chain_fraud_edges")
    if features is None or classes is None:
        st.info("Upload the features and classes files (the edge list is optional).", icon=":material/info:")
        return None
    for upload in (features, classes, edges):
        if upload is not None and upload.size > MAX_UPLOAD_BYTES:
            raise ChainInputError(f"{upload.name} is larger than {MAX_UPLOAD_BYTES // 2**20} MiB.")
    signature = "|".join(u.file_id for u in (features, classes, edges) if u is not None)
    return signature, (features.getvalue(), classes.getvalue(), edges.getvalue() if edges else None)


def _automl(budget_s: float):
    def fit(features: pd.DataFrame, labels: pd.Series):
        result = fit_table(features.assign(label=labels), "label", "binary", settings=SearchSettings(budget_s))
        return f"AutoML: {result.model.description}", lambda table: np.asarray(result.model.predict(table))

    return fit


def show() -> tuple[FraudEvaluation | None, go.Figure | None]:
    """The panel; returns the evaluation and its figure once there is one (for the report)."""
    st.caption(PUBLISHED)
    chosen = _files()
    if chosen is None:
        return None, None
    signature, files = chosen
    data = _read(signature, files)
    cells = st.columns(4)
    cells[0].metric("Labelled transactions", f"{len(data.frame):,}")
    cells[1].metric("Illicit", f"{int((data.frame['label'] == '1').sum()):,}")
    cells[2].metric("Unlabelled (left out)", f"{data.unlabelled:,}")
    cells[3].metric("Edges", f"{data.edges:,}")
    budget = st.select_slider("AutoML budget (seconds)", [10, 20, 30, 60, 120, 300], 30, key="chain_fraud_budget")
    run_signature = f"{signature}|{budget}"
    if st.button(f"Train on steps 1–{TRAIN_LAST_STEP}, test on the rest", icon=":material/model_training:",
                 key="chain_fraud_train"):  # fmt: skip
        st.session_state["chain_fraud_wanted"] = run_signature
    held = st.session_state.get(RESULT)
    if st.session_state.get("chain_fraud_wanted") == run_signature and (held is None or held[0] != run_signature):
        evaluation = run_cancellable("chain_fraud", run_signature, lambda: evaluate(data, _automl(budget)),
                                     label="Training and testing…", limit_s=3 * budget + 120)  # fmt: skip
        if evaluation is not None:
            st.session_state[RESULT] = (run_signature, evaluation)
            held = st.session_state[RESULT]
    if held is None or held[0] != run_signature:
        return None, None
    evaluation = held[1]
    scores = {c: st.column_config.NumberColumn(format="%.3f") for c in ("precision", "recall", "F1")}
    st.dataframe(evaluation.overall, hide_index=True, width="stretch", column_config=scores)
    figure = fraud_figure(evaluation.by_step)
    st.plotly_chart(figure, width="stretch")
    st.dataframe(evaluation.by_step, hide_index=True, width="stretch")
    common.csv_button(lambda: evaluation.predictions, "fraud_predictions.csv", "chain_fraud_csv",
                      "Download test predictions CSV")  # fmt: skip
    return evaluation, figure
