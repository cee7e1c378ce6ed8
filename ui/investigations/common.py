"""What the Investigations panels share: the analyst's name, moving between views, entity choices."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.cases.signals import Entity

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


def entity_label(row) -> str:
    """An entity queue row as one line: kind, value, score and capabilities."""
    return f"{row.kind} {row.value} · score {row.score:.2f} · {', '.join(row.sources)}"


def group_label(row) -> str:
    """A signal queue row as one line."""
    return f"{row.source} · {row.rule} · {row.entity_kind} {row.entity_value} · {row.signals}× · score {row.score:.2f}"


def entity_of(row: pd.Series | dict) -> Entity:
    """The entity of a queue row (its kind and value are already normalised)."""
    return Entity(row["kind"], row["value"])
