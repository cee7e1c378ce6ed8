"""The triage queue: entities and collapsed signals ranked by a score that shows its terms; open a case from the
best, look at an entity, or suppress a noisy rule for an entity with a reason and an expiry."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.cases import triage
from core.cases.signals import Entity
from core.cases.store import MAX_SUPPRESSION_DAYS, CaseStore
from core.cases.views import queue_report, with_explanations
from ui import common
from ui.investigations.common import analyst, done, entity_choices, go_to_case, go_to_entity, group_choices

QUEUE_ROWS = 500
SCORE = st.column_config.NumberColumn("score", format="%.2f", help=triage.__doc__)


def _entity_table(entities: pd.DataFrame) -> None:
    shown = with_explanations(entities)[["score", "kind", "value", "sources", "signals", "raised_at", "why"]]
    shown = shown.assign(sources=shown["sources"].map(", ".join))
    st.dataframe(shown, hide_index=True, width="stretch", height=320, column_config={
        "score": SCORE, "raised_at": st.column_config.DatetimeColumn("latest signal", format="YYYY-MM-DD HH:mm"),
        "why": st.column_config.TextColumn("score = its terms", width="large"),
    })  # fmt: skip


def _signal_table(signals: pd.DataFrame) -> None:
    shown = with_explanations(signals)[["score", "source", "severity", "summary", "signals", "entity_kind",
                                        "entity_value", "rule", "last_ts", "link", "why"]]  # fmt: skip
    st.dataframe(shown, hide_index=True, width="stretch", height=320, column_config={
        "score": SCORE, "signals": st.column_config.NumberColumn("duplicates", help="Signals collapsed in this row"),
        "last_ts": st.column_config.DatetimeColumn("last seen", format="YYYY-MM-DD HH:mm"),
        "link": st.column_config.LinkColumn("source page", display_text="open", help="Reopens the page that raised it"),
        "why": st.column_config.TextColumn("score = its terms", width="large"),
    })  # fmt: skip


def _case_from_signals(store: CaseStore, signals: pd.DataFrame) -> None:
    choices = group_choices(signals)
    with st.form("cases_from_signals", clear_on_submit=True, border=False):
        left, right = st.columns([4, 1], vertical_alignment="bottom")
        chosen = left.multiselect("Signals for a new case", list(choices), format_func=choices.get,
                                  key="cases_signals_pick")  # fmt: skip
        if right.form_submit_button("Open a case from signals", icon=":material/create_new_folder:") and chosen:
            ids = tuple(i for group in chosen for i in store.group_signal_ids(*group))
            more = f" and {len(chosen) - 1} more" if len(chosen) > 1 else ""
            go_to_case(store.open_case(f"{chosen[0][2]} {chosen[0][3]}{more}", analyst(), analyst(), signal_ids=ids))


def _suppressions(store: CaseStore, signals: pd.DataFrame) -> None:
    choices = group_choices(signals)
    with st.expander("Suppress a noisy rule for an entity", icon=":material/notifications_off:"):
        with st.form("cases_suppress", clear_on_submit=True, border=False):
            group = st.selectbox("Signal", list(choices), format_func=choices.get, key="cases_suppress_row")
            reason = st.text_input("Reason", key="cases_suppress_reason", max_chars=500)
            days = st.number_input("For days", 1, MAX_SUPPRESSION_DAYS, 7, key="cases_suppress_days")
            if st.form_submit_button("Suppress", icon=":material/notifications_off:") and group is not None:
                source, rule, kind, value = group
                store.suppress(source, rule, Entity(kind, value), reason=reason, analyst=analyst(), days=days)
                done(f"Suppressed {common.md_escape(choices[group])} for {days} days.")
        held = store.suppressions()
        if len(held):
            st.caption("Suppressions (newest first)")
            st.dataframe(held.drop(columns=["id"]), hide_index=True, width="stretch")


def show(store: CaseStore) -> None:
    """The queue view."""
    entities = store.entity_queue(limit=QUEUE_ROWS)
    signals = store.signal_queue(limit=QUEUE_ROWS)
    suppressed = store.suppressed_count()
    cols = st.columns(4)
    cols[0].metric("Signals", f"{store.signal_count():,}")
    cols[1].metric("Entities ranked", f"{len(entities):,}" + ("+" if len(entities) == QUEUE_ROWS else ""))
    cols[2].metric("Corroborated entities", f"{int((entities['corroboration'] > 1).sum()):,}")
    cols[3].metric("Suppressed signals", f"{suppressed:,}")
    if entities.empty:
        st.info("No signals yet. Host alerts, behaviour trust alerts, intel matches, emerging hot spots and FBAS "
                "scenarios that make the network worse all land here.", icon=":material/inbox:")  # fmt: skip
        return
    st.subheader("Entities, best first")
    st.caption("Independent capabilities agreeing on one entity rank it higher than many signals from one source.")
    _entity_table(entities)
    choices = entity_choices(entities)
    kind, value = st.selectbox("Entity", list(choices), format_func=choices.get, key="cases_pick_entity")
    left, right = st.columns(2)
    if left.button("Show entity", icon=":material/person_search:", key="cases_show_entity"):
        go_to_entity(kind, value)
    if right.button("Open a case", icon=":material/create_new_folder:", key="cases_open_entity", type="primary"):
        go_to_case(store.open_case(f"{kind} {value}", analyst(), analyst(), entities=(Entity(kind, value),)))
    st.subheader("Signals, duplicates collapsed")
    _signal_table(signals)
    _case_from_signals(store, signals)
    _suppressions(store, signals)
    common.report_button(lambda: queue_report(signals, entities, suppressed), "Investigations queue", "cases_q_report")
