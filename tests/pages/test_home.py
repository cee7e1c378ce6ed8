"""Home page: says what CTAS is, links every other page, and shows the warehouse."""

from __future__ import annotations

import subprocess
import sys

from streamlit.testing.v1 import AppTest

from core.warehouse import ENV_VAR
from tests.conftest import REPO
from ui.nav import PAGES


def test_home_introduces_ctas_and_links_every_page(app) -> None:
    at = app("pages/home.py")
    assert at.title[0].value == "CTAS — Convergent Threat Analysis System"
    links = {link.proto.page for link in at.get("page_link")}
    assert links == {
        "investigations", "data", "fbas", "bitcoin", "threat_map", "intel", "host_monitor", "automl", "behaviour"
    }  # fmt: skip
    assert len(PAGES) == 10
    metrics = {m.label: m.value for m in at.main.metric}
    assert metrics["Datasets"] == "2"  # the shipped samples, loaded on first run
    assert metrics["Rows"] == "22,059"


def test_sidebar_shows_the_warehouse(app) -> None:
    at = app("pages/home.py")
    sidebar = {m.label: m.value for m in at.sidebar.metric}
    assert sidebar["Datasets"] == "2"
    assert sidebar["Size"].endswith("MiB")
    assert any("app.duckdb" in md.value for md in at.sidebar.markdown)


def test_locked_warehouse_shows_a_clear_message_not_a_traceback(monkeypatch, tmp_path) -> None:
    locked = tmp_path / "locked.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, time; c = duckdb.connect({str(locked)!r}); print('ready', flush=True); time.sleep(120)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        monkeypatch.setenv(ENV_VAR, str(locked))
        at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120).run()
        assert not at.exception
        assert "The warehouse cannot be opened." in at.error[0].value
        assert f"is open in another process (PID {holder.pid})" in at.error[0].value
    finally:
        holder.kill()
        holder.wait()
