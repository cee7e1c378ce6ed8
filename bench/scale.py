"""Benchmark: scale-out on Dask, one JSON line a figure.

    python bench/scale.py [--budget 60] [--repeats 3] [--parts startup cpu fbas geo automl]

Figures, each with 1 and 2 local worker processes (and, as the baseline, the same work with no cluster):
- AutoML: the same search (phoneme, random forests and extra trees, trials of a second or more) for `budget`
  seconds: complete trials per second, mean trial time and the best cross-validated and test scores; the no-cluster
  run fits two folds at a time on two threads, as the app does without a cluster;
- batch maps: the FBAS criticality sweep of the 2025 Stellar network (by organization, country and ISP), Gi* over
  every 4-week playback window of the 250,000-event honeypot set at resolutions 2 to 5, and 16 tasks of 0.5 s of
  CPU: median seconds of `repeats` and the parallel efficiency, time on 1 worker / (2 x time on 2 workers);
- start-up: what importing the scale-out modules adds to the app's imports without a cluster (their own import
  time), and whether dask was imported (it must not be).
"""

from __future__ import annotations

import argparse
import gzip
import importlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from timing import median_seconds

from core import compute
from core.automl.runner import run_experiment
from core.automl.search import SearchSettings
from core.compute import ComputeSetting, parallel_map
from core.fbas.batch import criticality_sweep
from core.fbas.model import loads
from core.fbas.snapshots import SNAPSHOTS
from core.geo.batch import batch_hotspots
from core.geo.events import detect_mapping
from core.warehouse import Warehouse

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "data"
CPU_TASK_S = 0.5


def emit(**figure: object) -> None:
    print(json.dumps(figure), flush=True)


def busy(seconds: float) -> float:
    """About `seconds` of pure CPU (a numpy loop; no sleeping, no I/O)."""
    began, total = time.perf_counter(), 0.0
    values = np.arange(20_000, dtype=np.float64)
    while time.perf_counter() - began < seconds:
        total += float(np.sqrt(values).sum())
    return total


def clusters() -> dict[str, object]:
    """None (no cluster) and local clusters of 1 and 2 worker processes, warmed up (imports done)."""
    handles: dict[str, object] = {"no cluster": None}
    for workers in (1, 2):
        handle = compute.open_client(ComputeSetting("local", workers))
        for module in ("core.automl.distributed", "core.fbas.batch", "core.geo.batch"):
            handle.run(importlib.import_module, module)
        handles[f"{workers} worker{'s' if workers > 1 else ''}"] = handle
    return handles


def automl_figures(handles: dict[str, object], budget: float) -> None:
    frame = pd.read_csv(SHARED / "automl" / "phoneme.csv")
    settings = SearchSettings(budget_s=budget, seed=0, families=("random_forest", "extra_trees"))
    rates = {}
    for label, handle in handles.items():
        experiment = run_experiment(frame, frame.columns[-1], settings=settings, handle=handle)
        done = [t for t in experiment.result.trials if t.state == "complete"]
        rates[label] = len(done) / experiment.elapsed_s
        emit(
            figure="automl trials", compute=label, budget_s=budget, complete_trials=len(done),
            trials_per_s=round(rates[label], 3),
            mean_trial_s=round(statistics.fmean(t.fit_s + t.predict_s for t in done), 2) if done else None,
            best_cv=round(experiment.result.model.cv_score, 4), test_score=round(experiment.test_score, 4),
            failed=sum(t.state == "failed" for t in experiment.result.trials),
        )  # fmt: skip
    emit(figure="automl trial throughput, 2 workers / 1 worker", ratio=round(rates["2 workers"] / rates["1 worker"], 2),
         against_no_cluster=round(rates["2 workers"] / rates["no cluster"], 2))  # fmt: skip


def batch_figure(name: str, handles: dict[str, object], work, repeats: int, tasks: int) -> None:
    seconds = {label: median_seconds(lambda h=handle: work(h), repeats) for label, handle in handles.items()}
    emit(
        figure=name, tasks=tasks, repeats=repeats,
        seconds={label: round(s, 3) for label, s in seconds.items()},
        mean_task_s=round(seconds["1 worker"] / tasks, 3),
        efficiency=round(seconds["1 worker"] / (2 * seconds["2 workers"]), 3),
        speedup_over_no_cluster=round(seconds["no cluster"] / seconds["2 workers"], 2),
    )  # fmt: skip


def honeypot_warehouse(folder: Path) -> tuple[Warehouse, object, object]:
    raw = folder / "marx.csv"
    with gzip.open(SHARED / "geo" / "aws_honeypot_marx_geo_2013-03_06.csv.gz") as packed, raw.open("wb") as out:
        shutil.copyfileobj(packed, out)
    warehouse = Warehouse(folder / "scale.duckdb")
    info = warehouse.ingest_csv(raw, "marx")
    dataset = warehouse.dataset(info.name)
    return warehouse, dataset, detect_mapping([c.name for c in dataset.columns])


SCALE_OUT_MODULES = ("core.compute", "core.fbas.batch", "core.geo.batch", "ui.fbas.batch", "ui.background")


def startup_figure() -> None:
    """What the scale-out modules add to the app's imports without a cluster: their import time (python -X
    importtime, cumulative, wherever each is first imported), median of 7 fresh processes; and that no dask module
    was imported. Whole-process timings of about 3 s differ by more than this from run to run here."""
    code = (
        "import streamlit, core.automl.runner, core.fbas.scan, core.geo.analysis, ui.errors, ui.common; "
        f"import {', '.join(SCALE_OUT_MODULES)}; import sys; "
        "assert not [m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')], 'dask was imported'"
    )
    added = []
    for _ in range(7):
        done = subprocess.run([sys.executable, "-X", "importtime", "-c", code], cwd=REPO, check=True, text=True,
                              capture_output=True, env={**os.environ, "CTAS_COMPUTE": "none"})  # fmt: skip
        cumulative = {
            parts[2].strip(): int(parts[1])
            for parts in (line.split("|") for line in done.stderr.splitlines() if line.startswith("import time:"))
            if parts[1].strip().isdigit()
        }
        added.append(sum(cumulative.get(m, 0) for m in SCALE_OUT_MODULES) / 1e6)
    emit(figure="app imports without a cluster: what the scale-out modules add (an upper bound: nested imports count "
         "under each)", added_s=round(statistics.median(added), 3), dask_imported=False)  # fmt: skip


def cpu_figures(handles: dict[str, object], repeats: int) -> None:
    cpu = [CPU_TASK_S] * 16
    batch_figure("batch map of 0.5 s CPU tasks", handles, lambda h: parallel_map(busy, cpu, handle=h), repeats,
                 len(cpu))  # fmt: skip


def fbas_figures(handles: dict[str, object], repeats: int) -> None:
    stellar = loads(*SNAPSHOTS[0].read())
    for grouping in ("organization", "country", "isp"):
        tasks = len(criticality_sweep(stellar, grouping))
        sweep = lambda h, g=grouping: criticality_sweep(stellar, g, handle=h)  # noqa: E731
        batch_figure(f"FBAS criticality sweep, 2025 network, by {grouping}", handles, sweep, repeats, tasks)


def geo_figures(handles: dict[str, object], repeats: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        os.environ["CTAS_SHARED_DIR"] = str(Path(folder) / "shared")
        warehouse, dataset, mapping = honeypot_warehouse(Path(folder))

        def playback(handle: object, progress: compute.BatchProgress | None = None) -> pd.DataFrame:
            return batch_hotspots(warehouse, dataset.name, mapping, version=str(dataset.created_at),
                                  width=pd.Timedelta(weeks=4), resolutions=(2, 3, 4, 5), handle=handle,
                                  progress=progress)  # fmt: skip

        progress = compute.BatchProgress()
        playback_run = playback(None, progress)  # also writes the Parquet export once, outside the timings
        tasks = progress.total
        emit(figure="Gi* playback windows", windows=len(playback_run), tasks=tasks)
        batch_figure("Gi* over every 4-week playback window, 250,000 events, resolutions 2-5", handles, playback,
                     repeats, tasks)  # fmt: skip
        warehouse.close()


PARTS = ("startup", "cpu", "fbas", "geo", "automl")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=60.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS))
    args = parser.parse_args()
    if "startup" in args.parts:
        startup_figure()
    handles = clusters()
    try:
        for part, figures in (("cpu", cpu_figures), ("fbas", fbas_figures), ("geo", geo_figures)):
            if part in args.parts:
                figures(handles, args.repeats)
        if "automl" in args.parts:
            automl_figures(handles, args.budget)
    finally:
        for handle in handles.values():
            if handle is not None:
                compute.close(handle)


if __name__ == "__main__":
    main()
