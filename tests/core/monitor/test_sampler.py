"""The host sampler against the real host and a real warehouse file; retention and roll-ups."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pandas as pd

from core.monitor.alerts import AlertRule, rules_frame
from core.monitor.sampler import HostReader, HostSampler
from core.monitor.store import HostStore
from core.warehouse import Warehouse
from tests.waiting import wait_until


def test_reader_reports_every_metric_and_rates_from_the_second_reading() -> None:
    reader = HostReader()
    first = reader.read()
    expected = {"cpu.total", "cpu.core0", "load.1m", "memory.used_percent", "swap.used_percent", "disk.used_percent"}
    assert expected <= set(first)
    assert 0 <= first["memory.used_percent"] <= 100
    time.sleep(0.05)
    second = reader.read()
    assert second["net.recv_bytes_per_s"] >= 0 and "net.recv_bytes_per_s" not in first


def test_sampler_writes_batches_processes_and_fires_a_rule_below_current_cpu(warehouse: Warehouse) -> None:
    sampler = HostSampler(warehouse, interval=0.1, process_every=0.3, flush_every=0.3, retention_every=0.5)
    HostStore(warehouse).replace_alert_rules(rules_frame([AlertRule("always", "cpu.total", -1.0, severity="critical")]))
    sampler.start()
    try:
        wait_until(
            lambda: sampler.stats.flushes >= 3 and not HostStore(warehouse).alerts().empty,
            timeout=10,
            what="three flushes and an alert",
        )
    finally:
        sampler.stop()
    assert not sampler.running and sampler.stats.last_error == ""
    samples = HostStore(warehouse).host_series(["cpu.total", "memory.used_percent"], datetime(2000, 1, 1))
    assert samples.groupby("metric").size().min() >= 3
    assert not HostStore(warehouse).latest_processes().empty
    alerts = HostStore(warehouse).alerts()
    assert list(alerts.rule) == ["always"] and alerts.severity.iloc[0] == "critical"
    assert 0 < sampler.overhead() < 1


def test_retention_rolls_up_minutes_and_drops_old_raw_samples(warehouse: Warehouse) -> None:
    now = datetime(2026, 11, 23, 12, 0, 0)
    times = [now - timedelta(hours=30) + timedelta(seconds=s) for s in range(0, 180, 1)]
    times += [now - timedelta(minutes=5) + timedelta(seconds=s) for s in range(60)]
    frame = pd.DataFrame({"ts": times, "metric": "cpu.total", "value": [float(i % 60) for i in range(len(times))]})
    HostStore(warehouse).append_host_samples(frame)
    HostStore(warehouse).apply_host_retention(now, timedelta(hours=24), timedelta(days=30))
    assert HostStore(warehouse).host_sample_count() == 60
    series = HostStore(warehouse).host_series(["cpu.total"], now - timedelta(days=2))
    old = series[series.ts < now - timedelta(hours=24)]
    assert len(old) == 3 and list(old.value) == [29.5, 29.5, 29.5]  # three 1-minute means of 0..59
    assert len(series) == 63
    per_minute = HostStore(warehouse).host_series(["cpu.total"], now - timedelta(hours=1), bucket_seconds=60)
    assert list(per_minute.value) == [29.5]  # the recent raw minute, averaged for a long-window chart
    HostStore(warehouse).apply_host_retention(now + timedelta(days=31), timedelta(hours=24), timedelta(days=30))
    assert HostStore(warehouse).host_series(["cpu.total"], now - timedelta(days=40)).empty
