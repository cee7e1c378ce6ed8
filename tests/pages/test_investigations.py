"""Investigations page: the queue ranks the corroborated entity first with its terms, a case opens from it, takes
evidence, a note and a resolution, and its downloads are offered; a suppression hides a noisy rule."""

from __future__ import annotations

from datetime import datetime

from core.cases import Entity, Signal, local_host, publish
from core.cases.store import CaseStore
from core.warehouse import open_warehouse, resolve_path

HOST = local_host()


def _publish() -> None:
    host = Entity.of("host", HOST)
    now = datetime.now()
    publish(open_warehouse(resolve_path()), [
        Signal("host monitor", "host alert", "CPU busy", "h1", now, "high", f"{HOST}: CPU 97 %", (host,)),
        Signal("behaviour", "trust state", "NORMAL to LOCKED", "b1", now, "critical", "alice locked",
               (Entity.of("user", "alice"), host), link="behaviour?user=alice"),
        *[Signal("intel", "intel match", "ipsum", f"i{i}", now, "high", f"198.51.100.{i} listed",
                 (Entity.of("ip", f"198.51.100.{i}"),)) for i in range(20)],
    ])  # fmt: skip


def _metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.main.metric}


def test_the_corroborated_host_leads_the_queue_and_becomes_a_closed_case(app) -> None:
    _publish()
    at = app("pages/investigations.py")
    assert _metrics(at) == {"Signals": "22", "Entities ranked": "22", "Corroborated entities": "1",
                            "Suppressed signals": "0"}  # fmt: skip
    entities = at.main.dataframe[0].value
    assert entities.iloc[0]["value"] == HOST and "corroboration 2" in entities.iloc[0]["why"]
    assert at.selectbox(key="cases_pick_entity").value == ("host", HOST)
    at.button(key="cases_open_entity").click().run()
    assert not at.exception and at.session_state["cases_view"] == "Cases"
    assert _metrics(at) == {"Status": "open", "Resolution": "—", "Owner": "analyst", "Evidence": "1", "Notes": "0"}
    at.multiselect(key="cases_evidence_pick").set_value([("intel", "ipsum", "ip", "198.51.100.0")])
    at.button(key="FormSubmitter:cases_evidence-Add evidence").click().run()
    at.text_area(key="cases_note_text").input("Called alice: it was not her.")
    at.button(key="FormSubmitter:cases_note-Add note").click().run()
    at.selectbox(key="cases_status_1").set_value("closed")
    at.selectbox(key="cases_resolution_1").set_value("true positive")
    at.button(key="FormSubmitter:cases_state-Update").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert _metrics(at) == {"Status": "closed", "Resolution": "true positive", "Owner": "analyst", "Evidence": "2",
                            "Notes": "1"}  # fmt: skip
    audit = CaseStore(open_warehouse(resolve_path())).audit(1)
    assert list(audit["action"]) == ["opened", "evidence added", "evidence added", "note added", "status changed"]
    labels = {b.proto.label for b in at.get("download_button")}
    assert {"Download report", "Download PDF", "Download STIX 2.1 bundle"} <= labels


def test_the_entity_view_shows_every_signal_and_a_suppression_hides_a_rule(app) -> None:
    _publish()
    at = app("pages/investigations.py")
    at.button(key="cases_show_entity").click().run()
    assert at.session_state["cases_view"] == "Entity"
    assert _metrics(at)["Signals"] == "2" and _metrics(at)["Capabilities"] == "2"
    assert len(at.get("plotly_chart")) == 2
    at.segmented_control(key="cases_view").set_value("Queue").run()
    at.selectbox(key="cases_suppress_row").set_value(("intel", "ipsum", "ip", "198.51.100.0"))
    at.text_input(key="cases_suppress_reason").input("our scanner")
    at.button(key="FormSubmitter:cases_suppress-Suppress").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert _metrics(at)["Suppressed signals"] == "1"
    assert "198.51.100.0" not in set(at.main.dataframe[0].value["value"])
    held = at.main.dataframe[-1].value
    assert list(held["reason"]) == ["our scanner"] and held["in_force"].all()


def test_an_entity_typed_wrong_gets_one_clear_message(app) -> None:
    at = app("pages/investigations.py")
    at.segmented_control(key="cases_view").set_value("Entity").run()
    at.selectbox(key="cases_entity_kind").set_value("ip")
    at.text_input(key="cases_entity_value").input("999.1.1.1").run()
    assert not at.exception
    assert any("is not a valid ip entity" in e.value for e in at.error)


def test_a_case_opens_from_chosen_signals_with_every_duplicate_frozen(app) -> None:
    _publish()
    publish(open_warehouse(resolve_path()), [
        Signal("intel", "intel match", "ipsum", f"again{i}", datetime.now(), "high", "198.51.100.3 again",
               (Entity.of("ip", "198.51.100.3"),)) for i in range(4)
    ])  # fmt: skip
    at = app("pages/investigations.py")
    at.multiselect(key="cases_signals_pick").set_value([("intel", "ipsum", "ip", "198.51.100.3")])
    at.button(key="FormSubmitter:cases_from_signals-Open a case from signals").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["cases_view"] == "Cases" and _metrics(at)["Evidence"] == "5"  # 1 + 4 duplicates


def test_switching_cases_never_carries_a_status_over(app) -> None:
    _publish()
    store = CaseStore(open_warehouse(resolve_path()))
    first = store.open_case("first", "ana", "ana")
    second = store.open_case("second", "ana", "ana")
    store.set_status(second, "closed", "ana", "benign")
    at = app("pages/investigations.py")
    at.segmented_control(key="cases_view").set_value("Cases").run()
    at.selectbox(key="cases_case").set_value(second).run()
    assert (_metrics(at)["Status"], _metrics(at)["Resolution"]) == ("closed", "benign")
    at.selectbox(key="cases_case").set_value(first).run()
    at.text_input(key=f"cases_owner_{first}").input("bo")
    at.button(key="FormSubmitter:cases_state-Update").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert store.case(first)["status"] == "open" and store.case(first)["owner"] == "bo"
