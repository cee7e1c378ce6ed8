"""Benchmark: the host sampler's own cost at a 1 s interval, and the live panel's work with 24 h of 1 s samples.

    python bench/monitor.py [--seconds 60] [--metrics 20]

1. Sampler: runs for `seconds` at 1 s into a temporary warehouse file (process snapshots every 10 s, batches every
   5 s, retention every 60 s) and reports its thread's CPU time as a share of one core (target < 2 %), with the
   whole process's CPU share over the same time against an idle process (the baseline).
2. 24 h: a warehouse holding 24 h of 1 s samples of `metrics` metrics; the live panel's work for the 24-hour window
   (query with 58 s buckets, four metrics scored by each detector, four figures) and for the 15-minute window, median
   of 5 (a refresh every 2 s stays responsive below 1 s).
Prints one JSON line per part.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import psutil

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from core.monitor.detectors import DETECTORS  # noqa: E402
from core.monitor.sampler import HostSampler, utc_now  # noqa: E402
from core.monitor.store import HostStore  # noqa: E402
from core.monitor.views import chart_bucket_seconds, metric_figure, score_series  # noqa: E402
from core.warehouse import Warehouse  # noqa: E402

PANEL_METRICS = ["cpu.total", "memory.used_percent", "load.1m", "net.recv_bytes_per_s"]


def _process_cpu() -> float:
    times = psutil.Process().cpu_times()
    return times.user + times.system


def sampler_overhead(seconds: float, folder: Path) -> dict:
    idle_start, wall = _process_cpu(), time.monotonic()
    time.sleep(min(seconds, 10))
    idle_share = (_process_cpu() - idle_start) / (time.monotonic() - wall)
    warehouse = Warehouse(folder / "sampler.duckdb")
    sampler = HostSampler(warehouse, interval=1.0)
    cpu_start, wall = _process_cpu(), time.monotonic()
    sampler.start()
    time.sleep(seconds)
    sampler.stop()
    elapsed = time.monotonic() - wall
    process_share = (_process_cpu() - cpu_start) / elapsed
    line = {
        "part": "sampler at 1 s",
        "seconds": round(elapsed, 1),
        "readings": sampler.stats.readings,
        "samples_written": HostStore(warehouse).host_sample_count(),
        "sampler_thread_cpu_percent_of_core": round(100 * sampler.overhead(), 3),
        "process_cpu_percent_of_core": round(100 * process_share, 3),
        "idle_process_cpu_percent_of_core": round(100 * idle_share, 3),
        "target_percent": 2.0,
        "errors": sampler.stats.last_error,
    }
    warehouse.close()
    return line


def day_of_samples(warehouse: Warehouse, metrics: int) -> int:
    now = utc_now().replace(microsecond=0)
    ts = pd.date_range(now - timedelta(hours=24), now, freq="1s", inclusive="left")
    rng = np.random.default_rng(0)
    names = PANEL_METRICS + [f"cpu.core{i}" for i in range(metrics - len(PANEL_METRICS))]
    for name in names:
        values = np.clip(30 + 10 * np.sin(np.arange(len(ts)) / 3600) + rng.normal(0, 5, len(ts)), 0, 100)
        HostStore(warehouse).append_host_samples(pd.DataFrame({"ts": ts, "metric": name, "value": values}))
    return len(ts) * len(names)


def panel_seconds(warehouse: Warehouse, span: timedelta, repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        bucket = chart_bucket_seconds(span)
        frame = HostStore(warehouse).host_series(PANEL_METRICS, utc_now() - span, bucket_seconds=bucket)
        for metric in PANEL_METRICS:
            for detector in DETECTORS:
                scored = score_series(frame[frame.metric == metric], detector, step_seconds=bucket)
            metric_figure(scored, metric).to_json()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--metrics", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        print(json.dumps(sampler_overhead(args.seconds, Path(folder))), flush=True)
        warehouse = Warehouse(Path(folder) / "day.duckdb")
        start = time.perf_counter()
        rows = day_of_samples(warehouse, args.metrics)
        fill = time.perf_counter() - start
        line = {"part": "live panel with 24 h of 1 s samples", "rows": rows, "fill_s": round(fill, 1)}
        for name, span in (("24h", timedelta(hours=24)), ("1h", timedelta(hours=1)), ("15min", timedelta(minutes=15))):
            line[f"panel_{name}_s"] = round(panel_seconds(warehouse, span), 3)
        line["refresh_every_s"] = 2
        print(json.dumps(line), flush=True)
        warehouse.close()


if __name__ == "__main__":
    main()
