"""Report sentences to ATT&CK techniques: a linear model over word and character n-grams, trained on TRAM's labelled
sentences plus what ATT&CK itself offers (procedure examples and technique descriptions, relabelled onto TRAM's
techniques), with a softmax temperature fitted on report-grouped out-of-fold scores so its confidences are calibrated.

The recipe (features, C, the weight of ATT&CK's sentences) was chosen by report-grouped 5-fold cross-validation on
the shared TRAM sentences: `bench/mapper_select.py` reruns the comparison, `bench/intel.py` reports the figures.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.special import log_softmax, softmax
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.pipeline import make_union
from sklearn.svm import LinearSVC

from core.intel.attack.bundle import AttackRelease

C = 1.0
EXTRA_WEIGHT = 0.5
CALIBRATION_FOLDS = 2
TEMPERATURES = np.geomspace(0.02, 5.0, 60)
MAX_SENTENCE = 1_000  # characters of a sentence the model reads
_CITATION = re.compile(r"\s*\(Citation:[^)]{0,300}\)")
_LINK = re.compile(r"\[([^\]]{0,300})\]\([^)]{0,500}\)")
_CODE = re.compile(r"</?code>")
_SPACE = re.compile(r"\s+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\[\"'])|\n\s*\n|\n(?=\s*[-*•]\s)")


def clean(text: str) -> str:
    """ATT&CK prose as plain sentences: citations dropped, markdown links reduced to their text, code tags gone."""
    return _SPACE.sub(" ", _CODE.sub("", _LINK.sub(r"\1", _CITATION.sub("", text)))).strip()


def split_sentences(text: str, limit: int = 50_000) -> list[tuple[int, int]]:
    """(start, end) of each sentence of a report: ends at . ! ? before a capital, a blank line or a list item."""
    spans, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        if text[start : match.start()].strip():
            spans.append((start, match.start()))
        start = match.end()
        if len(spans) >= limit:
            return spans
    if text[start:].strip():
        spans.append((start, len(text)))
    return spans


def attack_sentences(release: AttackRelease, labels: set[str]) -> pd.DataFrame:
    """ATT&CK's own labelled sentences for `labels`: each procedure example (a uses relationship's text) and each
    sentence of a technique's name and description, relabelled onto `labels` (a revoked technique onto the one that
    revoked it, a sub-technique onto its parent when only the parent is a label); others are dropped."""
    objects = release.objects.set_index("stix_id")
    attack_id = objects["attack_id"]
    relationships = release.relationships
    revoked = relationships[relationships["type"] == "revoked-by"]
    successor = {
        attack_id.get(r.target_ref): attack_id.get(r.source_ref)
        for r in revoked.itertuples(index=False)
        if attack_id.get(r.source_ref) in labels and attack_id.get(r.target_ref) not in labels
    }

    def relabel(technique: str | None) -> str | None:
        if technique is None or technique in labels:
            return technique
        if technique in successor:
            return successor[technique]
        parent = technique.split(".", 1)[0]
        return parent if parent in labels else None

    live = objects[(objects["kind"] == "technique") & ~objects["deprecated"] & ~objects["revoked"]]
    uses = relationships[(relationships["type"] == "uses") & relationships["target_ref"].isin(live.index)]
    rows = [(clean(r.description), live.at[r.target_ref, "attack_id"]) for r in uses.itertuples() if r.description]
    for technique in live.itertuples():
        rows.append((technique.name, technique.attack_id))
        described = clean(technique.description or "")
        rows += [(described[a:b].strip(), technique.attack_id) for a, b in split_sentences(described)]
    frame = pd.DataFrame(rows, columns=["text", "label"])
    frame["label"] = frame["label"].map(relabel)
    return frame[frame["label"].notna() & (frame["text"].str.len() > 20)].reset_index(drop=True)


def features():
    """Word 1-2 grams and character 2-5 grams (within word boundaries), sub-linear TF-IDF, each seen at least twice."""
    return make_union(
        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2),
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2),
    )


@dataclass
class TechniqueMapper:
    """Sentences to techniques: `fit` on labelled sentences (TRAM's grouped by report, plus weighted extra ones),
    then `predict_proba`. Fitted attributes end with an underscore."""

    c: float = C
    extra_weight: float = EXTRA_WEIGHT
    calibration_folds: int = CALIBRATION_FOLDS

    def fit(self, sentences: pd.DataFrame, groups: np.ndarray, extra: pd.DataFrame) -> TechniqueMapper:
        """`sentences` (text, label) grouped by `groups` (their reports) and `extra` (text, label) sentences that
        only ever train. The features are fitted once on all the text (no labels are read); the temperature on
        out-of-fold scores of `sentences`, folds grouped by report; then the model on everything."""
        if not 0 <= self.extra_weight <= 10 or not 0 < self.c <= 100 or not 2 <= self.calibration_folds <= 10:
            raise ValueError("c must be in (0, 100], extra_weight in [0, 10], calibration_folds in [2, 10].")
        texts = sentences["text"].str.slice(0, MAX_SENTENCE).to_numpy(object)
        labels = sentences["label"].to_numpy(object)
        extra_texts = extra["text"].str.slice(0, MAX_SENTENCE).to_numpy(object)
        self.classes_ = np.array(sorted(set(labels)), object)
        self.features_ = features()
        everything = self.features_.fit_transform(np.concatenate([texts, extra_texts]))
        own, added = everything[: texts.size], everything[texts.size :]
        added_labels = extra["label"].to_numpy(object)

        def model(rows: np.ndarray) -> LinearSVC:
            weights = np.concatenate([np.ones(rows.size), np.full(added.shape[0], self.extra_weight)])
            return LinearSVC(C=self.c).fit(
                sparse.vstack([own[rows], added]), np.concatenate([labels[rows], added_labels]), sample_weight=weights
            )

        scores, truth = [], []
        folds = StratifiedGroupKFold(n_splits=self.calibration_folds, shuffle=True, random_state=0)
        for train, held in folds.split(texts, labels, groups):
            scores.append(self._scores(model(train), own[held]))
            truth.append(np.searchsorted(self.classes_, labels[held]))
        self.temperature_ = _temperature(np.vstack(scores), np.concatenate(truth))
        self.model_ = model(np.arange(texts.size))
        for _, vectorizer in self.features_.transformer_list:
            vectorizer.stop_words_ = None  # terms cut by min_df: only for inspection, most of the file's size
        return self

    def _scores(self, model: LinearSVC, rows) -> np.ndarray:
        """Decision scores of feature `rows` over `classes_` (a class the model never saw scores -inf)."""
        raw = model.decision_function(rows)
        if raw.ndim == 1:  # two classes: one score, positive for the second
            raw = np.column_stack([-raw, raw])
        out = np.full((rows.shape[0], self.classes_.size), -np.inf)
        out[:, np.searchsorted(self.classes_, model.classes_)] = raw
        return out

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        """Calibrated probabilities over `classes_`, one row per text."""
        clipped = np.array([t[:MAX_SENTENCE] for t in texts], object)
        if clipped.size == 0:
            return np.zeros((0, self.classes_.size))
        return softmax(self._scores(self.model_, self.features_.transform(clipped)) / self.temperature_, axis=1)

    def predict(self, texts: list[str]) -> list[tuple[str | None, float]]:
        """(technique, confidence) per text; a blank text gets (None, 0.0)."""
        probabilities = self.predict_proba(texts)
        best = probabilities.argmax(axis=1) if len(texts) else np.zeros(0, int)
        return [
            (str(self.classes_[b]), float(p[b])) if t.strip() else (None, 0.0)
            for t, p, b in zip(texts, probabilities, best, strict=True)
        ]


def _temperature(scores: np.ndarray, truth: np.ndarray) -> float:
    """The softmax temperature with the least negative log-likelihood of the true classes."""
    finite = np.where(np.isfinite(scores), scores, -1e9)
    losses = [-log_softmax(finite / t, axis=1)[np.arange(truth.size), truth].mean() for t in TEMPERATURES]
    return float(TEMPERATURES[int(np.argmin(losses))])
