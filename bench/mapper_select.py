"""How the technique mapper's recipe was chosen: variants compared by report-grouped 5-fold micro and macro F1 on
the shared TRAM sentences (the same folds as bench/intel.py), one JSON line a variant, the best last.

    python bench/mapper_select.py

Each variant trains on the TRAM sentences of four folds (plus, where it says so, ATT&CK's procedure examples and
technique descriptions relabelled onto TRAM's techniques, `core.intel.attack.mapper.attack_sentences`) and is scored
on the reports of the fifth. The recipe fixed in `core/intel/attack/mapper.py` (features, C, EXTRA_WEIGHT) is the
best of these; the softmax temperature does not change which technique wins, so it is not part of the comparison.
A wider search (n-gram ranges, logistic regression, SGD, class weights, placeholders for actor names) was run while
building it; none of it beat this grid by more than 0.003 micro-F1.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.svm import LinearSVC

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from core.intel.attack.bundle import read_bundle  # noqa: E402
from core.intel.attack.mapper import attack_sentences, features  # noqa: E402
from core.intel.attack.training import read_labelled  # noqa: E402

INTEL = REPO.parent / "shared" / "data" / "intel"
VARIANTS = (  # name, features, with ATT&CK's sentences, their weight, C
    ("baseline: default TF-IDF + LinearSVC", "default", False, 0.0, 1.0),
    ("word+char n-grams", "word+char", False, 0.0, 1.0),
    ("default TF-IDF + ATT&CK sentences", "default", True, 1.0, 1.0),
    ("word+char + ATT&CK sentences, weight 1", "word+char", True, 1.0, 1.0),
    ("word+char + ATT&CK sentences, weight 0.5", "word+char", True, 0.5, 1.0),
    ("word+char + ATT&CK sentences, weight 0.5, C 0.3", "word+char", True, 0.5, 0.3),
    ("word+char + ATT&CK sentences, weight 0.3, C 1", "word+char", True, 0.3, 1.0),
)


def main() -> None:
    tram = read_labelled((INTEL / "tram_single_label_dev.json").read_bytes(), "tram")
    extra = attack_sentences(read_bundle((INTEL / "enterprise-attack.json.gz").read_bytes(), "e"), set(tram["label"]))
    texts, labels = tram["text"].to_numpy(object), tram["label"].to_numpy(object)
    folds = list(StratifiedGroupKFold(5, shuffle=True, random_state=0).split(texts, labels, tram["doc_title"]))
    results = []
    for name, kind, with_extra, weight, c in VARIANTS:
        started, micro, macro = time.perf_counter(), [], []
        for train, held in folds:
            x, y, w = texts[train], labels[train], np.ones(train.size)
            if with_extra:
                x = np.concatenate([x, extra["text"].to_numpy(object)])
                y = np.concatenate([y, extra["label"].to_numpy(object)])
                w = np.concatenate([w, np.full(len(extra), weight)])
            vectorizer = TfidfVectorizer() if kind == "default" else features()
            model = LinearSVC(C=c).fit(vectorizer.fit_transform(x), y, sample_weight=w)
            predicted = model.predict(vectorizer.transform(texts[held]))
            micro.append(f1_score(labels[held], predicted, average="micro"))
            macro.append(f1_score(labels[held], predicted, average="macro"))
        seconds = round(time.perf_counter() - started, 1)
        results.append({"variant": name, "micro_f1": round(float(np.mean(micro)), 4),
                        "macro_f1": round(float(np.mean(macro)), 4), "seconds": seconds})  # fmt: skip
        print(json.dumps(results[-1]), flush=True)
    best = max(results, key=lambda r: r["micro_f1"])
    print(json.dumps({"chosen": best["variant"], "micro_f1": best["micro_f1"], "macro_f1": best["macro_f1"]}))


if __name__ == "__main__":
    main()
