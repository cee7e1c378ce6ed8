"""Figures of threat intelligence part 2, printed by bench/intel.py: ATT&CK load and matrix, the technique mapper's
report-grouped cross-validation against the TF-IDF + linear SVM baseline, the correlation graph's build and
explanation times. One JSON line a figure."""

from __future__ import annotations

import gzip
import itertools
import json
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.svm import LinearSVC
from timing import median_seconds

from core.intel import service
from core.intel.attack.bundle import read_bundle
from core.intel.attack.mapper import TechniqueMapper, attack_sentences
from core.intel.attack.store import AttackStore
from core.intel.attack.training import read_labelled
from core.intel.graph.build import EventColumn, build_graph
from core.intel.graph.explain import explain
from core.intel.graph.model import ACTOR_KINDS
from core.intel.store import IntelStore
from core.warehouse import Warehouse
from core.warehouse.ingest import ingest_csv

FOLDS = 5


def attack_figures(intel: Path, folder: Path, emit: Callable[..., None]) -> None:
    """ATT&CK v18.1 enterprise into a new warehouse (median of 3) against plain json plus a dict index; the group x
    technique matrix (median of 20)."""
    data = (intel / "enterprise-attack.json.gz").read_bytes()
    store = AttackStore(Warehouse(folder / "attack.duckdb"))
    ctas = median_seconds(lambda: store.save(read_bundle(data, "enterprise"), "enterprise"), 3)

    def plain() -> None:
        objects = json.loads(gzip.decompress(data))["objects"]
        index = {o["id"]: o for o in objects}
        for o in objects:
            if o["type"] == "relationship":
                index.get(o["source_ref"]), index.get(o["target_ref"])

    baseline = median_seconds(plain, 3)
    emit(
        figure="attack_load",
        objects=len(store.objects("enterprise")),
        ctas_median_seconds=round(ctas, 3),
        plain_json_dict_index_median_seconds=round(baseline, 3),
        note="CTAS parses within bounds and stores objects and relationships in the warehouse; the plain baseline "
        "only parses and indexes in memory",
    )
    matrix = store.group_technique_matrix("enterprise")
    seconds = median_seconds(lambda: store.group_technique_matrix("enterprise"), 20)
    emit(
        figure="attack_group_technique_matrix",
        groups=matrix.shape[0],
        techniques=matrix.shape[1],
        pairs=int(matrix.to_numpy().sum()),
        median_milliseconds=round(1000 * seconds, 1),
    )


def _ece(confidence: np.ndarray, correct: np.ndarray, bins: int = 15) -> float:
    edges = np.linspace(0, 1, bins + 1)
    total = 0.0
    for low, high in itertools.pairwise(edges):
        inside = (confidence > low) & (confidence <= high)
        if inside.any():
            total += inside.mean() * abs(confidence[inside].mean() - correct[inside].mean())
    return float(total)


def mapper_figures(intel: Path, emit: Callable[..., None]) -> None:
    """Report-grouped 5-fold micro and macro F1 on the shared TRAM sentences: the CTAS mapper against TF-IDF +
    linear SVM on the same folds; the mapper's calibration (ECE, Brier) out of fold; its full training time."""
    tram = read_labelled((intel / "tram_single_label_dev.json").read_bytes(), "tram")
    extra = attack_sentences(read_bundle((intel / "enterprise-attack.json.gz").read_bytes(), "e"), set(tram["label"]))
    texts, labels, groups = tram["text"].to_numpy(object), tram["label"].to_numpy(object), tram["doc_title"].to_numpy()
    labels_sorted = sorted(set(labels))
    folds = StratifiedGroupKFold(n_splits=FOLDS, shuffle=True, random_state=0).split(texts, labels, groups)
    rows, oof_conf, oof_correct, brier = [], [], [], []
    for k, (train, held) in enumerate(folds):
        vectorizer = TfidfVectorizer()
        baseline = LinearSVC().fit(vectorizer.fit_transform(texts[train]), labels[train])
        base_pred = baseline.predict(vectorizer.transform(texts[held]))
        mapper = TechniqueMapper().fit(tram.iloc[train], groups[train], extra)
        probabilities = mapper.predict_proba(list(texts[held]))
        pred = mapper.classes_[probabilities.argmax(axis=1)]
        truth = np.searchsorted(mapper.classes_, labels[held])
        onehot = np.zeros_like(probabilities)
        known = mapper.classes_[np.minimum(truth, mapper.classes_.size - 1)] == labels[held]
        onehot[np.flatnonzero(known), truth[known]] = 1
        brier.append(((probabilities - onehot) ** 2).sum(axis=1))
        oof_conf.append(probabilities.max(axis=1))
        oof_correct.append(pred == labels[held])
        rows.append(
            {
                "fold": k,
                "held_reports": len(set(groups[held])),
                "held_sentences": len(held),
                "ctas_micro_f1": f1_score(labels[held], pred, average="micro"),
                "ctas_macro_f1": f1_score(labels[held], pred, average="macro"),
                "baseline_micro_f1": f1_score(labels[held], base_pred, average="micro"),
                "baseline_macro_f1": f1_score(labels[held], base_pred, average="macro"),
            }
        )
        emit(figure="mapper_fold", **{key: round(v, 4) if isinstance(v, float) else v for key, v in rows[-1].items()})
    table = pd.DataFrame(rows)
    emit(
        figure="mapper_report_grouped_cv",
        folds=FOLDS,
        split="StratifiedGroupKFold by doc_title, shuffle, random_state=0",
        sentences=len(tram),
        reports=len(set(groups)),
        labels=len(labels_sorted),
        extra_attack_sentences=len(extra),
        ctas_micro_f1=round(table["ctas_micro_f1"].mean(), 4),
        ctas_macro_f1=round(table["ctas_macro_f1"].mean(), 4),
        baseline_micro_f1=round(table["baseline_micro_f1"].mean(), 4),
        baseline_macro_f1=round(table["baseline_macro_f1"].mean(), 4),
        micro_f1_gain=round(table["ctas_micro_f1"].mean() - table["baseline_micro_f1"].mean(), 4),
        ctas_out_of_fold_ece=round(_ece(np.concatenate(oof_conf), np.concatenate(oof_correct)), 4),
        ctas_out_of_fold_brier=round(float(np.concatenate(brier).mean()), 4),
        baseline="TfidfVectorizer() + LinearSVC(), TRAM training folds only",
    )
    started = time.perf_counter()
    TechniqueMapper().fit(tram, groups, extra)
    emit(figure="mapper_training", sentences=len(tram) + len(extra), seconds=round(time.perf_counter() - started, 1))


def graph_figures(intel: Path, geo: Path, folder: Path, emit: Callable[..., None]) -> None:
    """The correlation graph over maltrail (1.83 M rows), ipsum (120 k) and the honeypot events (250 k) with
    ATT&CK v18.1: build time (median of 3), size, and explanation time (median over 200 nodes)."""
    warehouse = Warehouse(folder / "graph.duckdb")
    intel_store = IntelStore(warehouse)
    for feed in service.KNOWN_FEEDS[:2]:
        service.load_known_feed(intel_store, feed)
    AttackStore(warehouse).save(read_bundle((intel / "enterprise-attack.json.gz").read_bytes(), "e"), "enterprise")
    plain = folder / "honeypot.csv"
    with gzip.open(geo, "rb") as source, plain.open("wb") as out:
        shutil.copyfileobj(source, out)
    ingest_csv(warehouse, plain, "honeypot")
    columns = [EventColumn("honeypot", "srcstr", "ipv4")]
    build_graph(warehouse, columns, "enterprise")  # compiles the kernels
    graphs = []
    seconds = median_seconds(lambda: graphs.append(build_graph(warehouse, columns, "enterprise")), 3)
    graph = graphs[-1]
    emit(
        figure="graph_build",
        feed_rows=int(warehouse.query("SELECT count(*) AS n FROM intel_indicators")["n"][0]),
        events=252_702,
        nodes=graph.nodes,
        edges=graph.edges,
        inferred_edges=graph.edges - graph.first_inferred,
        edges_per_node=round(graph.edges / graph.nodes, 3),
        median_seconds=round(seconds, 2),
    )
    rng = np.random.default_rng(20261203)
    kinds = np.asarray(graph.kinds, object)[graph.kind]
    starts = np.concatenate(
        [rng.choice(np.flatnonzero(kinds == kind), 50) for kind in ("event", "domain", "ipv4", "group")]
    )
    times, reached = [], 0
    for start in starts:
        began = time.perf_counter()
        explanation = explain(graph, int(start))
        times.append(time.perf_counter() - began)
        reached += any(graph.kind_of(p.nodes[-1]) in ACTOR_KINDS for p in explanation.paths)
    emit(
        figure="graph_explanation",
        nodes_explained=len(starts),
        start_kinds="50 events, 50 domains, 50 IPv4, 50 groups",
        median_milliseconds=round(1000 * statistics.median(times), 1),
        max_milliseconds=round(1000 * max(times), 1),
        reaching_an_actor=reached,
    )
    warehouse.close()


def run(intel: Path, geo: Path, parts: set[str], emit: Callable[..., None]) -> None:
    """The figures of the parts asked for: attack, mapper, graph."""
    with tempfile.TemporaryDirectory() as folder:
        if "attack" in parts:
            attack_figures(intel, Path(folder), emit)
        if "mapper" in parts:
            mapper_figures(intel, emit)
        if "graph" in parts:
            graph_figures(intel, geo, Path(folder), emit)
