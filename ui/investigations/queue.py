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
from ui.investigations.common import PICK_LIMIT, analyst, done, entity_label, go_to_case, go_to_entity, group_label

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


def _open_case_from_entity(store: CaseStore, entity: Entity) -> None:
    case_id = store.open_case(f"{entity.kind} {entity.value}", analyst(), analyst())
    store.add_entity(case_id, entity, analyst())
    go_to_case(case_id)


def _case_from_signals(store: CaseStore, signals: pd.DataFrame) -> None:
    picks = signals.head(PICK_LIMIT)
    with st.form("cases_from_signals", clear_on_submit=True, border=False):
        left, right = st.columns([4, 1], vertical_alignment="bottom")
        chosen = left.multiselect("Signals for a new case", range(len(picks)), key="cases_signals_pick",
                                  format_func=lambda i: group_label(picks.iloc[i]))  # fmt: skip
        if right.form_submit_button("Open a case", icon=":material/create_new_folder:") and chosen:
            rows = [picks.iloc[i] for i in chosen]
            ids = [i for r in rows for i in store.group_signal_ids(r["source"], r["rule"], r["entity_kind"],
                                                                   r["entity_value"])]  # fmt: skip
            title = f"{rows[0]['entity_kind']} {rows[0]['entity_value']}" + (f" and {len(rows) - 1} more"
                                                                              if len(rows) > 1 else "")  # fmt: skip
            case_id = store.open_case(title, analyst(), analyst())
            store.add_signals(case_id, ids, analyst())
            go_to_case(case_id)


def _suppress_form(store: CaseStore, signals: pd.DataFrame) -> None:
    picks = signals.head(PICK_LIMIT)
    with (
        st.expander("Suppress a noisy rule for an entity", icon=":material/notifications_off:"),
        st.form("cases_suppress", clear_on_submit=True, border=False),
    ):
        row = st.selectbox("Signal", range(len(picks)), format_func=lambda i: group_label(picks.iloc[i]),
                           key="cases_suppress_row")  # fmt: skip
        reason = st.text_input("Reason", key="cases_suppress_reason", max_chars=500)
        days = st.number_input("For days", 1, MAX_SUPPRESSION_DAYS, 7, key="cases_suppress_days")
        if st.form_submit_button("Suppress", icon=":material/notifications_off:") and row is not None:
            chosen = picks.iloc[row]
            entity = Entity(chosen["entity_kind"], chosen["entity_value"])
            store.suppress(chosen["source"], chosen["rule"], entity, reason=reason, analyst=analyst(), days=days)
            done(f"Suppressed {common.md_escape(group_label(chosen))} for {days} days.")


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
    picks = entities.head(PICK_LIMIT)
    row = st.selectbox("Entity", range(len(picks)), format_func=lambda i: entity_label(picks.iloc[i]),
                       key="cases_pick_entity")  # fmt: skip
    chosen = picks.iloc[row if row is not None else 0]
    left, right = st.columns(2)
    if left.button("Show entity", icon=":material/person_search:", key="cases_show_entity"):
        go_to_entity(chosen["kind"], chosen["value"])
    if right.button("Open a case", icon=":material/create_new_folder:", key="cases_open_entity", type="primary"):
        _open_case_from_entity(store, Entity(chosen["kind"], chosen["value"]))
    st.subheader("Signals, duplicates collapsed")
    _signal_table(signals)
    _case_from_signals(store, signals)
    _suppress_form(store, signals)
    common.report_button(lambda: queue_report(signals, entities, suppressed), "Investigations queue", "cases_q_report")
