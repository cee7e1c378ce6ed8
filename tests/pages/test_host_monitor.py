"""Host monitor page: live charts from the real host, an alert from a rule set below current CPU, acknowledgement,
the rules editor's validation, and the analysis of a NAB metric file with its labelled window."""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.monitor.alerts import AlertRule, rules_frame
from core.monitor.detectors import DETECTORS
from core.monitor.sampler import HostSampler, sampler_for
from core.monitor.store import HostStore
from core.warehouse import open_warehouse, resolve_path
from tests.waiting import wait_until


@pytest.fixture(autouse=True)
def _stop_samplers() -> Iterator[None]:
    """Each AppTest run starts a sampler for its own warehouse; stop them all afterwards."""
    yield
    for sampler in [o for o in gc.get_objects() if isinstance(o, HostSampler)]:
        sampler.stop()


def _wait(condition) -> None:
    wait_until(condition, timeout=20, what="the sampler's write")


def test_live_charts_fill_as_the_sampler_records(app) -> None:
    at = app("pages/host_monitor.py")
    warehouse = open_warehouse(resolve_path())
    _wait(lambda: HostStore(warehouse).host_sample_count() > 40)  # flushes every 5 s
    at.run()
    assert not at.exception
    at.multiselect(key="mon_metrics").set_value(["cpu.total", "memory.used_percent"]).run()
    charts = at.get("plotly_chart")
    assert len(charts) == 2
    tiles = {m.label: m.value for m in at.main.metric}
    assert 0 <= float(tiles["Memory used (%)"].replace(",", "")) <= 100
    assert "sampling every second" in at.caption[0].value
    tables = [d for d in at.main.dataframe if d.key != "mon_rules"]
    assert len(tables) == 2  # top processes and the window summary
    assert not tables[0].value.empty
    assert set(tables[1].value["metric"]) == {"CPU (%)", "Memory used (%)"}


def test_rule_below_current_cpu_fires_and_can_be_acknowledged(app) -> None:
    at = app("pages/host_monitor.py")
    warehouse = open_warehouse(resolve_path())
    HostStore(warehouse).replace_alert_rules(
        rules_frame([AlertRule("CPU above -1", "cpu.total", -1.0, severity="high")])
    )
    _wait(lambda: not HostStore(warehouse).alerts().empty)
    at.run()
    assert any("CPU above -1" in md.value for md in at.main.markdown)
    assert any(s.value.startswith("Alerts · 1 open") for s in at.subheader)
    alert_id = int(HostStore(warehouse).alerts().id.iloc[0])
    at.button(key=f"mon_ack_{alert_id}").click().run()
    assert not at.exception
    assert HostStore(warehouse).alerts().acknowledged_at.notna().all()
    assert any("acknowledged" in md.value for md in at.main.markdown)


def test_rules_editor_refuses_a_bad_rule_and_keeps_the_saved_ones(app) -> None:
    at = app("pages/host_monitor.py")
    warehouse = open_warehouse(resolve_path())
    before = HostStore(warehouse).alert_rules()
    assert len(before) == 4  # the defaults: CPU, memory, disk, CPU anomaly rate
    at.session_state["mon_rules"] = {"edited_rows": {1: {"severity": "panic"}}, "added_rows": [], "deleted_rows": []}
    at.button(key="mon_save_rules").click().run()
    assert any("severity must be one of" in e.value for e in at.error)
    assert HostStore(warehouse).alert_rules().equals(before)


def test_metric_file_mode_scores_a_nab_file_with_its_window(app, shared_data: Path) -> None:
    at = app("pages/host_monitor.py")
    at.segmented_control(key="mon_mode").set_value("Analyse a metric file").run()
    name = "realAWSCloudwatch/ec2_cpu_utilization_5f5533.csv"
    windows = json.loads((shared_data / "nab" / "labels" / "combined_windows.json").read_text())[name]
    at.file_uploader(key="mon_file").upload("cpu.csv", (shared_data / "nab" / "data" / name).read_bytes(), "text/csv")
    at.file_uploader(key="mon_labels").upload("windows.json", json.dumps(windows).encode(), "application/json").run()
    assert not at.exception
    table = at.main.dataframe[0].value.set_index("detector")
    assert set(table.index) == set(DETECTORS)
    assert table.loc["novelty", "standard"] > 1.0  # both windows found early, few false positives
    assert len(at.get("plotly_chart")) == len(DETECTORS)  # one chart a detector


def test_metric_file_without_the_columns_gets_a_clear_error(app) -> None:
    at = app("pages/host_monitor.py")
    at.segmented_control(key="mon_mode").set_value("Analyse a metric file").run()
    at.file_uploader(key="mon_file").upload("x.csv", b"time,val\n1,2\n", "text/csv").run()
    assert any("Expected the columns timestamp and value" in e.value for e in at.error)


def test_sampling_toggle_stops_and_restarts_the_shared_sampler(app) -> None:
    at = app("pages/host_monitor.py")
    sampler = sampler_for(open_warehouse(resolve_path()))
    assert sampler.running
    at.toggle(key="mon_sampling").set_value(False).run()
    assert not sampler.running and "sampling stopped" in at.caption[0].value
    at.toggle(key="mon_sampling").set_value(True).run()
    assert sampler.running and at.toggle(key="mon_sampling").value


def test_the_default_detector_is_the_best_cross_validated_one_and_each_says_its_figure(app) -> None:
    """The live picker offers the detectors fast enough for a live chart, the best cross-validated one first."""
    from core.monitor.detectors import CROSS_VALIDATED_NAB, LIVE_DETECTORS, MEMORY_DETECTORS

    at = app("pages/host_monitor.py")
    picker = at.selectbox(key="mon_detector")
    assert picker.value == max(CROSS_VALIDATED_NAB, key=CROSS_VALIDATED_NAB.get)
    assert set(picker.options) == set(LIVE_DETECTORS) == set(CROSS_VALIDATED_NAB) - set(MEMORY_DETECTORS)
    for name in LIVE_DETECTORS:
        assert f"{name}: " in picker.help and f"NAB {CROSS_VALIDATED_NAB[name]:.1f}, cross-validated" in picker.help
    assert all(f"{name} (NAB {CROSS_VALIDATED_NAB[name]:.1f})" in picker.help for name in MEMORY_DETECTORS)
