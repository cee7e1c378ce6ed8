"""Benchmark: CSV ingest into the warehouse against pandas.read_csv of the same file, in the same run.

    python bench/ingest.py [--rows 1000000] [--repeats 3]

Generates a rows x 12 CSV (integers, floats, text, timestamps, booleans, about 5 % empty cells in three columns),
then times, alternately and each in a fresh process (so peak RSS is its own), `Warehouse.ingest_csv` into a new
DuckDB file and `pandas.read_csv`. Prints one JSON line: medians, rows/s, peak RSS and the ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent
TARGET_ROWS_PER_S = 1_000_000


def generate(path: Path, rows: int, seed: int = 0) -> None:
    """Write the benchmark CSV: 12 columns of mixed types with empty cells."""
    rng = np.random.default_rng(seed)
    start = np.datetime64("2024-01-01T00:00:00")
    octets = rng.integers(0, 256, size=(rows, 3))
    frame = pd.DataFrame(
        {
            "id": np.arange(rows),
            "ts": (start + rng.integers(0, 365 * 86_400, rows).astype("timedelta64[s]")).astype(str),
            "src_ip": [f"10.{a}.{b}.{c}" for a, b, c in octets],
            "port": rng.integers(1, 65_536, rows),
            "bytes": rng.lognormal(8, 2, rows).round(2),
            "lat": rng.uniform(-90, 90, rows).round(5),
            "lon": rng.uniform(-180, 180, rows).round(5),
            "proto": rng.choice(["tcp", "udp", "icmp"], rows),
            "country": rng.choice(["US", "DE", "CN", "RU", "BR", "IN", "FR"], rows),
            "score": rng.random(rows).round(4),
            "user_agent": rng.choice(["Mozilla/5.0 (X11; Linux)", "curl/8.1", "python-requests/2.31"], rows),
            "flag": rng.choice(["true", "false"], rows),
        }
    )
    for column in ("bytes", "country", "score"):
        frame[column] = frame[column].astype(object).where(rng.random(rows) >= 0.05, None)
    frame.to_csv(path, index=False)


def worker(kind: str, csv_path: Path, folder: Path) -> None:
    """Run one timed load in this process and print its figures as JSON."""
    if kind == "ctas":
        from core.warehouse import IngestLimits, Warehouse

        warehouse = Warehouse(folder / f"bench-{time.time_ns()}.duckdb")
        began = time.perf_counter()
        info = warehouse.ingest_csv(csv_path, "bench", limits=IngestLimits(max_bytes=2**31))
        seconds = time.perf_counter() - began
        rows = info.rows
        warehouse.close()
    else:
        began = time.perf_counter()
        frame = pd.read_csv(csv_path, parse_dates=["ts"]) if kind == "pandas_typed" else pd.read_csv(csv_path)
        seconds = time.perf_counter() - began
        rows = len(frame)
    print(json.dumps({"seconds": seconds, "rows": rows, "peak_rss_mib": _peak_rss_mib()}))


def _peak_rss_mib() -> float:
    """This process's peak resident set (VmHWM; unlike ru_maxrss it does not carry over from the parent)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("VmHWM not found in /proc/self/status")


def run(kind: str, csv_path: Path, folder: Path) -> dict:
    result = subprocess.run(
        [sys.executable, __file__, "--worker", kind, "--csv", str(csv_path), "--folder", str(folder)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def summary(runs: list[dict]) -> dict:
    seconds = statistics.median(r["seconds"] for r in runs)
    return {
        "seconds_median": round(seconds, 3),
        "rows_per_s": round(runs[0]["rows"] / seconds),
        "peak_rss_mib": round(max(r["peak_rss_mib"] for r in runs), 1),
        "runs_s": [round(r["seconds"], 3) for r in runs],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--worker", choices=["ctas", "pandas", "pandas_typed"])
    parser.add_argument("--csv", type=Path)
    parser.add_argument("--folder", type=Path)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.csv, args.folder)
        return
    with tempfile.TemporaryDirectory(prefix="ctas-bench-") as tmp:
        folder = Path(tmp)
        csv_path = folder / "events.csv"
        generate(csv_path, args.rows)
        results: dict[str, list[dict]] = {"ctas": [], "pandas": [], "pandas_typed": []}
        for _ in range(args.repeats):
            for kind, runs in results.items():
                runs.append(run(kind, csv_path, folder))
        ctas, pandas_plain, pandas_typed = (summary(results[k]) for k in ("ctas", "pandas", "pandas_typed"))
        print(
            json.dumps(
                {
                    "bench": "ingest",
                    "rows": args.rows,
                    "columns": 12,
                    "file_mib": round(csv_path.stat().st_size / 2**20, 1),
                    "ctas_ingest_csv": ctas,
                    "pandas_read_csv": pandas_plain,
                    "pandas_read_csv_parse_dates": pandas_typed,
                    "ratio_vs_pandas_read_csv": round(ctas["rows_per_s"] / pandas_plain["rows_per_s"], 3),
                    "ratio_vs_pandas_parse_dates": round(ctas["rows_per_s"] / pandas_typed["rows_per_s"], 3),
                    "target_rows_per_s": TARGET_ROWS_PER_S,
                    "meets_rows_per_s_target": ctas["rows_per_s"] >= TARGET_ROWS_PER_S,
                }
            )
        )


if __name__ == "__main__":
    main()
