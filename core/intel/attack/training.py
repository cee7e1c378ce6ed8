"""The technique mapper's life cycle: trained from the shared TRAM sentences and the ATT&CK enterprise bundle,
kept as a signed, versioned file beside the warehouse, loaded after its tag verifies, and applied to reports."""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from core import artifacts, safejson, tasks
from core.intel.attack.bundle import AttackBundleError, read_bundle
from core.intel.attack.mapper import TechniqueMapper, attack_sentences, split_sentences
from core.intel.attack.navigator import TECHNIQUE_ID
from core.intel.attack.store import AttackStore
from core.intel.service import feed_folders, find_file
from core.warehouse import Warehouse

TRAM_FILE = "tram_single_label_dev.json"
BUNDLE_FILE = "enterprise-attack.json.gz"
MAX_TRAM_BYTES = 20 * 2**20
MAX_REPORT_SENTENCES = 20_000


class MapperUnavailableError(AttackBundleError):
    """No mapper is stored and its training data is not on this machine."""


def _find(file_name: str) -> Path:
    path = find_file(file_name)
    if path is None:
        raise MapperUnavailableError(
            f"{file_name} was not found (looked in {', '.join(map(str, feed_folders()))}): the technique mapper "
            "cannot be trained here."
        )
    return path


def read_labelled(data: bytes, name: str) -> pd.DataFrame:
    """TRAM's format: a JSON list of objects with `text`, `label` (a technique id) and `doc_title`; an object
    without a usable text or label is skipped. Refuses anything that is not such a list."""
    items = safejson.loads(data, what=name, max_bytes=MAX_TRAM_BYTES)
    if not isinstance(items, list):
        raise AttackBundleError(f"{name} is not a JSON list of labelled sentences.")
    rows = [
        (item["text"], item["label"], str(item.get("doc_title", ""))[:500])
        for item in items
        if isinstance(item, dict) and isinstance(item.get("text"), str) and item["text"].strip()
        and isinstance(item.get("label"), str) and TECHNIQUE_ID.fullmatch(item["label"])
    ]  # fmt: skip
    if not rows:
        raise AttackBundleError(f"{name} holds no labelled sentence (text and a technique id label).")
    return pd.DataFrame(rows, columns=["text", "label", "doc_title"])


def train(warehouse: Warehouse) -> dict:
    """Train a mapper on the shared TRAM sentences and ATT&CK's own sentences, sign it, register it; its entry."""
    started = time.perf_counter()
    tram_bytes, bundle_bytes = _find(TRAM_FILE).read_bytes(), _find(BUNDLE_FILE).read_bytes()
    sentences = read_labelled(tram_bytes, TRAM_FILE)
    extra = attack_sentences(read_bundle(bundle_bytes, BUNDLE_FILE), set(sentences["label"]))
    tasks.check()
    mapper = TechniqueMapper().fit(sentences, sentences["doc_title"].to_numpy(object), extra)
    tasks.check()  # a cancelled training registers nothing
    store = AttackStore(warehouse)
    version = int(store.mappers()["version"].max()) + 1 if len(store.mappers()) else 1
    file, tag = artifacts.write(warehouse.models_folder, f"technique-mapper-v{version}", mapper)
    entry = {
        "file": file,
        "tag": tag,
        "trained_at": datetime.now(UTC).replace(tzinfo=None, microsecond=0),
        "tram_sha256": hashlib.sha256(tram_bytes).hexdigest(),
        "bundle_sha256": hashlib.sha256(bundle_bytes).hexdigest(),
        "sentences": len(sentences),
        "extra_sentences": len(extra),
        "labels": int(mapper.classes_.size),
        "temperature": mapper.temperature_,
        "seconds": time.perf_counter() - started,
    }
    entry["version"] = store.register_mapper(entry)
    return entry


def load(
    warehouse: Warehouse, *, train_if_missing: bool = True, version: int | None = None
) -> tuple[TechniqueMapper, dict]:
    """A registered mapper (the newest, or `version`; its file's tag checked before loading) and its entry; trains
    one first if none is registered and `train_if_missing`."""
    store = AttackStore(warehouse)
    found = store.mappers()
    if found.empty:
        if not train_if_missing:
            raise MapperUnavailableError("No technique mapper is trained yet.")
        train(warehouse)
        found = store.mappers()
    if version is not None:
        found = found[found["version"] == version]
        if found.empty:
            raise MapperUnavailableError(f"Technique mapper v{version} is not registered.")
    entry = found.iloc[0].to_dict()
    mapper = artifacts.read(
        warehouse.models_folder, entry["file"], entry["tag"], f"technique mapper v{entry['version']}"
    )
    if not isinstance(mapper, TechniqueMapper):
        raise artifacts.ArtifactError(f"The file of technique mapper v{entry['version']} holds something else.")
    return mapper, entry


def map_report(text: str, mapper: TechniqueMapper, min_confidence: float = 0.0) -> pd.DataFrame:
    """Each sentence of a report with its most likely technique and calibrated confidence (at least
    `min_confidence`): technique, confidence, sentence, offset."""
    spans = split_sentences(text, MAX_REPORT_SENTENCES)
    sentences = [text[a:b].strip() for a, b in spans]
    predicted = mapper.predict(sentences)
    frame = pd.DataFrame(
        {
            "technique": [p[0] for p in predicted],
            "confidence": [p[1] for p in predicted],
            "sentence": sentences,
            "offset": [a for a, _ in spans],
        }
    )
    return frame[frame["technique"].notna() & (frame["confidence"] >= min_confidence)].reset_index(drop=True)
