"""Behaviour monitoring: enrol users, verify them continuously from keystroke, mouse and app-usage dynamics."""

import streamlit as st

from ui import behaviour, common

wh = common.warehouse()
st.title("Behaviour monitoring")
st.caption(
    "Keystroke, mouse and app-usage dynamics scored every 5 s over the last 30 s against each user's enrolled "
    "profile, fused (0.40 / 0.35 / 0.25) into a trust state. Low scores raise alerts with a step-up check to "
    "recommend; nobody is locked out by the tool."
)
runner = behaviour.feed_runner(wh.path)
known = behaviour.profiles(wh)
linked_user = common.linked().get("user")
if linked_user in known:  # a link from Investigations: that user's replay and drift
    st.session_state.update(beh_replay_user=linked_user, beh_drift_user=linked_user)
    common.from_investigation(f"the trust alerts of {common.md_escape(linked_user)}; Session replay and Feature "
                              "drift show this user")  # fmt: skip
behaviour.feed_controls(runner, sorted(known))
behaviour.enrol_panel(wh)
live, replay, drift, evaluation = st.tabs(["Live", "Session replay", "Feature drift", "Evaluation"])
with live:
    behaviour.live_panel(wh, runner)
with replay:
    behaviour.replay_panel()
with drift:
    behaviour.drift_panel(wh)
with evaluation:
    behaviour.evaluation_panel(wh)
