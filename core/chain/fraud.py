"""Transaction fraud scoring on the Elliptic data set's schema, scoped honestly: the published temporal split, the
illicit class's F1 by time step, and the published results to compare with.

Files (Weber et al. 2019, "Anti-Money Laundering in Bitcoin"): `features` without a header (txId, time step, then
the features: 93 local and 72 aggregated in the real file), `classes` (`txId,class` with 1 = illicit, 2 = licit,
`unknown`), optionally `edges` (`txId1,txId2`, payment flows). Edges add each transaction's in- and out-degree.
A model is trained on steps 1–34 by the fitter the caller passes (the page passes the AutoML search, time-boxed
and cross-validated); steps 35–49 are the test part. A random forest with the paper's settings (50 trees, 50
features per split) is scored on the same split beside it.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import f1_score, precision_score, recall_score

from core.chain.blocks import ChainInputError

TRAIN_LAST_STEP = 34
MAX_STEP = 1_000
MAX_FEATURE_BYTES = 1024 * 2**20
MAX_FEATURES = 500
ILLICIT, LICIT, UNLABELLED = "1", "2", "unknown"
PUBLISHED = (
    "Published illicit-class F1 on this split: random forest on all features 0.788 (Weber et al. 2019, "
    "arXiv:1908.02591), up to about 0.83 in later random-forest studies; every model fails after the dark-market "
    "shutdown at step 43."
)


@dataclass(frozen=True)
class EllipticData:
    """Labelled transactions: txId, step, features, and the label (1 illicit, 2 licit)."""

    frame: pd.DataFrame
    feature_names: tuple[str, ...]
    unlabelled: int
    edges: int


@dataclass(frozen=True)
class FraudEvaluation:
    """Test-part results: per step (transactions, illicit, F1 of both models) and overall precision, recall, F1."""

    by_step: pd.DataFrame
    overall: pd.DataFrame
    model: str
    predictions: pd.DataFrame


def _csv(data: bytes, name: str, **options) -> pd.DataFrame:
    try:
        return pd.read_csv(io.BytesIO(data), **options)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError):
        raise ChainInputError(
            f"{name} is not a readable CSV file of the Elliptic schema (a value that is not a number, rows of "
            "different lengths, or not text)."
        ) from None


def read_elliptic(features: bytes, classes: bytes, edges: bytes | None = None) -> EllipticData:
    """The labelled transactions of Elliptic-format files, every part checked before use."""
    if len(features) > MAX_FEATURE_BYTES:
        raise ChainInputError(f"The features file is larger than {MAX_FEATURE_BYTES // 2**20} MiB.")
    first_line = features[: features.find(b"\n") if b"\n" in features[: 2**20] else 2**20]
    if first_line.count(b",") + 1 > MAX_FEATURES + 2:
        raise ChainInputError(f"The features file has more than {MAX_FEATURES + 2} columns.")
    table = _csv(features, "The features file", header=None, dtype=np.float64)
    if table.shape[1] < 3 or table.shape[1] > MAX_FEATURES + 2:
        raise ChainInputError(
            f"The features file needs txId, time step and 1 to {MAX_FEATURES} features per row; it has "
            f"{table.shape[1]} columns."
        )
    values = table.to_numpy()
    if not np.isfinite(values).all():
        row = int(np.flatnonzero(~np.isfinite(values).all(axis=1))[0])
        raise ChainInputError(f"The features file has a missing or non-numeric value in row {row + 1:,}.")
    ids, steps = values[:, 0], values[:, 1]
    if not _whole_ids(ids) or pd.Series(ids).duplicated().any():
        raise ChainInputError("Every txId in the features file must be a whole number below 2^53 and appear once.")
    if (steps != np.floor(steps)).any() or steps.min() < 1 or steps.max() > MAX_STEP:
        raise ChainInputError(f"Time steps must be whole numbers from 1 to {MAX_STEP:,}.")
    count = table.shape[1] - 2
    names = (
        tuple(f"local_{i}" for i in range(1, 94)) + tuple(f"aggregated_{i}" for i in range(1, 73))
        if count == 165
        else tuple(f"feature_{i}" for i in range(1, count + 1))
    )
    frame = pd.DataFrame(values[:, 2:], columns=list(names))
    frame.insert(0, "step", steps.astype(np.int64))
    frame.insert(0, "txId", ids.astype(np.int64))
    labels = _labels(classes, frame["txId"])
    frame["label"] = frame["txId"].map(labels).fillna(UNLABELLED)
    edge_count = 0
    if edges is not None:
        frame, edge_count = _with_degrees(frame, edges)
        names = (*names, "in_degree", "out_degree")
    labelled = frame[frame["label"] != UNLABELLED].reset_index(drop=True)
    if labelled["label"].nunique() < 2:
        raise ChainInputError("The classes file must label both illicit (1) and licit (2) transactions.")
    return EllipticData(labelled, names, int((frame["label"] == UNLABELLED).sum()), edge_count)


def _whole_ids(ids: np.ndarray) -> bool:
    """Whether every id is a whole number from 0 to 2^53 (exact in a float, so never silently rounded)."""
    return bool(np.isfinite(ids).all() and (ids == np.floor(ids)).all() and (ids >= 0).all() and (ids < 2**53).all())


def _labels(classes: bytes, known: pd.Series) -> pd.Series:
    table = _csv(classes, "The classes file", dtype=str, keep_default_na=False)
    if list(table.columns) != ["txId", "class"]:
        raise ChainInputError("The classes file needs the header txId,class.")
    bad = ~table["class"].isin([ILLICIT, LICIT, UNLABELLED])
    if bad.any():
        raise ChainInputError(f"Class {table['class'][bad].iloc[0][:20]!r} is not 1 (illicit), 2 (licit) or unknown.")
    ids = pd.to_numeric(table["txId"], errors="coerce")
    if not _whole_ids(ids.to_numpy(dtype=float)) or ids.duplicated().any():
        raise ChainInputError("Every txId in the classes file must be a whole number below 2^53 and appear once.")
    labels = pd.Series(table["class"].to_numpy(), index=ids.astype(np.int64).to_numpy())
    missing = ~labels.index.isin(known)
    if missing.any():
        raise ChainInputError(f"The classes file names {int(missing.sum()):,} txIds the features file lacks.")
    return labels


def _with_degrees(frame: pd.DataFrame, edges: bytes) -> tuple[pd.DataFrame, int]:
    table = _csv(edges, "The edges file")
    if list(table.columns) != ["txId1", "txId2"]:
        raise ChainInputError("The edges file needs the header txId1,txId2.")
    pairs = table.apply(pd.to_numeric, errors="coerce")
    if not _whole_ids(pairs.to_numpy(dtype=float).ravel()) or not pairs.isin(set(frame["txId"])).all().all():
        raise ChainInputError("Every edge must join two txIds of the features file.")
    out_degree = pairs["txId1"].value_counts()
    in_degree = pairs["txId2"].value_counts()
    frame = frame.assign(
        in_degree=frame["txId"].map(in_degree).fillna(0).to_numpy(),
        out_degree=frame["txId"].map(out_degree).fillna(0).to_numpy(),
    )
    return frame, len(pairs)


Predictor = Callable[[pd.DataFrame], np.ndarray]
Fitter = Callable[[pd.DataFrame, pd.Series], tuple[str, Predictor]]


def evaluate(
    data: EllipticData, fit: Fitter, *, seed: int = 0, train_last_step: int = TRAIN_LAST_STEP
) -> FraudEvaluation:
    """Train with `fit` (features, labels -> name and predictor of labels) on steps 1..`train_last_step`, test on
    the later steps; the paper's random forest is scored on the same split."""
    frame = data.frame
    train = frame["step"] <= train_last_step
    if train.sum() < 50 or (~train).sum() < 10:
        raise ChainInputError(f"The temporal split needs transactions both up to step {train_last_step} and after it.")
    features = list(data.feature_names)
    name, predict = fit(
        frame.loc[train, features].reset_index(drop=True), frame.loc[train, "label"].reset_index(drop=True)
    )
    test = frame[~train]
    automl = np.asarray(predict(test[features].reset_index(drop=True))).astype(str)
    forest = RandomForestClassifier(
        n_estimators=50, max_features=min(50, len(data.feature_names)), random_state=seed, n_jobs=1
    ).fit(frame.loc[train, features], frame.loc[train, "label"])
    reference = forest.predict(test[features]).astype(str)
    truth = test["label"].to_numpy()
    by_step = pd.DataFrame(
        [
            {
                "step": int(step),
                "transactions": len(part),
                "illicit": int((truth[part] == ILLICIT).sum()),
                "model F1": _f1(truth[part], automl[part]),
                "random forest F1": _f1(truth[part], reference[part]),
            }
            for step, part in test.reset_index(drop=True).groupby("step").indices.items()
        ]
    )
    overall = pd.DataFrame(
        [
            {
                "model": name,
                "precision": precision_score(truth, guess, pos_label=ILLICIT, zero_division=0),
                "recall": recall_score(truth, guess, pos_label=ILLICIT, zero_division=0),
                "F1": _f1(truth, guess),
            }
            for name, guess in ((name, automl), ("random forest (paper's settings)", reference))
        ]
    )
    predictions = test[["txId", "step", "label"]].assign(model=automl, random_forest=reference)
    return FraudEvaluation(by_step, overall, name, predictions.reset_index(drop=True))


def _f1(truth: np.ndarray, guess: np.ndarray) -> float:
    return float(f1_score(truth, guess, pos_label=ILLICIT, zero_division=0))


def synthetic_elliptic(transactions: int = 12_000, seed: int = 0) -> tuple[bytes, bytes, bytes]:
    """Features, classes and edges files of the Elliptic schema (165 features, 49 steps, about 23 % labelled, 10 %
    of them illicit) whose illicit transactions differ in a few features, and whose illicit pattern changes after
    step 43 as the real one did when a dark market closed."""
    rng = np.random.default_rng(seed)
    steps = np.sort(rng.integers(1, 50, transactions))
    features = rng.normal(0, 1, (transactions, 165))
    labelled = rng.random(transactions) < 0.23
    illicit = labelled & (rng.random(transactions) < 0.1)
    shift = np.where(steps[:, None] <= 43, [2.0, 1.6, -1.4, 1.2, 1.0], [-0.4, 0.2, 0.8, 0.0, 0.1])
    features[illicit, :5] += shift[illicit]
    features[illicit, 93:96] += 0.6
    ids = rng.choice(np.arange(10**6, 10**7), transactions, replace=False)
    table = pd.DataFrame(np.column_stack([ids, steps, features]))
    table[0], table[1] = ids, steps
    classes = pd.DataFrame({"txId": ids, "class": np.where(illicit, ILLICIT, np.where(labelled, LICIT, UNLABELLED))})
    sources = rng.integers(0, transactions, transactions)
    same_step = np.searchsorted(steps, steps[sources], side="left")
    targets = np.minimum(same_step + rng.integers(0, 50, transactions), transactions - 1)
    keep = (steps[targets] == steps[sources]) & (targets != sources)
    edges = pd.DataFrame({"txId1": ids[sources[keep]], "txId2": ids[targets[keep]]}).drop_duplicates()
    return (
        table.to_csv(header=False, index=False, float_format="%.5g").encode(),
        classes.to_csv(index=False).encode(),
        edges.to_csv(index=False).encode(),
    )
