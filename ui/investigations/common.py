"""What the Investigations panels share: the analyst's name, moving between views, entity choices."""

from __future__ import annotations

import streamlit as st

VIEWS = ("Queue", "Entity", "Cases")
VIEW = "cases_view"
ENTITY_KIND, ENTITY_VALUE, CASE = "cases_entity_kind", "cases_entity_value", "cases_case"
ANALYST = "cases_analyst"
PICK_LIMIT = 100  # entities and signal groups offered in pickers (the queue's best)


def analyst() -> str:
    """The analyst's name, as typed in the sidebar."""
    return st.session_state.get(ANALYST) or "analyst"


_GOTO = "cases_goto"


def go_to_entity(kind: str, value: str) -> None:
    """Show one entity in the Entity view (from the next run on)."""
    st.session_state[_GOTO] = {VIEW: "Entity", ENTITY_KIND: kind, ENTITY_VALUE: value}
    st.rerun()


def go_to_case(case_id: int) -> None:
    """Show one case in the Cases view (from the next run on)."""
    st.session_state[_GOTO] = {VIEW: "Cases", CASE: int(case_id)}
    st.rerun()


def follow_goto() -> None:
    """Apply a move asked for in the last run, and show what the last run did; call before the view's widgets."""
    st.session_state.update(st.session_state.pop(_GOTO, {}))
    if _NOTICE in st.session_state:
        st.success(st.session_state.pop(_NOTICE), icon=":material/check_circle:")


_NOTICE = "cases_notice"


def done(text: str) -> None:
    """Say what was done (markdown, escaped by the caller) and run the page again to show its effect."""
    st.session_state[_NOTICE] = text
    st.rerun()


GROUP = ["source", "rule", "entity_kind", "entity_value"]  # what one row of the signal queue collapses


def entity_choices(entities) -> dict[tuple[str, str], str]:
    """The queue's best entities as picker options: (kind, value) -> one line with score and capabilities. Options
    are the entities themselves, so a queue that re-ranks between drawing and clicking picks the one shown."""
    return {(r.kind, r.value): f"{r.kind} {r.value} · score {r.score:.2f} · {', '.join(r.sources)}"
            for r in entities.head(PICK_LIMIT).itertuples(index=False)}  # fmt: skip


def group_choices(signals) -> dict[tuple[str, ...], str]:
    """The queue's best signal rows as picker options: (source, rule, entity kind, entity value) -> one line."""
    return {(r.source, r.rule, r.entity_kind, r.entity_value):
            f"{r.source} · {r.rule} · {r.entity_kind} {r.entity_value} · {r.signals}× · score {r.score:.2f}"
            for r in signals.head(PICK_LIMIT).itertuples(index=False)}  # fmt: skip
