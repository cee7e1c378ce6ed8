"""AppTest harness: the whole app (navigation and sidebar included) on a temporary warehouse."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.warehouse import ENV_VAR
from tests.conftest import REPO


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[[str], AppTest]:
    """Open the app on one page (e.g. "pages/data.py") with its own warehouse file; fail on any exception."""
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "app.duckdb"))

    def open_page(page: str) -> AppTest:
        at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120).run()
        if page != "pages/home.py":
            at.switch_page(page).run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    return open_page
