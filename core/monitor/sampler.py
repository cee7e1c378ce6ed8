"""The host sampler: psutil readings every second into the warehouse, in batches, with alerts and retention.

One sampler per process (the app owns it with `st.cache_resource`). A background thread reads system-wide counters
every `interval` seconds and the process table every `process_every` seconds (it costs 35–80 ms), writes batches
every `flush_every` seconds, evaluates the alert rules on every reading, and applies retention (raw for a day,
1-minute roll-ups for 30 days) every `retention_every` seconds. Its own CPU time is measured: `overhead()`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import psutil

from core.monitor.alerts import DEFAULT_RULES, AlertEngine, AlertRule, rules_frame, rules_from_frame
from core.monitor.detectors import RobustDetector, anomaly_rate
from core.monitor.store import HostStore
from core.tasks import CancelToken, Job
from core.warehouse import Warehouse

log = logging.getLogger(__name__)
TOP_PROCESSES = 15
ANOMALY_METRICS = ("cpu.total", "memory.used_percent")
ANOMALY_HISTORY = 900  # readings scored for the anomaly-rate metrics
ANOMALY_RATE_WINDOW = 60  # readings per anomaly-rate value
MAX_UNWRITTEN = 3600 * 20  # samples kept for a retry when the warehouse refuses a batch (about an hour)


RULES_SEEDED_KEY = "monitor.default_rules_seeded"


def seed_default_rules(warehouse: Warehouse) -> None:
    """Give a new warehouse the default alert rules, once (a rule set the analyst emptied stays empty)."""
    if warehouse.get_meta(RULES_SEEDED_KEY) is None:
        with warehouse.transaction():
            HostStore(warehouse).replace_alert_rules(rules_frame(DEFAULT_RULES))
            warehouse.set_meta(RULES_SEEDED_KEY, "1")


def utc_now() -> datetime:
    """Now in UTC, naive (as the warehouse stores times)."""
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass
class HostReader:
    """System-wide psutil readings; I/O and network counters become rates per second between two readings."""

    disk_path: str = "/"
    _last_counters: tuple[float, dict[str, float]] | None = None

    def read(self) -> dict[str, float]:
        """One reading of every metric (rates appear from the second reading on)."""
        values: dict[str, float] = {"cpu.total": psutil.cpu_percent(interval=None)}
        for core, percent in enumerate(psutil.cpu_percent(interval=None, percpu=True)):
            values[f"cpu.core{core}"] = percent
        load1, load5, load15 = psutil.getloadavg()
        values |= {"load.1m": load1, "load.5m": load5, "load.15m": load15}
        memory = psutil.virtual_memory()
        values |= {"memory.used_percent": memory.percent, "memory.available_gib": memory.available / 2**30}
        values["swap.used_percent"] = psutil.swap_memory().percent
        values["disk.used_percent"] = psutil.disk_usage(self.disk_path).percent
        values |= self._rates()
        return values

    def _rates(self) -> dict[str, float]:
        counters: dict[str, float] = {}
        disk = psutil.disk_io_counters()
        if disk is not None:
            counters |= {"disk.read_bytes_per_s": disk.read_bytes, "disk.write_bytes_per_s": disk.write_bytes}
        net = psutil.net_io_counters()
        if net is not None:  # None on a host without network interfaces
            counters |= {"net.recv_bytes_per_s": net.bytes_recv, "net.sent_bytes_per_s": net.bytes_sent}
        now = time.monotonic()
        rates: dict[str, float] = {}
        if self._last_counters is not None:
            then, previous = self._last_counters
            elapsed = max(now - then, 1e-6)
            for name, value in counters.items():
                if name in previous and value >= previous[name]:  # counters can wrap or reset
                    rates[name] = (value - previous[name]) / elapsed
        self._last_counters = (now, counters)
        return rates


def top_processes(limit: int = TOP_PROCESSES) -> pd.DataFrame:
    """The busiest processes by CPU (psutil caches the processes, so CPU shares are since the previous call)."""
    rows = []
    for process in psutil.process_iter(["pid", "name", "username", "cpu_percent", "memory_percent"]):
        info = process.info
        rows.append(
            {
                "pid": info["pid"],
                "name": info["name"] or "",
                "username": info["username"] or "",
                "cpu_percent": float(info["cpu_percent"] or 0.0),
                "memory_percent": float(info["memory_percent"] or 0.0),
            }
        )
    frame = pd.DataFrame(rows, columns=["pid", "name", "username", "cpu_percent", "memory_percent"])
    return frame.sort_values(["cpu_percent", "memory_percent"], ascending=False).head(limit)


@dataclass
class SamplerStats:
    """What the sampler has done since it started."""

    readings: int = 0
    flushes: int = 0
    alerts_opened: int = 0
    last_error: str = ""
    cpu_seconds: float = 0.0
    wall_seconds: float = 0.0


@dataclass
class HostSampler:
    """Samples the host into a warehouse on a background thread until `stop()`. Use `sampler_for` to get the
    process's one sampler of a warehouse."""

    warehouse: Warehouse
    interval: float = 1.0
    process_every: float = 10.0
    flush_every: float = 5.0
    retention_every: float = 60.0
    raw_for: timedelta = timedelta(hours=24)
    rollups_for: timedelta = timedelta(days=30)
    reader: HostReader = field(default_factory=HostReader)
    stats: SamplerStats = field(default_factory=SamplerStats)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _job: Job | None = None
    _history: dict[str, deque] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 0.05 <= self.interval <= 3600:
            raise ValueError(f"interval must lie between 0.05 s and an hour, got {self.interval}")
        seed_default_rules(self.warehouse)
        self.engine = AlertEngine(HostStore(self.warehouse), max_gap_s=max(10.0, 3 * self.interval))

    @property
    def running(self) -> bool:
        """Whether the sampling thread is alive."""
        return self._job is not None and not self._job.done

    def start(self) -> None:
        """Start sampling (no-op when running)."""
        with self._lock:
            if self.running:
                return
            self._job = Job(lambda job: self._run(job.token), label="host sampler").start(name="ctas-host-sampler")

    def stop(self, timeout: float = 10.0) -> None:
        """Stop sampling after writing what is buffered."""
        with self._lock:
            if self._job is not None:
                self._job.cancel()
                self._job.join(timeout)

    def overhead(self) -> float:
        """The sampler thread's CPU time as a share of one core over its wall time so far."""
        return self.stats.cpu_seconds / self.stats.wall_seconds if self.stats.wall_seconds > 0 else 0.0

    def _run(self, stop: CancelToken) -> None:
        started_cpu, started_wall = time.thread_time(), time.monotonic()
        batch = _Batch()
        next_tick = last_retention = time.monotonic()
        last_processes = next_tick - self.process_every + self.interval  # the first snapshot one interval in
        last_flush = next_tick
        rules: list[AlertRule] = []
        self._guard(top_processes)  # primes psutil's per-process CPU times, so that snapshot has shares
        self._guard(lambda: rules.extend(self._rules()))
        while not stop.is_set():
            now_mono, now = time.monotonic(), utc_now()
            try:
                readings = self.reader.read()
                readings |= self._anomaly_rates(readings)
                batch.samples.extend((now, name, value) for name, value in readings.items())
                self.stats.readings += 1
                if now_mono - last_processes >= self.process_every:
                    batch.processes.append(top_processes().assign(ts=now))
                    last_processes = now_mono
                events = self.engine.evaluate(now, readings, rules)
                self.stats.alerts_opened += sum(e.kind == "opened" for e in events)
                if now_mono - last_flush >= self.flush_every or self.stats.readings <= 2:  # show something at once
                    last_flush = now_mono
                    self._flush(batch)
                    rules = self._rules()
                if now_mono - last_retention >= self.retention_every:
                    last_retention = now_mono
                    HostStore(self.warehouse).apply_host_retention(now, self.raw_for, self.rollups_for)
            except Exception as error:  # keep sampling; the page shows the last error
                self._failed(error)
            self.stats.cpu_seconds = time.thread_time() - started_cpu
            self.stats.wall_seconds = time.monotonic() - started_wall
            next_tick = max(next_tick + self.interval, time.monotonic())  # after a stall, no burst to catch up
            stop.wait(max(0.0, next_tick - time.monotonic()))
        self._guard(lambda: self._flush(batch))

    def _guard(self, action: Callable[[], object]) -> None:
        try:
            action()
        except Exception as error:
            self._failed(error)

    def _failed(self, error: Exception) -> None:
        self.stats.last_error = f"{type(error).__name__}: {error}"
        log.exception("host sampler")

    def _flush(self, batch: _Batch) -> None:
        """Write the batch; if writing fails, keep at most MAX_UNWRITTEN readings' worth for the next try."""
        if not batch.samples and not batch.processes:
            return
        frame = pd.DataFrame(batch.samples, columns=["ts", "metric", "value"])
        snapshot = pd.concat(batch.processes, ignore_index=True) if batch.processes else None
        try:
            HostStore(self.warehouse).append_host_samples(frame, snapshot)
        except Exception:
            batch.samples = batch.samples[-MAX_UNWRITTEN:]
            batch.processes = batch.processes[-1:]
            raise
        batch.samples, batch.processes = [], []
        self.stats.flushes += 1

    def _rules(self) -> list[AlertRule]:
        try:
            return rules_from_frame(HostStore(self.warehouse).alert_rules())
        except ValueError as error:
            self.stats.last_error = str(error)
            return []

    def _anomaly_rates(self, readings: dict[str, float]) -> dict[str, float]:
        """Percent of the last minute's readings the robust detector flags, for a few key metrics."""
        rates = {}
        for metric in ANOMALY_METRICS:
            if metric not in readings:
                continue
            history = self._history.setdefault(metric, deque(maxlen=ANOMALY_HISTORY))
            history.append(readings[metric])
            if len(history) >= ANOMALY_RATE_WINDOW:
                scores = RobustDetector(window=ANOMALY_RATE_WINDOW * 5).score(np.fromiter(history, float))
                rates[f"anomaly_rate.{metric}"] = 100.0 * float(anomaly_rate(scores, ANOMALY_RATE_WINDOW)[-1])
        return rates


@dataclass
class _Batch:
    samples: list[tuple[datetime, str, float]] = field(default_factory=list)
    processes: list[pd.DataFrame] = field(default_factory=list)


_samplers: dict[str, HostSampler] = {}
_samplers_lock = threading.Lock()


def sampler_for(warehouse: Warehouse) -> HostSampler:
    """The process's one sampler of this warehouse (created and started on first use)."""
    with _samplers_lock:
        sampler = _samplers.get(warehouse.path)
        if sampler is None or sampler.warehouse is not warehouse:
            if sampler is not None:
                sampler.stop()
            sampler = _samplers[warehouse.path] = HostSampler(warehouse)
            sampler.start()
        return sampler
