"""AutoML: the best model a time budget allows on a warehouse data set; compare runs, keep models, predict."""

import streamlit as st

from ui import automl, common

wh = common.warehouse()
st.title("AutoML")
st.caption(
    "Pick a data set and a target; a time-boxed search tries linear models, gradient boosting, forests, "
    "neighbours, SVMs and networks, cross-validated on the training part, and combines the best into an ensemble "
    "scored on rows it never saw. Runs from every session queue for the two cores."
)
train, compare, predict = st.tabs(["Train", "Compare experiments", "Registry and prediction"])
with train:
    automl.train_panel(wh)
with compare:
    automl.compare_panel(wh)
with predict:
    automl.predict_panel(wh)
