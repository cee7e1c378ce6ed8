"""`CTAS_WAREHOUSE=:memory:` (a throw-away warehouse, as the README offers) serves every page from one warehouse."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from core.warehouse import ENV_VAR
from tests.conftest import REPO


@pytest.mark.parametrize("page", ["pages/data.py", "pages/threat_map.py", "pages/automl.py", "pages/behaviour.py"])
def test_every_page_reads_the_one_in_memory_warehouse(monkeypatch: pytest.MonkeyPatch, page: str) -> None:
    monkeypatch.setenv(ENV_VAR, ":memory:")
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120).run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
