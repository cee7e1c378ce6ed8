"""Shared fixtures: the repository, the team's shared data, and fresh warehouses."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from core.warehouse import Warehouse

# CI runs the same examples every time (a failure there reproduces locally with HYPOTHESIS_PROFILE=ci).
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "default"))

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(autouse=True, scope="session")
def _signing_key(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Tests sign model and profile files with a key of their own, never the user's."""
    previous = os.environ.get("CTAS_KEY_FILE")
    os.environ["CTAS_KEY_FILE"] = str(tmp_path_factory.mktemp("key") / "artifact.key")
    yield
    if previous is None:
        os.environ.pop("CTAS_KEY_FILE", None)
    else:
        os.environ["CTAS_KEY_FILE"] = previous


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data beside the clone; its absence is an error, never a skip."""
    if not SHARED_DATA.is_dir():
        pytest.fail(f"The team's shared data is missing: expected it at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[Warehouse]:
    """A new warehouse in a temporary DuckDB file."""
    wh = Warehouse(tmp_path / "test.duckdb")
    yield wh
    wh.close()


@pytest.fixture(scope="session")
def trained_mapper(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> dict:
    """The technique mapper trained once on the shared TRAM sentences and ATT&CK (its registry entry and file)."""
    from core.intel.attack import training

    wh = Warehouse(tmp_path_factory.mktemp("mapper") / "mapper.duckdb")
    entry = training.train(wh)
    entry["path"] = wh.models_folder / entry["file"]
    wh.close()
    return entry


def install_mapper(warehouse: Warehouse, trained: dict) -> None:
    """Register the session's trained mapper in another warehouse (same signing key: the tag still verifies)."""
    from core.intel.attack.store import AttackStore

    shutil.copy(trained["path"], warehouse.models_folder / trained["file"])
    AttackStore(warehouse).register_mapper(trained)
