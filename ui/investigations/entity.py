"""The entity view: every signal on one entity (and on the entities linked to it) over time, across capabilities."""

from __future__ import annotations

import streamlit as st

from core.cases.signals import ENTITY_KINDS, Entity, SignalError
from core.cases.store import CaseStore
from core.cases.views import entity_graph_figure, entity_report, timeline_figure
from ui import common
from ui.investigations.common import ENTITY_KIND, ENTITY_VALUE, analyst, go_to_case


def _chosen() -> Entity | None:
    left, right = st.columns([1, 3])
    kind = left.selectbox("Kind", ENTITY_KINDS, key=ENTITY_KIND)
    value = right.text_input("Value", key=ENTITY_VALUE, max_chars=512, placeholder="an IP, host, user, domain…")
    if not value.strip():
        st.info("Choose an entity in the queue, or type one here.", icon=":material/person_search:")
        return None
    try:
        return Entity.of(kind, value)
    except SignalError as exc:
        st.error(common.md_escape(exc.message), icon=":material/error:")
        return None


def _to_case(store: CaseStore, entity: Entity) -> None:
    cases = store.cases()
    open_cases = cases[cases["status"] != "closed"]
    left, right = st.columns(2)
    if left.button("Open a case on this entity", icon=":material/create_new_folder:", key="cases_entity_open"):
        go_to_case(store.open_case(f"{entity.kind} {entity.value}", analyst(), analyst(), entities=(entity,)))
    if len(open_cases):
        with right.popover("Add to a case", icon=":material/note_add:"):
            labels = {int(r.id): f"#{r.id} {r.title} ({r.status})" for r in open_cases.itertuples(index=False)}
            target = st.selectbox("Case", list(labels), format_func=labels.get, key="cases_entity_target")
            if st.button("Add entity", key="cases_entity_add"):
                store.add_entity(target, entity, analyst())
                go_to_case(target)


def show(store: CaseStore) -> None:
    """The entity view."""
    entity = _chosen()
    if entity is None:
        return
    signals = store.entity_signals(entity.kind, entity.value)
    links = store.linked(entity.kind, entity.value)
    cols = st.columns(4)
    cols[0].metric("Signals", f"{len(signals):,}")
    cols[1].metric("Capabilities", signals["source"].nunique())
    cols[2].metric("First", "—" if signals.empty else f"{signals['ts'].min():%Y-%m-%d %H:%M}")
    cols[3].metric("Last", "—" if signals.empty else f"{signals['ts'].max():%Y-%m-%d %H:%M}")
    if signals.empty:
        st.info(f"No signal names {common.md_escape(entity.kind)} {common.md_escape(entity.value)}.")
        return
    _to_case(store, entity)
    detailed = store.signals(signals["id"].tolist())
    st.plotly_chart(timeline_figure(detailed, f"Signals on {entity.kind} {entity.value}"), key="cases_entity_time")
    st.plotly_chart(entity_graph_figure(detailed, links, f"Entities tied to {entity.kind} {entity.value}"),
                    key="cases_entity_graph")  # fmt: skip
    link = st.column_config.LinkColumn("source page", display_text="open")
    st.dataframe(signals[["ts", "source", "kind", "severity", "summary", "via", "link"]], hide_index=True,
                 width="stretch", column_config={"link": link})  # fmt: skip
    if len(links):
        st.caption("Linked entities")
        st.dataframe(links, hide_index=True)
    common.report_button(lambda: entity_report(entity.kind, entity.value, detailed, links),
                         f"Entity {entity.kind} {entity.value}", "cases_entity_report")  # fmt: skip
