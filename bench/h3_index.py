"""Benchmark: H3 indexing of random points, ours (numba, parallel) against h3-py's integer loop and h3ronpy.

    python bench/h3_index.py [--points 10000000] [--resolutions 7 9] [--repeats 3] [--check-all-resolutions]

Points are uniform on the sphere (seed 0). For each resolution, every method runs `repeats` times in this process
(after one warm-up for the compiled ones; the h3-py loop runs once, it is the slow baseline), and our cells are
compared with h3-py's on every point. Prints one JSON line per resolution: median seconds, points/s, mismatches and
ratios (target: >= 10x the h3-py loop, >= 2x h3ronpy). `--check-all-resolutions` also checks exactness at 0-15.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import h3
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.geo.h3index import index_points


def timed(function, repeats: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def h3py_loop(lat: list[float], lng: list[float], res: int) -> np.ndarray:
    to_cell = h3.api.basic_int.latlng_to_cell
    return np.fromiter((to_cell(a, b, res) for a, b in zip(lat, lng, strict=True)), np.uint64, len(lat))


def h3ronpy_cells():
    try:
        from h3ronpy.vector import coordinates_to_cells
    except ImportError:
        return None
    return lambda lat, lng, res: np.asarray(coordinates_to_cells(lat, lng, res))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=10_000_000)
    parser.add_argument("--resolutions", type=int, nargs="+", default=[7, 9])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--check-all-resolutions", action="store_true")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    lat = np.degrees(np.arcsin(rng.uniform(-1.0, 1.0, args.points)))
    lng = rng.uniform(-180.0, 180.0, args.points)
    lat_list, lng_list = lat.tolist(), lng.tolist()
    ronpy = h3ronpy_cells()
    index_points(lat[:10], lng[:10], 0)  # compile / load the cached kernel
    if ronpy:
        ronpy(lat[:10], lng[:10], 0)

    check = range(16) if args.check_all_resolutions else args.resolutions
    for res in sorted(set(check) | set(args.resolutions)):
        ours_s, ours = timed(lambda res=res: index_points(lat, lng, res), args.repeats)
        loop_s, reference = timed(lambda res=res: h3py_loop(lat_list, lng_list, res), 1)
        figures = {
            "bench": "h3_index",
            "points": args.points,
            "res": res,
            "cores": os.cpu_count(),
            "ours_s": round(ours_s, 3),
            "ours_points_per_s": round(args.points / ours_s),
            "mismatches_vs_h3py": int((ours.cells != reference).sum()),
            "invalid": ours.invalid,
            "h3py_loop_s": round(loop_s, 3),
            "ratio_vs_h3py_loop": round(loop_s / ours_s, 2),
        }
        if res in args.resolutions and ronpy:
            ronpy_s, ronpy_result = timed(lambda res=res: ronpy(lat, lng, res), args.repeats)
            figures |= {
                "h3ronpy_s": round(ronpy_s, 3),
                "ratio_vs_h3ronpy": round(ronpy_s / ours_s, 2),
                "h3ronpy_mismatches_vs_h3py": int((ronpy_result != reference).sum()),
            }
        print(json.dumps(figures), flush=True)


if __name__ == "__main__":
    main()
