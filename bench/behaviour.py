"""Benchmark: behaviour verification on Balabit (mouse) and Aalto (keystrokes), and feature-extraction latency.

    python bench/behaviour.py balabit --train DIR [--test DIR --labels FILE] [--piece-s 120] [--json]
    python bench/behaviour.py aalto --data DIR [--json]
    python bench/behaviour.py latency [--json]

balabit, challenge protocol (with --test and --labels): enrol each user on every session in DIR/userN/, score every
test session listed in FILE (`filename,is_illegal`) against the user of its folder; a session's score is the mean of
its 30 s / 5 s window scores. Without --test (the dev protocol): leave one session out over the sessions in
DIR/userN/ (3 folds), each held-out session cut into `--piece-s` pieces; a piece is genuine for its own user's model
and an impostor for every other user's model. Both print global ROC AUC and EER for ours (boosted trees on window
and action-summary features, the product's mouse verifier) and the baseline design (a random forest on SecLyzer-style
window features: the 38 window features alone).

aalto: enrol each user on their first 5 sentences; genuine = their other sentences; impostors = the other users'
non-enrolment sentences. Prints the mean per-user EER of ours (the product's keystroke verifier: extremely randomised
trees against the other users' enrolment sentences) and of the scaled-Manhattan baseline (per-feature spread floored
at 0.1 × the spread over all enrolment sentences), their ratio, and an open-set figure (impostors from a disjoint
half of the users, never seen in training).

latency: feature time per 30 s window per modality (median over repeats), one core.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.ensemble import RandomForestClassifier

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from core.behaviour import keystroke, mouse, synthetic  # noqa: E402
from core.behaviour.apps import AppProfile  # noqa: E402
from core.behaviour.evaluation import verification  # noqa: E402
from core.behaviour.events import since  # noqa: E402
from core.behaviour.models import FLOOR_SHARE, ScaledManhattan, TwoClass  # noqa: E402
from core.behaviour.monitor import KEEP_EXTRA_US  # noqa: E402
from core.behaviour.parsers import read_aalto, read_balabit  # noqa: E402

N_WINDOW = len(mouse.MOUSE_FEATURES)
SHARED = REPO.parent / "shared" / "data" / "behaviour"


def _emit(record: dict, as_json: bool) -> None:
    print(json.dumps(record) if as_json else "  ".join(f"{k}={v}" for k, v in record.items()), flush=True)


def _baseline_forest(rows: np.ndarray, others: np.ndarray) -> RandomForestClassifier:
    """The baseline design: a random forest on the 38 window features, user vs other users."""
    data = np.nan_to_num(np.vstack([rows, others])[:, :N_WINDOW], nan=0.0, posinf=0.0, neginf=0.0)
    labels = np.r_[np.ones(len(rows)), np.zeros(len(others))]
    return RandomForestClassifier(200, class_weight="balanced", n_jobs=-1, random_state=0).fit(data, labels)


def _session_rows(path: Path) -> np.ndarray:
    events = read_balabit(path)
    _, rows = mouse.verify_rows(events)
    return rows[mouse.enough_movement(rows)]


class _Scorer:
    """Both systems' models for one user; scores a list of row blocks (one block per test session)."""

    def __init__(self, rows: np.ndarray, others: np.ndarray) -> None:
        self.ours = TwoClass("boosting").fit(rows, others)
        self.baseline = _baseline_forest(rows, others)

    def score(self, blocks: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        stacked = np.vstack(blocks)
        starts = np.cumsum([0] + [len(b) for b in blocks[:-1]])
        sizes = np.array([len(b) for b in blocks])
        ours = self.ours.probability(stacked)
        base = self.baseline.predict_proba(np.nan_to_num(stacked[:, :N_WINDOW], nan=0.0, posinf=0.0, neginf=0.0))
        return np.add.reduceat(ours, starts) / sizes, np.add.reduceat(base[:, 1], starts) / sizes


def _pieces(rows: np.ndarray, ends: np.ndarray, piece_us: int) -> list[np.ndarray]:
    piece = (ends - ends[0]) // piece_us if len(ends) else ends
    return [rows[piece == p] for p in np.unique(piece)]


def balabit_dev(train: Path, piece_s: float, as_json: bool) -> None:
    users = sorted(p.name for p in train.iterdir() if p.is_dir())
    sessions = {u: sorted((train / u).glob("session_*")) for u in users}
    folds = min(len(s) for s in sessions.values())
    data = {}
    for u in users:
        for k, path in enumerate(sessions[u][:folds]):
            ends, rows = mouse.verify_rows(read_balabit(path))
            keep = mouse.enough_movement(rows)
            data[u, k] = (ends[keep], rows[keep])
    labels, ours, base = [], [], []
    started = time.perf_counter()
    for k in range(folds):
        test = [(v, block) for v in users for block in _pieces(*data[v, k][::-1], round(piece_s * 1e6)) if len(block)]
        for u in users:
            own = np.vstack([data[u, j][1] for j in range(folds) if j != k])
            others = np.vstack([data[v, j][1] for v in users if v != u for j in range(folds) if j != k])
            o, b = _Scorer(own, others).score([block for _, block in test])
            ours += list(o)
            base += list(b)
            labels += [v == u for v, _ in test]
    _report("balabit-dev", np.array(labels), np.array(ours), np.array(base), started=started, as_json=as_json,
            extra={"protocol": f"leave-one-session-out, {folds} folds, test pieces of {piece_s:g} s"})  # fmt: skip


def balabit_challenge(train: Path, test: Path, label_file: Path, as_json: bool) -> None:
    illegal = {}
    for line in label_file.read_text().splitlines()[1:]:
        name, _, flag = line.strip().partition(",")
        if name:
            illegal[name] = flag.strip() == "1"
    users = sorted(p.name for p in train.iterdir() if p.is_dir())
    enrolment = {u: np.vstack([_session_rows(p) for p in sorted((train / u).iterdir())]) for u in users}
    labels, ours, base = [], [], []
    started = time.perf_counter()
    for u in users:
        others = np.vstack([enrolment[v] for v in users if v != u])
        files = (
            [p for p in sorted((test / u).iterdir()) if p.name.split(".")[0] in illegal] if (test / u).is_dir() else []
        )
        blocks = [_session_rows(p) for p in files]
        kept = [(p, b) for p, b in zip(files, blocks, strict=True) if len(b)]
        if not kept:
            continue
        o, b = _Scorer(enrolment[u], others).score([b for _, b in kept])
        ours += list(o)
        base += list(b)
        labels += [not illegal[p.name.split(".")[0]] for p, _ in kept]
    _report("balabit", np.array(labels), np.array(ours), np.array(base), started=started, as_json=as_json,
            extra={"protocol": "challenge: enrol on training sessions, score labelled test sessions"})  # fmt: skip


def _report(name: str, labels: np.ndarray, ours: np.ndarray, base: np.ndarray, *, started: float, as_json: bool,
            extra: dict) -> None:  # fmt: skip
    mine = verification(ours[labels], ours[~labels])
    theirs = verification(base[labels], base[~labels])
    _emit({"bench": name, **extra, "genuine": int(labels.sum()), "impostor": int((~labels).sum()),
           "auc": round(mine.auc, 4), "eer": round(mine.eer, 4), "baseline": "random forest on 38 window features",
           "baseline_auc": round(theirs.auc, 4), "baseline_eer": round(theirs.eer, 4),
           "auc_gain": round(mine.auc - theirs.auc, 4),
           "seconds": round(time.perf_counter() - started, 1)}, as_json)  # fmt: skip


def _sentence_rows(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Per typed sentence (in typing order): whether it is one of the first 5 sentences, and its feature row."""
    typed = read_aalto(path)
    strokes = keystroke.keystrokes(typed.keys)
    ids, rows = keystroke.segment_features(strokes, typed.sentence_of(strokes.down))
    first = list(dict.fromkeys(ids.tolist()))[:5]
    return np.isin(ids, first), rows


def aalto(data: Path, as_json: bool) -> None:
    files = sorted(data.glob("*_keystrokes.txt*"))
    split = [_sentence_rows(p) for p in files]
    enrol = [rows[first] for first, rows in split]
    tests = [rows[~first] for first, rows in split]
    floor = FLOOR_SHARE * np.nanstd(np.where(np.isfinite(np.vstack(enrol)), np.vstack(enrol), np.nan), axis=0)
    started = time.perf_counter()
    eers = {"ours": [], "baseline": [], "ours_open_set": []}
    halves = [np.arange(len(files))[i::2] for i in (0, 1)]
    for u in range(len(files)):
        impostors = np.vstack([tests[v] for v in range(len(files)) if v != u])
        others = np.vstack([enrol[v] for v in range(len(files)) if v != u])
        ours = TwoClass("extra_trees").fit(enrol[u], others)
        eers["ours"].append(verification(ours.score(tests[u]), ours.score(impostors)).eer)
        template = ScaledManhattan(floor).fit(enrol[u])
        eers["baseline"].append(verification(template.score(tests[u]), template.score(impostors)).eer)
        mine, other = halves[u % 2], halves[1 - u % 2]
        seen = np.vstack([enrol[v] for v in mine if v != u])
        unseen = np.vstack([tests[v] for v in other])
        open_set = TwoClass("extra_trees").fit(enrol[u], seen)
        eers["ours_open_set"].append(verification(open_set.score(tests[u]), open_set.score(unseen)).eer)
    mean = {k: float(np.mean(v)) for k, v in eers.items()}
    _emit({"bench": "aalto", "users": len(files), "protocol": "enrol on first 5 sentences, test on the rest",
           "mean_eer": round(mean["ours"], 4), "baseline": "scaled Manhattan (floored spread)",
           "baseline_mean_eer": round(mean["baseline"], 4),
           "relative_eer_reduction": round(1 - mean["ours"] / mean["baseline"], 4),
           "open_set_mean_eer": round(mean["ours_open_set"], 4),
           "seconds": round(time.perf_counter() - started, 1)}, as_json)  # fmt: skip


def _densest(ts: np.ndarray, length_us: int) -> int:
    """Start of the `length_us` window holding the most events."""
    counts = np.searchsorted(ts, ts + length_us) - np.arange(len(ts))
    return int(ts[int(np.argmax(counts))])


def latency(as_json: bool, repeats: int = 200) -> None:
    """Feature time for one 30 s window per modality, as the live monitor computes it (pairing, actions and features
    over its buffer), median over `repeats`: the densest 30 s of a Balabit session (mouse) and of an Aalto typist
    (keystrokes) when the shared data is there, else of a synthetic session."""
    length = 30_000_000
    typist = synthetic.session(synthetic.persona("carol"), seconds=120.0, seed=1)
    aalto_file = SHARED / "aalto136m" / "102_keystrokes.txt.gz"
    typed = read_aalto(aalto_file).keys if aalto_file.exists() else typist.keys
    k_start = _densest(typed.ts, length)
    keys = since(typed, k_start - KEEP_EXTRA_US, k_start + length)
    balabit = SHARED / "balabit" / "training_files" / "user7" / "session_0041905381.csv.gz"
    pointer = read_balabit(balabit) if balabit.exists() else typist.mouse
    m_start = _densest(pointer.ts, length)
    moves = since(pointer, m_start - KEEP_EXTRA_US, m_start + length)
    profile = AppProfile().fit(typist.apps)
    windows = {"start_us": k_start, "end_us": k_start + length}
    a_start = int(typist.apps.ts[0])
    jobs = {
        "keystroke": (lambda: keystroke.window_features(keystroke.keystrokes(keys), **windows), len(keys) // 2),
        "mouse": (lambda: mouse.verify_rows(moves, start_us=m_start, end_us=m_start + length), len(moves)),
        "app": (
            lambda: profile.window_scores(typist.apps, start_us=a_start, end_us=a_start + length),
            len(typist.apps),
        ),
    }
    for modality, (job, size) in jobs.items():
        job()  # compile
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            job()
            times.append(time.perf_counter() - t)
        ms = statistics.median(times) * 1000
        _emit({"bench": "latency", "modality": modality, "window_s": 30,
               "input": {"mouse": "Balabit user7" if balabit.exists() else "synthetic",
                         "keystroke": "Aalto 102" if aalto_file.exists() else "synthetic"}.get(modality, "synthetic"),
               "events": size, "median_ms": round(ms, 4), "limit_ms": 1.0,
               "ratio_to_limit": round(ms / 1.0, 4)}, as_json)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    balabit = commands.add_parser("balabit")
    balabit.add_argument("--train", type=Path, required=True)
    balabit.add_argument("--test", type=Path)
    balabit.add_argument("--labels", type=Path)
    balabit.add_argument("--piece-s", type=float, default=120.0)
    balabit.add_argument("--json", action="store_true")
    aalto_cmd = commands.add_parser("aalto")
    aalto_cmd.add_argument("--data", type=Path, required=True)
    aalto_cmd.add_argument("--json", action="store_true")
    latency_cmd = commands.add_parser("latency")
    latency_cmd.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.command == "balabit":
        if (args.test is None) != (args.labels is None):
            parser.error("--test and --labels go together")
        if args.test is None:
            balabit_dev(args.train, args.piece_s, args.json)
        else:
            balabit_challenge(args.train, args.test, args.labels, args.json)
    elif args.command == "aalto":
        aalto(args.data, args.json)
    else:
        latency(args.json)


if __name__ == "__main__":
    main()
