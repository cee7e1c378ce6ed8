"""Benchmark: our streaming detectors on the Numenta Anomaly Benchmark, scored exactly as NAB v1.1 scores.

    python bench/nab.py [--data DIR] [--labels FILE] [--results DIR] [--json]

DIR holds NAB data files (default ../shared/data/nab/data), FILE the anomaly windows (combined_windows.json). First
the scorer is checked against the published per-file scores (when a results folder is there); then each detector
gets the standard, reward-low-FP and reward-low-FN normalised scores on the labelled files found under DIR, with its
corpus-optimised thresholds, and its throughput on one core (points/s over 2M synthetic points, median of 3). The
baseline is the strongest published detector of the dev scoreboard (Numenta HTM, standard 73.6).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numba
import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from core.monitor import nab  # noqa: E402
from core.monitor.detectors import DETECTORS  # noqa: E402

SHARED = REPO.parent / "shared" / "data" / "nab"
THROUGHPUT_POINTS = 2_000_000


def throughput(detector: object, repeats: int = 3) -> float:
    """Points per second on one core, median of `repeats` over a noisy random walk (compiled first)."""
    rng = np.random.default_rng(0)
    points = THROUGHPUT_POINTS if detector.name != "novelty" else THROUGHPUT_POINTS // 20
    series = np.cumsum(rng.normal(size=points)) * 0.01 + rng.normal(size=points)
    detector.score(series[:1000], 300.0)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        detector.score(series, 300.0)
        times.append(time.perf_counter() - start)
    return points / statistics.median(times)


def baseline(results_dir: Path) -> dict[str, float] | None:
    board = results_dir / "scoreboard_dev_subset.csv"
    if not board.is_file():
        return None
    rows = pd.read_csv(board)
    best = rows.loc[rows["dev_standard"].idxmax()]
    return {
        "detector": str(best["detector"]),
        "standard": float(best["dev_standard"]),
        "reward_low_FP_rate": float(best["dev_reward_low_FP_rate"]),
        "reward_low_FN_rate": float(best["dev_reward_low_FN_rate"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=SHARED / "data")
    parser.add_argument("--labels", type=Path, default=SHARED / "labels" / "combined_windows.json")
    parser.add_argument("--results", type=Path, default=SHARED / "results")
    parser.add_argument("--json", action="store_true", help="one JSON line per figure (the default output too)")
    args = parser.parse_args()
    numba.set_num_threads(1)
    corpus = nab.Corpus.load(args.data, args.labels)
    if (args.results / "published_per_file_scores_dev.csv").is_file():
        compared, worst = nab.reproduce_published(corpus, args.results)
        print(json.dumps({"check": "scorer vs published per-file scores", "compared": compared, "max_abs_diff": worst}))
    files = corpus.files()
    frames = {name: corpus.read(name) for name in files}
    best = baseline(args.results)
    for detector in DETECTORS.values():
        runs = []
        for name in files:
            timestamps = frames[name]["timestamp"].tolist()
            scores = detector.score(frames[name]["value"].to_numpy(), nab.step_seconds(timestamps))
            runs.append((corpus.scored_rows(name, timestamps), scores))
        results = nab.evaluate(runs)
        line = {
            "detector": detector.name,
            "files": len(files),
            "windows": sum(rows.n_windows for rows, _ in runs),
            **{r.profile: round(r.score, 2) for r in results},
            "thresholds": {r.profile: r.threshold for r in results},
            "points_per_s_one_core": round(throughput(detector)),
        }
        if best is not None:
            line["baseline"] = best
            line["ratio_to_baseline_standard"] = round(line["standard"] / best["standard"], 3)
        print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
