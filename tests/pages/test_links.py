"""A signal's link reopens the page that raised it in the state that produced it: the match run on Intel, the
dataset and resolution on the Threat map, the alert on the Host monitor, the user on Behaviour."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import parse_qsl

from streamlit.testing.v1 import AppTest

from core.geo.analysis import ThreatMapSettings, analyse
from core.geo.events import detect_mapping
from core.intel import service
from core.intel.store import IntelStore
from core.monitor.store import HostStore
from core.warehouse import open_warehouse, resolve_path
from tests.conftest import REPO


def _open_link(link: str) -> AppTest:
    page, _, query = link.partition("?")
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120).run()
    for name, value in parse_qsl(query):
        at.query_params[name] = value
    at.switch_page(f"pages/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _links(source: str) -> list[str]:
    held = open_warehouse(resolve_path()).query("SELECT DISTINCT link FROM case_signals WHERE source = ?", [source])
    return sorted(held["link"])


def test_an_intel_signal_reopens_its_match_run(app) -> None:
    app("pages/home.py")  # loads the samples
    store = IntelStore(open_warehouse(resolve_path()))
    service.load_upload(store, "analyst", "analyst.csv", b"value,family\n61.131.218.218,agenttesla\n")
    first = service.match_dataset(store, "honeypot_events_2013", {"srcstr": "ipv4"}).run_id
    service.match_dataset(store, "honeypot_events_2013", {"srcstr": "ipv4"})  # a later run is the default view
    link = f"intel?run={first}"
    assert _links("intel") == ["intel?run=1", "intel?run=2"] and link == "intel?run=1"
    at = _open_link(link)
    assert at.session_state["intel_dataset"] == "honeypot_events_2013"
    assert any(f"match run {first} of honeypot" in i.value for i in at.info)
    assert any(s.value.startswith(f"Run {first}:") for s in at.success)


def test_a_hot_spot_signal_reopens_its_dataset_and_resolution(app) -> None:
    app("pages/home.py")
    warehouse = open_warehouse(resolve_path())
    dataset = warehouse.dataset("honeypot_events_2013")
    analyse(warehouse, dataset.name, detect_mapping([c.name for c in dataset.columns]), ThreatMapSettings(res=4))
    (link,) = _links("threat map")
    at = _open_link(link)
    assert at.session_state["geo_dataset"] == "honeypot_events_2013" and at.slider(key="geo_res").value == 4


def test_a_host_alert_signal_reopens_the_monitor_on_that_alert(app) -> None:
    app("pages/home.py")
    alert = HostStore(open_warehouse(resolve_path())).open_alert(
        rule="Disk full", metric="disk.used_percent", severity="high", message="disk.used_percent > 90: now 97",
        action="clean up", started_at=datetime(2026, 12, 1, 9), peak=97.0,
    )  # fmt: skip
    (link,) = _links("host monitor")
    assert link == f"host_monitor?alert={alert}"
    at = _open_link(link)
    assert any(f"alert {alert}, **Disk full**" in i.value and "still open" in i.value for i in at.info)


def test_a_link_with_a_value_the_page_does_not_hold_is_ignored(app) -> None:
    app("pages/home.py")
    at = _open_link("intel?run=%C2%B2")  # a superscript two is a digit to str.isdigit, not to int()
    assert not any("Opened from Investigations" in i.value for i in at.info)
    at = _open_link("intel?run=99999")
    assert not any("Opened from Investigations" in i.value for i in at.info)
    assert "intel_show_run" not in at.session_state
    at = _open_link("threat_map?dataset=" + "x" * 500 + "&res=99")
    assert at.session_state["geo_dataset"] != "x" * 500
