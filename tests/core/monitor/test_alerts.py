"""Alert rules and the alert engine, on a real warehouse file."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.cases import local_host
from core.cases.store import CaseStore
from core.monitor.alerts import DEFAULT_RULES, AlertEngine, AlertRule, AlertRuleError, rules_frame, rules_from_frame
from core.monitor.store import HostStore
from core.warehouse import Warehouse


@pytest.fixture
def warehouse(warehouse: Warehouse) -> HostStore:
    """The host monitor's store over a new warehouse file."""
    return HostStore(warehouse)


T0 = datetime(2026, 11, 23, 12, 0, 0)


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_rule_fires_after_its_duration_once_and_clears_with_hysteresis(warehouse: HostStore) -> None:
    rule = AlertRule("CPU busy", "cpu.total", 80, duration_s=120, hysteresis=5, severity="high", action="look")
    engine = AlertEngine(warehouse, max_gap_s=300)
    assert engine.evaluate(_at(0), {"cpu.total": 90}, [rule]) == []
    assert engine.evaluate(_at(60), {"cpu.total": 95}, [rule]) == []
    opened = engine.evaluate(_at(120), {"cpu.total": 91}, [rule])
    assert [e.kind for e in opened] == ["opened"]
    assert engine.evaluate(_at(125), {"cpu.total": 99}, [rule]) == []  # deduplicated, peak raised
    assert engine.evaluate(_at(130), {"cpu.total": 77}, [rule]) == []  # inside the hysteresis band
    closed = engine.evaluate(_at(135), {"cpu.total": 74}, [rule])
    assert [e.kind for e in closed] == ["closed"]
    row = warehouse.alerts().iloc[0]
    assert row.started_at == _at(0) and row.ended_at == _at(135)
    assert row.peak == 99 and row.severity == "high" and row.action == "look"
    assert "cpu.total > 80 for 120 s" in row.message


def test_a_dip_restarts_the_duration(warehouse: HostStore) -> None:
    rule = AlertRule("r", "m", 10, duration_s=30)
    engine = AlertEngine(warehouse, max_gap_s=60)
    for second, value in [(0, 11), (20, 9), (25, 11), (50, 12)]:
        assert engine.evaluate(_at(second), {"m": value}, [rule]) == []
    assert engine.evaluate(_at(55), {"m": 12}, [rule])[0].kind == "opened"


def test_open_alerts_survive_a_restart_and_acknowledgement_is_kept(warehouse: HostStore) -> None:
    rule = AlertRule("disk", "disk.used_percent", 90)
    AlertEngine(warehouse).evaluate(_at(0), {"disk.used_percent": 95}, [rule])
    restarted = AlertEngine(warehouse)
    assert restarted.evaluate(_at(10), {"disk.used_percent": 96}, [rule]) == []  # no duplicate after restart
    alert_id = int(warehouse.alerts(open_only=True).id.iloc[0])
    warehouse.acknowledge_alert(alert_id, _at(20))
    warehouse.acknowledge_alert(alert_id, _at(30))
    assert warehouse.alerts().acknowledged_at.iloc[0] == _at(20)
    assert restarted.evaluate(_at(40), {"disk.used_percent": 50}, [rule])[0].kind == "closed"
    assert warehouse.alerts(open_only=True).empty


def test_disabled_rules_and_missing_metrics_do_nothing(warehouse: HostStore) -> None:
    rule = AlertRule("off", "cpu.total", 1, enabled=False)
    engine = AlertEngine(warehouse)
    assert engine.evaluate(_at(0), {"cpu.total": 50}, [rule]) == []
    assert engine.evaluate(_at(0), {}, [AlertRule("on", "cpu.total", 1)]) == []
    assert warehouse.alerts().empty


def test_rules_round_trip_through_the_warehouse(warehouse: HostStore) -> None:
    warehouse.replace_alert_rules(rules_frame(DEFAULT_RULES))
    assert rules_from_frame(warehouse.alert_rules()) == sorted(DEFAULT_RULES, key=lambda r: r.name)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"name": "", "metric": "m", "threshold": 1}, "name"),
        ({"name": "a", "metric": "", "threshold": 1}, "metric"),
        ({"name": "a", "metric": "m", "threshold": "high"}, "threshold must be a number"),
        ({"name": "a", "metric": "m", "threshold": 1, "duration_s": -5}, "negative"),
        ({"name": "a", "metric": "m", "threshold": 1, "severity": "panic"}, "severity"),
    ],
)
def test_bad_rules_get_clear_messages(row: dict, message: str) -> None:
    with pytest.raises(AlertRuleError, match=message):
        rules_from_frame(pd.DataFrame([row]))


def test_duplicate_rule_names_are_refused_and_nothing_is_saved(warehouse: HostStore) -> None:
    warehouse.replace_alert_rules(rules_frame(DEFAULT_RULES))
    frame = pd.DataFrame([{"name": "x", "metric": "m", "threshold": 1}] * 2)
    with pytest.raises(AlertRuleError, match="unique"):
        warehouse.replace_alert_rules(rules_frame(rules_from_frame(frame)))  # the page's save path
    assert len(warehouse.alert_rules()) == len(DEFAULT_RULES)


def test_blank_cells_of_a_new_editor_row_are_refused_not_read_as_nan(warehouse: HostStore) -> None:
    warehouse.replace_alert_rules(rules_frame(DEFAULT_RULES))
    frame = warehouse.alert_rules().astype({"enabled": object})
    frame.loc[len(frame)] = [None, None, 5.0, 0.0, 0.0, "info", None, None]
    with pytest.raises(AlertRuleError, match=r"Row 5: .*name"):
        rules_from_frame(frame)
    frame.loc[len(frame) - 1, ["name", "metric"]] = ["new", "cpu.total"]
    new = rules_from_frame(frame)[-1]
    assert new.action == "" and new.enabled


def test_disabling_renaming_or_deleting_a_rule_closes_its_open_alert(warehouse: HostStore) -> None:
    engine = AlertEngine(warehouse)
    rule = AlertRule("d", "m", 5)
    engine.evaluate(_at(0), {"m": 10}, [rule])
    closed = engine.evaluate(_at(1), {"m": 10}, [AlertRule("d", "m", 5, enabled=False)])
    assert [e.kind for e in closed] == ["closed"] and warehouse.alerts(open_only=True).empty
    engine.evaluate(_at(2), {"m": 10}, [rule])
    renamed = engine.evaluate(_at(3), {"m": 10}, [AlertRule("d2", "m", 5)])
    assert sorted(e.kind for e in renamed) == ["closed", "opened"]
    assert list(warehouse.alerts(open_only=True).rule) == ["d2"]
    engine.evaluate(_at(4), {"m": 10}, [])
    assert warehouse.alerts(open_only=True).empty


def test_missing_readings_and_gaps_restart_the_duration_and_the_peak(warehouse: HostStore) -> None:
    rule = AlertRule("r", "m", 10, duration_s=10)
    engine = AlertEngine(warehouse, max_gap_s=5)
    engine.evaluate(_at(0), {"m": 100}, [rule])
    engine.evaluate(_at(3), {}, [rule])  # the metric is missing: start again
    assert engine.evaluate(_at(6), {"m": 20}, [rule]) == []
    assert engine.evaluate(_at(12), {"m": 20}, [rule]) == []  # 6 s apart: a gap, start again
    assert engine.evaluate(_at(16), {"m": 20}, [rule]) == []
    assert engine.evaluate(_at(20), {"m": 30}, [rule]) == []
    opened = engine.evaluate(_at(22), {"m": 25}, [rule])
    assert [e.kind for e in opened] == ["opened"]
    row = warehouse.alerts().iloc[0]
    assert row.started_at == _at(12) and row.peak == 30  # the early spike of 100 is not this alert's peak


def test_an_alert_open_for_hours_shows_in_a_short_window(warehouse: HostStore) -> None:
    engine = AlertEngine(warehouse)
    engine.evaluate(_at(0), {"disk": 95}, [AlertRule("disk", "disk", 90)])
    assert len(warehouse.alerts(since=_at(7200))) == 1
    engine.evaluate(_at(7201), {"disk": 50}, [AlertRule("disk", "disk", 90)])  # a 2 s gap: fine, it closes
    assert len(warehouse.alerts(since=_at(7200))) == 1 and warehouse.alerts(since=_at(7300)).empty


def test_duplicate_open_alerts_of_one_rule_are_reduced_to_the_newest_on_restart(warehouse: HostStore) -> None:
    for second in (0, 5):
        warehouse.open_alert(rule="x", metric="m", severity="info", message="", action="", started_at=_at(second),
                             peak=1.0)  # fmt: skip
    engine = AlertEngine(warehouse)
    assert len(warehouse.alerts(open_only=True)) == 1
    assert engine.evaluate(_at(6), {"m": 0}, [AlertRule("x", "m", 0.5)])[0].kind == "closed"
    assert warehouse.alerts(open_only=True).empty


@given(
    st.one_of(
        st.integers(min_value=10**15 + 1, max_value=10**600),
        st.integers(max_value=-(10**15) - 1, min_value=-(10**600)),
        st.floats(allow_nan=True, allow_infinity=True).filter(lambda v: not abs(v) <= 1e15),
        st.text(max_size=20),
        st.booleans(),
    )
)
def test_any_threshold_out_of_bounds_is_a_rule_error_never_a_crash(threshold: object) -> None:
    with pytest.raises(AlertRuleError):
        AlertRule("r", "cpu.total", threshold)  # type: ignore[arg-type]
    row = {"name": "r", "metric": "cpu.total", "threshold": threshold}
    if not isinstance(threshold, bool) and not (isinstance(threshold, str) and _parses_in_bounds(threshold)):
        with pytest.raises(AlertRuleError, match="Row 1: Rule r: the threshold must be a number"):
            rules_from_frame(pd.DataFrame([row], dtype=object))


def _parses_in_bounds(text: str) -> bool:
    try:
        return abs(float(text)) <= 1e15
    except (ValueError, OverflowError):
        return False


def test_each_opened_alert_is_one_signal_on_this_host_that_links_back(warehouse: HostStore) -> None:
    rule = AlertRule("Disk full", "disk.used_percent", 90, duration_s=0, severity="warning", action="clean up")
    engine = AlertEngine(warehouse, max_gap_s=300)
    engine.evaluate(_at(0), {"disk.used_percent": 95}, [rule])
    engine.evaluate(_at(10), {"disk.used_percent": 97}, [rule])  # the same alert: no second signal
    alert_id = int(warehouse.alerts().id.iloc[0])
    signals = CaseStore(warehouse.warehouse).entity_signals("host", local_host())
    assert len(signals) == 1
    signal = signals.iloc[0]
    assert (signal.source, signal.rule, signal.severity) == ("host monitor", "Disk full", "medium")
    assert signal.ts == _at(0) and signal.link == f"host_monitor?alert={alert_id}"
    assert json.loads(signal.evidence)["metric"] == "disk.used_percent"
