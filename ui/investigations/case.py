"""The case view: frozen evidence, timeline, entity graph, notes, status and owner, the audit log, and the case's
report as HTML and PDF and its indicators as STIX 2.1."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.cases.pdf import chromium, html_to_pdf
from core.cases.store import RESOLUTIONS, STATUSES, CaseStore
from core.cases.views import (
    case_links,
    case_report,
    case_signals,
    case_stix,
    entity_graph_figure,
    entity_rows,
    timeline_figure,
)
from core.report import ReportError, report_file_name
from ui import common
from ui.investigations.common import CASE, PICK_LIMIT, analyst, done, group_choices


def _add_evidence(store: CaseStore, case_id: int) -> None:
    choices = group_choices(store.signal_queue(limit=PICK_LIMIT))
    if not choices:
        return
    with st.form("cases_evidence", clear_on_submit=True):
        picked = st.multiselect("Signals to add as evidence", list(choices), format_func=choices.get,
                                key="cases_evidence_pick")  # fmt: skip
        if st.form_submit_button("Add evidence", icon=":material/note_add:") and picked:
            ids = [i for group in picked for i in store.group_signal_ids(*group)]
            added = store.add_signals(case_id, ids, analyst())
            done(f"Added {added} signals, frozen as they are now.")


def _notes(store: CaseStore, case_id: int, notes: pd.DataFrame) -> None:
    for note in notes.itertuples(index=False):
        with st.chat_message("user", avatar=":material/edit_note:"):
            st.caption(f"Note {note.note} · {common.md_escape(note.author)} · {note.written_at:%Y-%m-%d %H:%M} UTC")
            st.text(note.text)
    with st.form("cases_note", clear_on_submit=True):
        text = st.text_area("Note", key="cases_note_text", max_chars=10_000)
        if st.form_submit_button("Add note", icon=":material/edit_note:") and text.strip():
            store.add_note(case_id, text, analyst())
            st.rerun()


def _state(store: CaseStore, case: dict) -> None:
    with st.form("cases_state", border=False):
        cols = st.columns([2, 2, 2, 1])
        status = cols[0].selectbox("Case status", STATUSES, index=STATUSES.index(case["status"]),
                                   key=f"cases_status_{case['id']}")  # fmt: skip
        held = RESOLUTIONS.index(case["resolution"]) if case["resolution"] in RESOLUTIONS else 0
        resolution = cols[1].selectbox("Resolution (when closed)", RESOLUTIONS, index=held,
                                       key=f"cases_resolution_{case['id']}")  # fmt: skip
        owner = cols[2].text_input("Owner", value=case["owner"], key=f"cases_owner_{case['id']}", max_chars=80)
        if cols[3].form_submit_button("Update", icon=":material/save:"):
            if owner.strip() != case["owner"]:
                store.set_owner(case["id"], owner, analyst())
            if status != case["status"] or (status == "closed" and resolution != case["resolution"]):
                store.set_status(case["id"], status, analyst(), resolution if status == "closed" else None)
            st.rerun()


def _downloads(case: dict, evidence: pd.DataFrame, notes: pd.DataFrame, audit: pd.DataFrame) -> None:
    title = f"Case {case['id']} {case['title']}"
    cols = st.columns(3)
    with cols[0]:
        common.report_button(lambda: case_report(case, evidence, notes, audit), title, "cases_case_report")
    try:
        chromium()
    except ReportError as exc:  # no PDF without Chromium: say so on the button rather than fail on the click
        cols[1].button("Download PDF", disabled=True, help=exc.message, key="cases_case_pdf_off")
    else:
        cols[1].download_button(
            "Download PDF", data=lambda: html_to_pdf(case_report(case, evidence, notes, audit).to_html()),
            file_name=report_file_name(title, extension="pdf"), mime="application/pdf",
            icon=":material/picture_as_pdf:", on_click="ignore", key="cases_case_pdf",
            help="The same report printed to PDF by the server's Chromium.",
        )  # fmt: skip
    cols[2].download_button(
        "Download STIX 2.1 bundle", data=lambda: case_stix(case, evidence),
        file_name=report_file_name(title, extension="stix.json"), mime="application/json", icon=":material/share:",
        on_click="ignore", key="cases_case_stix",
        help="The case's indicators (IPs, networks, domains, URLs, hashes) as STIX 2.1.",
    )  # fmt: skip


def show(store: CaseStore) -> None:
    """The case view."""
    cases = store.cases()
    if cases.empty:
        st.info("No case yet: open one from the queue or from an entity.", icon=":material/folder_open:")
        return
    labels = {int(r.id): f"#{r.id} {r.title}" for r in cases.itertuples(index=False)}
    if st.session_state.get(CASE) not in labels:
        st.session_state[CASE] = next(iter(labels))
    case_id = st.selectbox("Case", list(labels), format_func=labels.get, key=CASE)
    case, evidence = store.case(case_id), store.evidence(case_id)
    notes, audit = store.notes(case_id), store.audit(case_id)
    cols = st.columns(5)
    cols[0].metric("Status", case["status"])
    cols[1].metric("Resolution", case["resolution"] or "—")
    cols[2].metric("Owner", case["owner"])
    cols[3].metric("Evidence", len(evidence))
    cols[4].metric("Notes", len(notes))
    _state(store, case)
    signals = case_signals(evidence)
    if len(signals):
        st.plotly_chart(timeline_figure(signals, "Timeline of the case's signals"), key="cases_case_time")
        st.plotly_chart(entity_graph_figure(signals, case_links(evidence), "Entities of the case"),
                        key="cases_case_graph")  # fmt: skip
        st.dataframe(entity_rows(signals), hide_index=True, width="stretch")
    st.subheader("Evidence (frozen when added)")
    st.dataframe(evidence[["item", "kind", "ref", "summary", "added_at", "added_by"]], hide_index=True, width="stretch")
    _add_evidence(store, case_id)
    st.subheader("Notes")
    _notes(store, case_id, notes)
    with st.expander("Audit log", icon=":material/history:"):
        st.dataframe(audit, hide_index=True, width="stretch")
    _downloads(case, evidence, notes, audit)
