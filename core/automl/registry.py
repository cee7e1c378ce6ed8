"""The model registry: named, versioned models with their metadata in the warehouse and their files beside it.

Model files are joblib files that only this module writes, into the warehouse's own models folder; each file's
sha256 is recorded with it and checked before loading, and a path outside that folder is refused. Files a user
uploads are never loaded: the page offers no way to, and `load` only takes a registered name and version.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from datetime import UTC, datetime

from core import artifacts
from core.automl.model import TrainedModel
from core.automl.runner import Experiment
from core.automl.store import AutomlStore
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
        return artifacts.write(folder, f"{name}-v{version}", model)

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
        return AutomlStore(warehouse).register_model(entry, write_file)
    except artifacts.ArtifactError as exc:
        raise RegistryError(f"Model {name!r}: {exc}") from exc


def load(warehouse: Warehouse, name: str, version: int) -> TrainedModel:
    """A registered model, after checking its file is the one registered (sha256)."""
    entry = AutomlStore(warehouse).registered_model(name, version)
    try:
        model = artifacts.read(warehouse.models_folder, entry["file"], entry["sha256"], f"model {name!r} v{version}")
    except artifacts.ArtifactError as exc:
        raise RegistryError(str(exc)) from exc
    if not isinstance(model, TrainedModel):
        raise RegistryError(f"The file of model {name!r} v{version} does not hold a CTAS model.")
    return model
