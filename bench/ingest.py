"""Benchmark: CSV ingest into the warehouse against the two ways an analyst would otherwise load the file, in one run.

    python bench/ingest.py [--rows 1000000] [--repeats 3]

Generates a rows x 12 CSV (integers, floats, text, timestamps, booleans, about 5 % empty cells in three columns),
then times, alternately and each in a fresh process (so peak RSS is its own), into a new DuckDB file each time:
(a) `Warehouse.ingest_csv` (format detection, malformed-row checks, catalogue entry, all or nothing);
(b) DuckDB's own `CREATE TABLE t AS SELECT * FROM read_csv(...)`;
(c) `pandas.read_csv`, then the frame written into a DuckDB table.
Prints one JSON line: medians, rows/s, peak RSS, the ratios (a)/(b) and (a)/(c) against the targets, and whether
(a) kept the file's row order.
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
TARGET_VS_DUCKDB = 0.95
TARGET_VS_PANDAS = 1.2
KINDS = ("ctas", "duckdb", "pandas_duckdb")


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
    import duckdb

    target = folder / f"bench-{kind}-{time.time_ns()}.duckdb"
    in_order = None
    if kind == "ctas":
        from core.warehouse import IngestLimits, Warehouse

        warehouse = Warehouse(target)
        began = time.perf_counter()
        info = warehouse.ingest_csv(csv_path, "bench", limits=IngestLimits(max_bytes=2**31))
        seconds = time.perf_counter() - began
        rows = info.rows
        ids = warehouse.cursor().execute('SELECT id FROM datasets."bench"').fetchnumpy()["id"]
        in_order = bool((np.diff(ids) == 1).all())
        warehouse.close()
    else:
        con = duckdb.connect(str(target))
        began = time.perf_counter()
        if kind == "duckdb":
            con.execute("CREATE TABLE t AS SELECT * FROM read_csv(?)", [str(csv_path)])
        else:
            frame = pd.read_csv(csv_path)
            con.register("frame", frame)
            con.execute("CREATE TABLE t AS SELECT * FROM frame")
        con.commit()
        seconds = time.perf_counter() - began
        rows = con.execute("SELECT count(*) FROM t").fetchone()[0]
        con.close()
    print(json.dumps({"seconds": seconds, "rows": rows, "peak_rss_mib": _peak_rss_mib(), "in_order": in_order}))


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
    parser.add_argument("--worker", choices=KINDS)
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
        results: dict[str, list[dict]] = {kind: [] for kind in KINDS}
        for _ in range(args.repeats):
            for kind, runs in results.items():
                runs.append(run(kind, csv_path, folder))
        ctas, duck, pandas_duck = (summary(results[k]) for k in KINDS)
        vs_duckdb = ctas["rows_per_s"] / duck["rows_per_s"]
        vs_pandas = ctas["rows_per_s"] / pandas_duck["rows_per_s"]
        print(
            json.dumps(
                {
                    "bench": "ingest",
                    "rows": args.rows,
                    "columns": 12,
                    "file_mib": round(csv_path.stat().st_size / 2**20, 1),
                    "ctas_ingest_csv": ctas,
                    "duckdb_create_table_as_read_csv": duck,
                    "pandas_read_csv_then_duckdb": pandas_duck,
                    "ratio_vs_duckdb": round(vs_duckdb, 3),
                    "ratio_vs_pandas_duckdb": round(vs_pandas, 3),
                    "row_order_kept": all(r["in_order"] for r in results["ctas"]),
                    "targets": {
                        "rows_per_s": TARGET_ROWS_PER_S,
                        "vs_duckdb": TARGET_VS_DUCKDB,
                        "vs_pandas_duckdb": TARGET_VS_PANDAS,
                    },
                    "meets_targets": ctas["rows_per_s"] >= TARGET_ROWS_PER_S
                    and vs_duckdb >= TARGET_VS_DUCKDB
                    and vs_pandas >= TARGET_VS_PANDAS,
                }
            )
        )


if __name__ == "__main__":
    main()
