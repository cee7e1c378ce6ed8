"""Shared fixtures: the repository, the team's shared data, and fresh warehouses."""

from __future__ import annotations

import os
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
