"""A case's reports: the HTML holds the timeline, the entity graph, the frozen evidence and the notes, escaped; the
PDF is that page printed by the system's Chromium; the STIX bundle holds the case's indicators."""

from __future__ import annotations

import io
import json
from datetime import datetime

from pdfminer.high_level import extract_text

from core.cases.pdf import html_to_pdf
from core.cases.signals import Entity, Signal
from core.cases.store import CaseStore
from core.cases.views import case_report, case_signals, case_stix, entity_graph_figure, queue_report
from core.warehouse import Warehouse

HASH = "ab" * 32


def _case(warehouse: Warehouse) -> tuple[CaseStore, int]:
    store = CaseStore(warehouse)
    host = Entity.of("host", "web-1")
    store.publish([
        Signal("host monitor", "host alert", "CPU busy", "h1", datetime(2026, 11, 30, 9), "high", "web-1: CPU 97 %",
               (host,), {"peak": 97.0}, "host_monitor?alert=1"),
        Signal("behaviour", "trust state", "NORMAL to LOCKED", "b1", datetime(2026, 11, 30, 9, 5), "critical",
               "alice on web-1: trust NORMAL → LOCKED", (Entity.of("user", "alice"), host), {}, "behaviour?user=alice"),
        Signal("intel", "intel match", "ipsum", "i1", datetime(2026, 11, 30, 9, 7), "high",
               "<b>77.90.185.20</b> in ipsum",
               (Entity.of("ip", "77.90.185.20"), Entity.of("hash", HASH), Entity.of("domain", "evil.example")), {}),
    ])  # fmt: skip
    case = store.open_case("Takeover on web-1", "ana", "ana")
    store.add_entity(case, host, "ana")
    store.add_signals(case, [3], "ana")
    store.add_note(case, "Called alice: <script>alert(1)</script> it was not her.", "ana")
    store.set_status(case, "closed", "ana", "true positive")
    return store, case


def _report(store: CaseStore, case: int):
    return case_report(store.case(case), store.evidence(case), store.notes(case), store.audit(case))


def test_the_html_report_holds_timeline_graph_evidence_and_escaped_notes(warehouse: Warehouse) -> None:
    store, case = _case(warehouse)
    html = _report(store, case).to_html()
    assert "Timeline of the case&#x27;s signals" in html or "Timeline of the case's signals" in html
    assert "Entities of the case" in html and "Audit log" in html and "true positive" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html
    assert "&lt;b&gt;77.90.185.20&lt;/b&gt;" in html
    signals = case_signals(store.evidence(case))
    assert list(signals["source"]) == ["host monitor", "behaviour", "intel"]


def test_the_pdf_is_the_report_printed_by_chromium(warehouse: Warehouse) -> None:
    store, case = _case(warehouse)
    pdf = html_to_pdf(_report(store, case).to_html())
    assert pdf.startswith(b"%PDF")
    text = extract_text(io.BytesIO(pdf))
    for expected in ("Case #1: Takeover on web-1", "Timeline of the case", "Entities of the case", "it was not her",
                     "host monitor", "alice"):  # fmt: skip
        assert expected in text


def test_the_stix_bundle_holds_the_case_indicators_and_a_report(warehouse: Warehouse) -> None:
    store, case = _case(warehouse)
    bundle = json.loads(case_stix(store.case(case), store.evidence(case)))
    patterns = {o["pattern"] for o in bundle["objects"] if o["type"] == "indicator"}
    assert patterns == {"[ipv4-addr:value = '77.90.185.20']", f"[file:hashes.'SHA-256' = '{HASH}']",
                        "[domain-name:value = 'evil.example']"}  # fmt: skip
    report = next(o for o in bundle["objects"] if o["type"] == "report")
    assert len(report["object_refs"]) == 3 and report["name"].startswith("CTAS case #1")


def test_the_graph_ties_entities_through_signals_and_the_queue_report_shows_terms(warehouse: Warehouse) -> None:
    store, _ = _case(warehouse)
    signals = store.signals([1, 2, 3])
    figure = entity_graph_figure(signals, None, "g")
    names = {trace.name for trace in figure.data}
    assert {"host", "user", "ip", "hash", "domain", "signal: behaviour", "signal: intel"} <= names
    html = queue_report(store.signal_queue(), store.entity_queue(), 0).to_html()
    assert "corroboration 2" in html and "web-1" in html


def test_an_ipv6_network_and_an_entity_without_signals_are_exported(warehouse: Warehouse) -> None:
    store = CaseStore(warehouse)
    case = store.open_case("net", "ana", "ana", entities=(Entity.of("cidr", "2001:db8::/32"),))
    bundle = json.loads(case_stix(store.case(case), store.evidence(case)))
    assert [o["pattern"] for o in bundle["objects"] if o["type"] == "indicator"] == [
        "[ipv6-addr:value = '2001:db8::/32']"
    ]
