"""Benchmark and parameter choice: our streaming detectors on the Numenta Anomaly Benchmark, scored as NAB v1.1 does.

    python bench/nab.py [--data DIR] [--labels FILE] [--results DIR] [--detector NAME ...] [--combinations]

DIR holds NAB data files (default ../shared/data/nab/data), FILE the anomaly windows (combined_windows.json). First
the scorer is checked against the published per-file scores (when a results folder is there). Then, per detector,
one JSON line:

- `loco`: the leave-one-category-out score under each profile. For each of the four categories in turn, every
  candidate of the detector's grid (`GRIDS`) and its threshold are chosen on the other three categories (the best
  corpus-optimised score there) and the held-out category is scored at that choice; the held-out totals are summed
  and normalised as NAB normalises a corpus. This predicts how the procedure does on data it was not tuned on.
- `chosen`: the same procedure on all four categories: the candidate and threshold that ship (`scale` is the raw
  statistic at the chosen threshold: each detector reports raw / (raw + scale), so 0.5 is its alert level), and
  `shipped_is_chosen`, whether the detector's defaults in `core/monitor/detectors.py` are that candidate.
- `in_sample`: the shipped detector's scores with thresholds optimised on all files (the figure NAB publishes).
- `in_nab_setting` (contextual and artime): our kernel as NAB runs CAD OSE or ARTime, each file's range (and for
  ARTime its length) known in advance; the published dev figures are contextOSE 71.6 and ARTime 71.1 standard.
- `points_per_s_one_core`: throughput over `throughput_points` synthetic points (2M; the contextual detector a day of
  1 s samples, 86,400: its cost per row grows with the rows seen), median of 3.

With `--combinations`, one more line: the default detector with each other detector (the louder of the two, their
mean, or an alert only when both agree) under the same leave-one-category-out, against the default alone.

The baseline is the strongest published detector of the dev scoreboard (Numenta HTM, standard 73.6 in-sample).
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numba
import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from core.monitor import nab  # noqa: E402
from core.monitor.detectors import (  # noqa: E402
    ALERT_LEVEL,
    DETECTORS,
    ArtimeDetector,
    ChangePointDetector,
    ContextualDetector,
    Detector,
    NoveltyDetector,
    RobustDetector,
    SeasonalDetector,
)

SHARED = REPO.parent / "shared" / "data" / "nab"
THROUGHPUT_POINTS = 2_000_000
# The memory of the contextual detector and ARTime grows with every new pattern, so their cost per row grows with the
# rows seen: they are timed over a day of 1 s samples, the longest view of the live panel, not over 2M points.
THROUGHPUT_POINTS_OF = {"contextual": 86_400, "artime": 86_400}

# Each detector's candidates: the parameters it ships with are the ones this grid's selection picks on all data.
GRIDS: dict[str, tuple[type, dict[str, list]]] = {
    "novelty": (
        NoveltyDetector,
        {
            "quiet_seconds": [12_000.0, 24_000.0, 48_000.0],
            "pair_weight": [0.02, 0.05, 0.1],
            "phase_weight": [0.005, 0.01, 0.02],
        },
    ),
    "robust": (RobustDetector, {"window": [145, 289, 577], "floor": [0.1, 0.2, 0.4]}),
    "seasonal": (SeasonalDetector, {"alpha": [0.005, 0.01, 0.02], "beta": [0.1, 0.2, 0.4]}),
    "changepoint": (
        ChangePointDetector,
        {"hazard": [1 / 100, 1 / 300, 1 / 1000], "quiet_seconds": [12_000.0, 24_000.0, 48_000.0]},
    ),
    "contextual": (
        ContextualDetector,
        {
            "rest_seconds": [18_000.0, 36_000.0, 48_000.0],
            "rest_threshold": [0.65, 0.75, 0.85],
            "settle_rows": [0, 750, 1500],
        },
    ),
    "artime": (ArtimeDetector, {"probation_rows": [150, 300, 600], "settle_rows": [0, 750, 1500]}),
}


def candidates(name: str) -> dict[str, Detector]:
    """Every detector of a grid, keyed by its parameters, built with the shipped scale (scores are monotone in the
    raw statistic, so the threshold search is the same for any scale)."""
    kind, axes = GRIDS[name]
    keys = list(axes)
    return {
        json.dumps(dict(zip(keys, values, strict=True))): kind(**dict(zip(keys, values, strict=True)))
        for values in itertools.product(*axes.values())
    }


def throughput(detector: Detector, points: int, repeats: int = 3) -> float:
    """Points per second on one core, median of `repeats` over a noisy random walk of `points` (compiled first)."""
    rng = np.random.default_rng(0)
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
    return {"detector": str(best["detector"]), "standard": float(best["dev_standard"])}


class Scorer:
    """The corpus read once; runs of any detector over it."""

    def __init__(self, corpus: nab.Corpus) -> None:
        self.files = corpus.files()
        frames = {name: corpus.read(name) for name in self.files}
        self.values = {name: frames[name]["value"].to_numpy() for name in self.files}
        self.steps = {name: nab.step_seconds(frames[name]["timestamp"].tolist()) for name in self.files}
        self.rows = {name: corpus.scored_rows(name, frames[name]["timestamp"].tolist()) for name in self.files}

    def runs(self, detector: Detector) -> list[nab.Run]:
        return [(n, self.rows[n], detector.score(self.values[n], self.steps[n])) for n in self.files]


def evaluate_detector(name: str, scorer: Scorer) -> dict:
    """The JSON line of one detector (see the module docstring)."""
    grid = candidates(name)
    runs = {key: scorer.runs(detector) for key, detector in grid.items()}
    shipped = DETECTORS[name]
    line: dict = {"detector": name, "files": len(scorer.files), "candidates": len(grid)}
    loco = [nab.leave_one_category_out(runs, p) for p in nab.PROFILES]
    line["loco"] = {result.profile: round(result.score, 2) for result in loco}
    standard = nab.PROFILES[0]
    line["loco_folds"] = [{"held_out": f.held_out, "chose": json.loads(f.candidate)} for f in loco[0].folds]
    key, threshold, score = nab.select(runs, standard)
    params = json.loads(key)
    chosen_scale = grid[key].scale * threshold / (1.0 - threshold) if threshold < 1.0 else float("inf")
    line["chosen"] = {"params": params, "scale": chosen_scale, "standard": round(score, 2)}
    shipped_runs = scorer.runs(shipped)
    shipped_score = at_alert_level(shipped_runs, standard)
    line["shipped_at_alert_level"] = round(shipped_score, 2)
    same_params = {k: getattr(shipped, k) for k in params} == params
    line["shipped_is_chosen"] = bool(same_params and abs(shipped_score - score) < 1e-9)
    line["in_sample"] = {r.profile: round(r.score, 2) for r in nab.evaluate([(rows, s) for _, rows, s in shipped_runs])}
    if name in nab.AS_NAB_RUNS:  # the published figures rest on each file's range (and length) known in advance
        as_nab = [(scorer.rows[n], nab.AS_NAB_RUNS[name](scorer.values[n])) for n in scorer.files]
        line["in_nab_setting"] = {r.profile: round(r.score, 2) for r in nab.evaluate(as_nab)}
    points = THROUGHPUT_POINTS_OF.get(name, THROUGHPUT_POINTS)
    line["throughput_points"] = points
    line["points_per_s_one_core"] = round(throughput(shipped, points))
    return line


DEFAULT = next(iter(DETECTORS))
COMBINATION_PARTNERS = tuple(name for name in DETECTORS if name != DEFAULT)


def combinations(base: dict[str, list[nab.Run]]) -> dict[str, list[nab.Run]]:
    """The default detector alone and with each partner (shipped detectors' scores, each with alert level 0.5):
    the louder of the two (the partner weighted), their weighted mean, or the default's score halved unless the
    partner also alerts (a rule that needs two detectors)."""
    first = base[DEFAULT]

    def joined(other: str, rule: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> list[nab.Run]:
        return [(n, rows, rule(a, b)) for (n, rows, a), (_, _, b) in zip(first, base[other], strict=True)]

    out = {DEFAULT: first}
    for other in COMBINATION_PARTNERS:
        for w in (0.5, 0.6, 0.8, 1.0):
            out[json.dumps([other, "louder", w])] = joined(other, lambda a, b, w=w: np.maximum(a, w * b))
        for w in (0.25, 0.5, 1.0):
            out[json.dumps([other, "mean", w])] = joined(other, lambda a, b, w=w: (a + w * b) / (1 + w))
        out[json.dumps([other, "both"])] = joined(other, lambda a, b: np.where(b >= ALERT_LEVEL, a, 0.5 * a))
    return out


def evaluate_combinations(scorer: Scorer) -> dict:
    """Leave-one-category-out over the default detector and its combinations (the rule and the threshold chosen per
    fold; every detector at its shipped parameters, so the default alone is scored by the same procedure)."""
    base = {name: scorer.runs(DETECTORS[name]) for name in (DEFAULT, *COMBINATION_PARTNERS)}
    grid = combinations(base)
    standard = nab.PROFILES[0]
    together = nab.leave_one_category_out(grid, standard)
    alone = nab.leave_one_category_out({DEFAULT: grid[DEFAULT]}, standard)
    key, _, score = nab.select(grid, standard)
    return {
        "combinations": len(grid) - 1,
        "loco_standard": round(together.score, 2),
        "default_alone_same_procedure": round(alone.score, 2),
        "fold_choices": [f.candidate for f in together.folds],
        "chosen_on_all": {"candidate": key, "standard": round(score, 2)},
        "ships": together.score > alone.score,
    }


def at_alert_level(runs: list[nab.Run], profile: nab.Profile) -> float:
    """The normalised score of a detector's runs at its own alert level (no threshold search)."""
    total = sum(nab.score_file(rows, scores, ALERT_LEVEL, profile).score for _, rows, scores in runs)
    return nab.normalised(total, [rows for _, rows, _ in runs], profile)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=SHARED / "data")
    parser.add_argument("--labels", type=Path, default=SHARED / "labels" / "combined_windows.json")
    parser.add_argument("--results", type=Path, default=SHARED / "results")
    parser.add_argument("--detector", action="append", choices=list(GRIDS), help="only these detectors")
    parser.add_argument("--combinations", action="store_true", help="then the default with each other detector")
    args = parser.parse_args()
    numba.set_num_threads(1)
    corpus = nab.Corpus.load(args.data, args.labels)
    if (args.results / "published_per_file_scores_dev.csv").is_file():
        compared, worst = nab.reproduce_published(corpus, args.results)
        print(json.dumps({"check": "scorer vs published per-file scores", "compared": compared, "max_abs_diff": worst}))
    scorer = Scorer(corpus)
    best = baseline(args.results)
    for name in args.detector or list(GRIDS):
        line = evaluate_detector(name, scorer)
        if best is not None:
            line["baseline"] = best
            line["loco_ratio_to_baseline_in_sample"] = round(line["loco"]["standard"] / best["standard"], 3)
        print(json.dumps(line), flush=True)
    if args.combinations:
        print(json.dumps(evaluate_combinations(scorer)), flush=True)


if __name__ == "__main__":
    main()
