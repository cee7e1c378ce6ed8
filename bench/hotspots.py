"""Benchmark: events -> H3 cells -> Gi* hot spots, end to end; and Gi* on the honeypot data against esda.

    python bench/hotspots.py [--events 10000000] [--res 7] [--k 1] [--repeats 3] [--data ../shared/data]

1. Synthetic: `events` points clustered round 400 attack sources (Gaussian, 30-300 km) with severity, source and
   time, indexed at `res`, aggregated per cell in DuckDB, Gi* with k-ring `k`. Median of `repeats` (target <= 5 s).
2. Honeypot (../shared/data/geo, 252,702 events) at resolution 5, k = 2: our Gi* against esda.G_Local(star=True,
   binary weights, no permutations) on the same neighbourhoods: max |dz| (target < 1e-9) and the ratio (target >=
   20x), for the statistic alone and with the neighbourhood construction included.
Prints one JSON line per part.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from core.geo import _kernels  # noqa: E402
from core.geo.events import summarise_cells  # noqa: E402
from core.geo.hotspots import gi_star, neighbourhoods  # noqa: E402
from core.warehouse import Warehouse  # noqa: E402


def synthetic_events(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    centres = rng.uniform([-55, -180], [70, 180], size=(400, 2))
    spread_deg = rng.uniform(0.3, 3.0, 400)
    pick = rng.zipf(1.6, n) % 400
    lat = np.clip(centres[pick, 0] + rng.normal(0, 1, n) * spread_deg[pick], -90, 90)
    lon = (centres[pick, 1] + rng.normal(0, 1, n) * spread_deg[pick] + 180) % 360 - 180
    start = np.datetime64("2024-01-01T00:00:00", "s")
    return pd.DataFrame(
        {
            "lat": lat,
            "lon": lon,
            "time": start + rng.integers(0, 90 * 86_400, n).astype("timedelta64[s]"),
            "severity": rng.integers(1, 6, n).astype(np.float64),
            "source": rng.integers(0, 2_000_000, n).astype(str),
        }
    )


def end_to_end(warehouse: Warehouse, events: pd.DataFrame, res: int, k: int) -> tuple[int, int]:
    summary = summarise_cells(warehouse, events, res)
    spots = gi_star(summary.cells["cell"].to_numpy(np.uint64), summary.cells["events"].to_numpy(np.float64), k=k)
    return len(spots), int((spots["gi_bin"] != 0).sum())


def honeypot(data: Path, repeats: int) -> dict:
    import esda
    import libpysal

    from core.geo.h3index import latlng_to_cells

    frame = pd.read_csv(data / "geo" / "aws_honeypot_marx_geo_2013-03_06.csv.gz", usecols=["latitude", "longitude"])
    cells = latlng_to_cells(frame["latitude"].to_numpy(), frame["longitude"].to_numpy(), 5)
    cells, counts = np.unique(cells[cells != 0], return_counts=True)
    values = counts.astype(np.float64)
    indptr, indices = neighbourhoods(cells, 2)
    ours_stat = statistics.median(timed(lambda: _kernels.gi_star_z(indptr, indices, values)) for _ in range(repeats))
    ours_all = statistics.median(timed(lambda: gi_star(cells, values, k=2)) for _ in range(repeats))
    z = _kernels.gi_star_z(indptr, indices, values)
    neighbours = {i: [int(j) for j in indices[indptr[i] : indptr[i + 1]] if j != i] for i in range(len(cells))}

    def esda_all():
        weights = libpysal.weights.W(neighbours, silence_warnings=True)
        return esda.G_Local(values, weights, transform="B", star=True, permutations=0)

    weights = libpysal.weights.W(neighbours, silence_warnings=True)
    esda_stat = statistics.median(
        timed(lambda: esda.G_Local(values, weights, transform="B", star=True, permutations=0)) for _ in range(repeats)
    )
    esda_total = statistics.median(timed(esda_all) for _ in range(repeats))
    return {
        "bench": "hotspots_honeypot_vs_esda",
        "cells": len(cells),
        "res": 5,
        "k": 2,
        "max_abs_dz": float(np.abs(esda_all().Zs - z).max()),
        "ours_gi_s": round(ours_stat, 6),
        "esda_gi_s": round(esda_stat, 6),
        "ratio_gi": round(esda_stat / ours_stat, 1),
        "ours_with_neighbourhoods_s": round(ours_all, 4),
        "esda_with_weights_s": round(esda_total, 4),
        "ratio_with_neighbourhoods": round(esda_total / ours_all, 2),
    }


def timed(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--res", type=int, default=7)
    parser.add_argument("--k", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    args = parser.parse_args()

    warehouse = Warehouse(":memory:")
    events = synthetic_events(args.events)
    end_to_end(warehouse, events.head(1000), args.res, args.k)  # compile / load the kernels
    times, result = [], None
    for _ in range(args.repeats):
        start = time.perf_counter()
        result = end_to_end(warehouse, events, args.res, args.k)
        times.append(time.perf_counter() - start)
    figures = {"bench": "hotspots_end_to_end", "events": args.events, "res": args.res, "k": args.k}
    figures |= {"cells": result[0], "significant_cells": result[1], "median_s": round(statistics.median(times), 3)}
    print(json.dumps(figures | {"target_s": 5.0}), flush=True)
    print(json.dumps(honeypot(args.data, args.repeats)), flush=True)


if __name__ == "__main__":
    main()
