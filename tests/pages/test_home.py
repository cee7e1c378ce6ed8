"""Home page: says what CTAS is, links every other page, and shows the warehouse."""

from __future__ import annotations

from pathlib import Path

from ui.nav import PAGES


def test_home_introduces_ctas_and_links_every_page(app) -> None:
    at = app("pages/home.py")
    assert at.title[0].value == "CTAS — Convergent Threat Analysis System"
    links = {link.proto.page for link in at.get("page_link")}
    assert links == {Path(p.path).stem for p in PAGES if not p.default}  # links carry the pages' URL paths
    metrics = {m.label: m.value for m in at.main.metric}
    assert metrics["Datasets"] == "1"  # the shipped sample, loaded on first run
    assert metrics["Rows"] == "21,059"


def test_sidebar_shows_the_warehouse(app) -> None:
    at = app("pages/home.py")
    sidebar = {m.label: m.value for m in at.sidebar.metric}
    assert sidebar["Datasets"] == "1"
    assert sidebar["Size"].endswith("MiB")
    assert any("app.duckdb" in md.value for md in at.sidebar.markdown)
