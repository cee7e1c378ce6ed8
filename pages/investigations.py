"""Investigations: host, behaviour, intel, threat-map and FBAS signals in one stream, ranked; entities; cases."""

import streamlit as st

from core.cases.store import CaseStore
from ui import common
from ui.investigations import case, entity, queue
from ui.investigations.common import ANALYST, VIEW, VIEWS, follow_goto

wh = common.warehouse()
store = CaseStore(wh)
st.session_state.setdefault(VIEW, "Queue")
st.session_state.setdefault(ANALYST, "analyst")
st.title("Investigations")
st.caption(
    "Every capability's signals in one stream. The same IP, host, user or domain is one entity across them; an IP "
    "inside a CIDR or an H3 cell is linked to it. The queue ranks by severity, recency and corroboration, and every "
    "score shows its terms. Evidence added to a case is frozen; every change to a case is in its audit log."
)
with st.sidebar:
    st.text_input("Analyst", key=ANALYST, max_chars=80, help="Your name in cases and the audit log.")
follow_goto()
view = st.segmented_control("View", VIEWS, key=VIEW, label_visibility="collapsed")
{"Queue": queue.show, "Entity": entity.show, "Cases": case.show}.get(view or "Queue", queue.show)(store)
