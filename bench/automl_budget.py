"""Benchmark: is the AutoML CLI's budget the process's wall time, under load too?

    python bench/automl_budget.py [--budgets 20,30] [--data ../shared/data/automl/car.csv --target class]

Runs `python -m core.automl run ... --budget B --json` once idle and once with one busy process per core beside it,
and prints one JSON line per run: budget, wall time measured from outside, the start-up and wall time the CLI
reports, and the overrun against the contract (budget + 10 % + start-up).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _spin(stop_at: float) -> None:
    while time.monotonic() < stop_at:
        pass


def run(data: Path, target: str, budget: float, loaded: bool) -> dict:
    hogs = []
    if loaded:
        stop_at = time.monotonic() + budget * 3
        hogs = [multiprocessing.Process(target=_spin, args=(stop_at,), daemon=True) for _ in range(os.cpu_count() or 1)]
        for hog in hogs:
            hog.start()
    command = [sys.executable, "-m", "core.automl", "run", str(data), "--target", target, "--budget", str(budget)]
    began = time.perf_counter()
    done = subprocess.run([*command, "--json"], cwd=REPO, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - began
    for hog in hogs:
        hog.terminate()
    reported = json.loads(done.stdout)
    allowed = budget * 1.1 + reported["startup_s"]
    return {
        "bench": "automl_budget",
        "loaded": loaded,
        "budget_s": budget,
        "wall_s": round(wall, 2),
        "reported_wall_s": reported["wall_s"],
        "startup_s": reported["startup_s"],
        "contract_s": round(allowed, 2),
        "within_contract": wall <= allowed,
        "trials": reported["trials"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budgets", default="20,30")
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "automl" / "car.csv")
    parser.add_argument("--target", default="class")
    args = parser.parse_args()
    for budget in (float(b) for b in args.budgets.split(",")):
        for loaded in (False, True):
            print(json.dumps(run(args.data, args.target, budget, loaded)), flush=True)


if __name__ == "__main__":
    main()
