"""The model registry: named, versioned models with their metadata in the warehouse and their files beside it.

Model files are joblib files that only this module writes, into the warehouse's own models folder; each file's
sha256 is recorded with it and checked before loading, and a path outside that folder is refused. Files a user
uploads are never loaded: the page offers no way to, and `load` only takes a registered name and version.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import joblib

from core.automl.model import TrainedModel
from core.automl.runner import Experiment
from core.warehouse import Warehouse, WarehouseError

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$")


class RegistryError(WarehouseError):
    """A model could not be registered or loaded; the message says why."""


def check_name(name: str) -> str:
    """A model name: letters, digits, spaces, `_ . -`, at most 64 characters."""
    name = name.strip()
    if not NAME_PATTERN.match(name):
        raise RegistryError(
            "A model name is 1–64 letters, digits, spaces, '_', '.' or '-', starting with a letter or digit."
        )
    return name


def register(warehouse: Warehouse, name: str, experiment: Experiment, experiment_id: int | None) -> int:
    """Save the experiment's model as the next version of `name`; returns the version."""
    name = check_name(name)
    model = experiment.result.model
    folder = warehouse.models_folder

    def write_file(version: int) -> tuple[str, str]:
        file = f"{re.sub(r'[^A-Za-z0-9_.-]', '_', name)}-v{version}-{uuid.uuid4().hex[:8]}.joblib"
        staging = folder / f".{file}.part"
        try:
            joblib.dump(model, staging, compress=3)
            staging.replace(folder / file)
        finally:
            staging.unlink(missing_ok=True)
        return file, _sha256(folder / file)

    entry = {
        "name": name,
        "experiment_id": experiment_id,
        "created_at": datetime.now(UTC).replace(tzinfo=None),
        "task": model.task,
        "target": model.schema.target,
        "metric": experiment.metric,
        "cv_score": model.cv_score,
        "test_score": experiment.test_score,
        "description": model.description,
        "features": json.dumps(asdict(model.schema)),
    }
    try:
        return warehouse.register_model(entry, write_file)
    except OSError as exc:
        raise RegistryError(f"The model file could not be written: {exc}") from exc


def load(warehouse: Warehouse, name: str, version: int) -> TrainedModel:
    """A registered model, after checking its file is the one registered (sha256)."""
    entry = warehouse.registered_model(name, version)
    folder = warehouse.models_folder.resolve()
    path = (folder / entry["file"]).resolve()
    if path.parent != folder:
        raise RegistryError(f"Model {name!r} v{version} points outside the registry folder; refused.")
    if not path.is_file():
        raise RegistryError(f"The file of model {name!r} v{version} is missing from {folder}.")
    if _sha256(path) != entry["sha256"]:
        raise RegistryError(f"The file of model {name!r} v{version} has changed since it was registered; refused.")
    model = joblib.load(path)
    if not isinstance(model, TrainedModel):
        raise RegistryError(f"The file of model {name!r} v{version} does not hold a CTAS model.")
    return model


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
