"""Numenta Anomaly Benchmark scoring, as NAB v1.1's sweeper defines it.

A row is a detection when its anomaly score is at least the threshold. The first min(⌊0.15·n⌋, 750) rows of a file
are a probation period and are not scored. Inside an anomaly window of width W whose right edge is row r, a detection
at row i is worth A_TP·σ(−(r − i + 1)/W)/σ(−1), where σ(y) = 2/(1 + e^{5y}) − 1; only a window's best (earliest)
detection counts and a window without one costs A_FN. A detection outside every window costs A_FP·σ(d/(W_prev − 1)),
d rows after the previous window's right edge (σ = −1 beyond 3, and −A_FP before the first window). The normalised
score over a corpus is 100·(S − S_null)/(S_perfect − S_null); each detector's threshold is the one that maximises the
corpus total.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from core.monitor import _memory_kernels

PROBATION_FRACTION = 0.15
PROBATION_CAP_ROWS = 750


@dataclass(frozen=True)
class Profile:
    """Weights of one NAB scoring profile."""

    name: str
    tp: float
    fp: float
    fn: float


PROFILES: tuple[Profile, ...] = (
    Profile("standard", 1.0, 0.11, 1.0),
    Profile("reward_low_FP_rate", 1.0, 0.22, 1.0),
    Profile("reward_low_FN_rate", 1.0, 0.11, 2.0),
)


@dataclass(frozen=True)
class ScoredRows:
    """One file's scoreable rows (after probation): the unweighted sweep value and window of each row.

    `window` is −1 outside every window; `value` is σ for rows inside a window (before the A_TP/σ(−1) scaling) and σ
    (or −1) for rows outside, before the A_FP weight. `n_windows` counts windows with at least one scoreable row.
    """

    value: np.ndarray
    window: np.ndarray
    n_windows: int
    n_rows: int


@dataclass(frozen=True)
class FileScore:
    """The score of one file at one threshold, with NAB's row counts."""

    score: float
    tp: int
    tn: int
    fp: int
    fn: int
    total: int


def scaled_sigmoid(y: float) -> float:
    """NAB's σ(y) = 2/(1 + e^{5y}) − 1, and −1 for y > 3."""
    if y > 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * y)) - 1.0


def probation_rows(n_rows: int) -> int:
    """The number of leading rows NAB leaves unscored."""
    return int(min(math.floor(PROBATION_FRACTION * n_rows), PROBATION_CAP_ROWS))


def _timestamp_keys(timestamps: Iterable[object]) -> list[str]:
    return [str(t)[:19] for t in timestamps]


def window_rows(timestamps: Sequence[object], windows: Sequence[Sequence[str]]) -> list[tuple[int, int]]:
    """Each window's first and last row; timestamps compare on their first 19 characters."""
    index = {key: i for i, key in enumerate(_timestamp_keys(timestamps))}
    rows = []
    for start, end in windows:
        try:
            rows.append((index[str(start)[:19]], index[str(end)[:19]]))
        except KeyError as missing:
            raise ValueError(f"anomaly window edge {missing.args[0]} is not a timestamp of the file") from None
    return rows


def scored_rows(n_rows: int, windows: Sequence[tuple[int, int]]) -> ScoredRows:
    """The sweep value and window of every scoreable row of a file with `n_rows` rows and these window rows."""
    ordered = sorted(windows)
    for left, right in ordered:
        if not 0 <= left <= right < n_rows:
            raise ValueError(f"anomaly window rows {left}–{right} do not lie within the file's {n_rows} rows")
    if any(later[0] <= earlier[1] for earlier, later in itertools.pairwise(ordered)):
        raise ValueError("anomaly windows overlap")
    value = np.empty(n_rows)
    window = np.full(n_rows, -1, dtype=np.int64)
    previous_right: int | None = None
    previous_width = 0.0
    w = 0
    i = 0
    while i < n_rows:
        if w < len(ordered) and i == ordered[w][0]:
            left, right = ordered[w]
            width = float(right - left + 1)
            for j in range(left, right + 1):
                value[j] = scaled_sigmoid(-(right - j + 1) / width)
                window[j] = w
            previous_right, previous_width = right, width
            w += 1
            i = right + 1
            continue
        if previous_right is None or previous_width == 1.0:  # NAB divides by W − 1; a 1-row window ends at once
            value[i] = -1.0
        else:
            value[i] = scaled_sigmoid(abs(previous_right - i) / (previous_width - 1.0))
        i += 1
    start = probation_rows(n_rows)
    kept_windows = np.unique(window[start:][window[start:] >= 0])
    return ScoredRows(value[start:], window[start:], len(kept_windows), n_rows)


def score_file(rows: ScoredRows, scores: np.ndarray, threshold: float, profile: Profile) -> FileScore:
    """NAB's score of one file (its anomaly scores, all rows) at a threshold."""
    detected = np.asarray(scores, dtype=np.float64)[rows.n_rows - len(rows.value) :] >= threshold
    outside = rows.window < 0
    fp_rows = detected & outside
    total = float(np.sum(rows.value[fp_rows])) * profile.fp
    max_tp = scaled_sigmoid(-1.0)
    for w in np.unique(rows.window[~outside]):
        hits = detected & (rows.window == w)
        total += float(np.max(rows.value[hits])) * profile.tp / max_tp if hits.any() else -profile.fn
    tp = int(np.sum(detected & ~outside))
    fp = int(np.sum(fp_rows))
    return FileScore(total, tp, int(np.sum(outside)) - fp, fp, int(np.sum(~outside)) - tp, rows.n_rows)


def best_threshold(corpus: Sequence[tuple[ScoredRows, np.ndarray]], profile: Profile) -> tuple[float, float]:
    """The threshold that maximises the corpus total, and that total (an exact sweep over every distinct score).

    Like NAB, the candidates are the scores themselves, from the highest down; a tie keeps the highest threshold.
    """
    max_tp = scaled_sigmoid(-1.0)
    all_scores, gains, window_ids = [], [], []
    n_windows = 0
    for rows, scores in corpus:
        s = np.asarray(scores, dtype=np.float64)[rows.n_rows - len(rows.value) :]
        all_scores.append(s)
        inside = rows.window >= 0
        gains.append(np.where(inside, rows.value * profile.tp / max_tp, rows.value * profile.fp))
        window_ids.append(np.where(inside, rows.window + n_windows, -1))
        n_windows += int(rows.window.max()) + 1 if inside.any() else 0
    score = np.concatenate(all_scores)
    gain = np.concatenate(gains)
    window = np.concatenate(window_ids)
    order = np.argsort(-score, kind="stable")
    score, gain, window = score[order], gain[order], window[order]
    present = np.unique(window[window >= 0])
    best_gain = np.full(n_windows, -np.inf)
    total = -profile.fn * len(present)
    best_total, best_at = total, math.inf
    for k in range(len(score)):
        w = window[k]
        if w < 0:
            total += gain[k]
        elif gain[k] > best_gain[w]:
            total += gain[k] - (best_gain[w] if best_gain[w] > -np.inf else -profile.fn)
            best_gain[w] = gain[k]
        if (k + 1 == len(score) or score[k + 1] != score[k]) and total > best_total:
            best_total, best_at = total, float(score[k])
    return best_at, best_total


def normalised(total: float, corpus: Sequence[ScoredRows], profile: Profile) -> float:
    """NAB's normalised score of a corpus total: 0 for the null detector, 100 for the perfect one."""
    windows = sum(rows.n_windows for rows in corpus)
    null, perfect = -profile.fn * windows, profile.tp * windows
    return 100.0 * (total - null) / (perfect - null)


@dataclass(frozen=True)
class Corpus:
    """NAB data files with their anomaly windows."""

    root: Path
    windows: Mapping[str, list[list[str]]]

    @classmethod
    def load(cls, data_dir: Path, labels_file: Path) -> Corpus:
        """Read the windows file; files are named relative to `data_dir` (for example `realAWSCloudwatch/x.csv`)."""
        windows = json.loads(Path(labels_file).read_text())
        return cls(Path(data_dir), windows)

    def files(self) -> list[str]:
        """The labelled files present under the data folder, in name order."""
        return sorted(name for name in self.windows if (self.root / name).is_file())

    def read(self, name: str) -> pd.DataFrame:
        """One file as a frame of `timestamp` (text) and `value`."""
        return pd.read_csv(self.root / name, dtype={"timestamp": str, "value": float})

    def scored_rows(self, name: str, timestamps: Sequence[object]) -> ScoredRows:
        """The scoreable rows of a file."""
        return scored_rows(len(timestamps), window_rows(timestamps, self.windows[name]))


def step_seconds(timestamps: Sequence[object]) -> float:
    """The median spacing of the timestamps in seconds (1 when there are fewer than two)."""
    times = pd.to_datetime(pd.Series(list(timestamps)), errors="coerce").dropna()
    if len(times) < 2:
        return 1.0
    spacing = float(np.median(np.diff(times.to_numpy()).astype("timedelta64[ms]").astype(np.float64))) / 1000.0
    return spacing if spacing > 0 else 1.0


@dataclass(frozen=True)
class CorpusResult:
    """One detector's normalised score and corpus-optimised threshold under one profile."""

    profile: str
    score: float
    threshold: float


def evaluate(runs: Sequence[tuple[ScoredRows, np.ndarray]]) -> list[CorpusResult]:
    """NAB's normalised score of one detector's anomaly scores on a corpus, under every profile."""
    results = []
    for profile in PROFILES:
        threshold, total = best_threshold(runs, profile)
        results.append(CorpusResult(profile.name, normalised(total, [rows for rows, _ in runs], profile), threshold))
    return results


def _whole_file(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The values as floats and each row's range as NAB gives it: the whole file's, known before the first row."""
    values = np.asarray(values, dtype=np.float64)
    n = len(values)
    return values, np.full(n, np.nanmin(values)), np.full(n, np.nanmax(values))


def contextual_as_nab_runs_it(values: np.ndarray) -> np.ndarray:
    """The contextual kernel in NAB's setting for CAD OSE: the file's range known in advance (look-ahead no live
    detector has) and a rest of 3 % of the file (a fifth of the probation). For comparison with published figures."""
    values, low, high = _whole_file(values)
    return _memory_kernels.contextual(values, low, high, int(probation_rows(len(values)) / 5.0), 0.75)


def artime_as_nab_runs_it(values: np.ndarray) -> np.ndarray:
    """The ARTime kernel in NAB's setting: the file's range known in advance and a probation of NAB's (15 % of the
    file, at most 750 rows: its length known in advance too). For comparison with published figures."""
    values, low, high = _whole_file(values)
    return _memory_kernels.artime(values, low, high, max(32, probation_rows(len(values))))


# Our kernels of published designs, run with the look-ahead NAB gives them (no live detector has it).
AS_NAB_RUNS = {"contextual": contextual_as_nab_runs_it, "artime": artime_as_nab_runs_it}


def reproduce_published(corpus: Corpus, results_dir: Path) -> tuple[int, float]:
    """Score the published per-row detector outputs under `results_dir` at their published thresholds.

    Returns the number of (detector, profile, file) scores compared with `published_per_file_scores_dev.csv` and the
    largest absolute difference (infinite if any row count differs).
    """
    published = pd.read_csv(Path(results_dir) / "published_per_file_scores_dev.csv")
    by_key = {(r.Detector, r.Profile, r.File): r for r in published.itertuples()}
    compared, worst = 0, 0.0
    for path in sorted(Path(results_dir).glob("*/*/*.csv")):
        detector = path.parent.parent.name
        name = f"{path.parent.name}/{path.name[len(detector) + 1 :]}"
        frame = pd.read_csv(path, dtype={"timestamp": str})
        rows = corpus.scored_rows(name, frame["timestamp"].tolist())
        for profile in PROFILES:
            want = by_key[(detector, profile.name, name)]
            got = score_file(rows, frame["anomaly_score"].to_numpy(), want.Threshold, profile)
            counts_match = (got.tp, got.tn, got.fp, got.fn, got.total) == (
                want.TP,
                want.TN,
                want.FP,
                want.FN,
                want.Total_Count,
            )
            worst = max(worst, abs(got.score - want.Score) if counts_match else math.inf)
            compared += 1
    return compared, worst


def category(name: str) -> str:
    """A NAB file's category: the folder it lies in (`realAWSCloudwatch/x.csv` → `realAWSCloudwatch`)."""
    return name.split("/", 1)[0]


@dataclass(frozen=True)
class FoldChoice:
    """What leave-one-category-out chose without `held_out`: the candidate, its threshold, and what it scored."""

    held_out: str
    candidate: str
    threshold: float
    train_score: float
    held_out_total: float


@dataclass(frozen=True)
class CrossValidated:
    """The leave-one-category-out score of a selection procedure under one profile, and each fold's choice."""

    profile: str
    score: float
    folds: tuple[FoldChoice, ...]


Run = tuple[str, ScoredRows, np.ndarray]  # a file's name, its scoreable rows and one detector's scores


def select(candidates: Mapping[str, Sequence[Run]], profile: Profile) -> tuple[str, float, float]:
    """The candidate (and its threshold) with the highest corpus-optimised total, and its normalised score (NaN for a
    corpus without windows); a tie keeps the first candidate. Every candidate scores the same files, so the totals
    rank them as the normalised scores would."""
    best: tuple[str, float, float] | None = None
    for key, runs in candidates.items():
        threshold, total = best_threshold([(rows, scores) for _, rows, scores in runs], profile)
        if best is None or total > best[2]:
            best = (key, threshold, total)
    if best is None:
        raise ValueError("no candidate to choose from")
    key, threshold, total = best
    corpus = [rows for _, rows, _ in candidates[key]]
    windows = sum(rows.n_windows for rows in corpus)
    return key, threshold, normalised(total, corpus, profile) if windows else math.nan


def leave_one_category_out(candidates: Mapping[str, Sequence[Run]], profile: Profile) -> CrossValidated:
    """Choose a candidate and its threshold on every category but one, score the held-out category at that choice;
    the held-out totals of all categories are summed and normalised as NAB normalises a corpus.

    Every candidate must hold the same files in the same order. This estimates how the selection procedure does on a
    kind of data it never saw; the figure to report beside the in-sample one.
    """
    names = [[name for name, _, _ in runs] for runs in candidates.values()]
    if not names or any(n != names[0] for n in names):
        raise ValueError("every candidate must score the same files in the same order")
    categories = sorted({category(name) for name in names[0]})
    if len(categories) < 2:
        raise ValueError("leave-one-category-out needs files of at least two categories")
    every_file = [rows for _, rows, _ in next(iter(candidates.values()))]
    if not any(rows.n_windows for rows in every_file):
        raise ValueError("leave-one-category-out needs at least one anomaly window")
    folds, total = [], 0.0
    for held_out in categories:
        train = {k: [r for r in runs if category(r[0]) != held_out] for k, runs in candidates.items()}
        key, threshold, train_score = select(train, profile)
        held = [r for r in candidates[key] if category(r[0]) == held_out]
        fold_total = sum(score_file(rows, scores, threshold, profile).score for _, rows, scores in held)
        folds.append(FoldChoice(held_out, key, threshold, train_score, fold_total))
        total += fold_total
    return CrossValidated(profile.name, normalised(total, every_file, profile), tuple(folds))
