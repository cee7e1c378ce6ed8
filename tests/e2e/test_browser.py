"""The running app in headless Chromium: every page opens cleanly, a CSV goes in through the uploader, and the
report it exports renders offline. Full-page screenshots land in artifacts/e2e/."""

from __future__ import annotations

import io
import json
import re
import shutil
import time
from pathlib import Path

import pytest
from pdfminer.high_level import extract_text
from playwright.sync_api import Browser, Locator, Page, expect

from core.cases import local_host
from core.fbas.synthetic import almost_symmetric
from core.intel.attack.bundle import read_bundle
from core.intel.attack.store import AttackStore
from core.intel.service import load_upload
from core.intel.store import IntelStore
from core.warehouse import Warehouse
from tests.conftest import REPO, install_mapper
from tests.core.intel.pdf_samples import make_pdf
from tests.e2e.conftest import serve_app
from tests.oracles import minimal_quorums_2025
from ui.nav import PAGES

pytestmark = pytest.mark.e2e
TIMEOUT_MS = 60_000


IDLE_POLLS = 15  # polls 100 ms apart with no "Running…" widget (it shows after a short delay) before a run is done


def _settle(page: Page) -> None:
    """Wait until Streamlit has finished running the script: its 'Running…' widget stays gone for IDLE_POLLS polls
    (a rerun it triggers itself starts within them)."""
    page.wait_for_load_state("networkidle")
    page.evaluate("() => { window.__ctasIdle = 0; }")
    page.wait_for_function(
        """(polls) => {
            const busy = document.querySelector('[data-testid="stStatusWidget"]');
            window.__ctasIdle = busy ? 0 : window.__ctasIdle + 1;
            return window.__ctasIdle >= polls;
        }""",
        arg=IDLE_POLLS,
        polling=100,
        timeout=TIMEOUT_MS,
    )


def _next_frames(page: Page) -> None:
    """Wait until the browser has drawn two more frames (layout and paint after a change)."""
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")


def _assert_clean(page: Page) -> None:
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    expect(page.locator('[data-testid="stAlertContentError"]')).to_have_count(0)


def _screenshot(page: Page, path: Path) -> None:
    """A full-page PNG: the viewport grows to the height of Streamlit's scrolling main area first."""
    page.mouse.move(1, 1)  # no hover toolbars over the content
    page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]')?.scrollTo(0, 0)")
    height = page.evaluate(
        "() => { const b = document.querySelector('[data-testid=\"stMainBlockContainer\"]');"
        " return b ? b.getBoundingClientRect().bottom + 48 : document.body.scrollHeight; }"
    )
    page.set_viewport_size({"width": 1440, "height": min(max(int(height), 900), 8000)})
    _next_frames(page)
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000


def test_the_fbas_criticality_sweep_on_a_local_cluster_shows_progress_cancels_and_ranks(
    page: Page, tmp_path: Path, artifacts: Path
) -> None:
    """The app with CTAS_COMPUTE=local:2 (two real worker processes): the sweep shows done, total and time left,
    stops on Cancel, and run again ranks every organization."""
    with serve_app(tmp_path, CTAS_COMPUTE="local:2") as url:
        _open(page, url, "pages/fbas.py")
        expect(page.locator('[data-testid="stSidebar"]')).to_contain_text("a local Dask cluster of 2 worker processes")
        page.get_by_text("Organization", exact=True).last.click()  # the sweep's grouping (the first is the scan's)
        _settle(page)
        page.get_by_role("button", name="Run the sweep").click()
        progress = page.get_by_text(re.compile(r"\d+ of 26 done in [\d.]+ s"))
        expect(progress).to_be_visible(timeout=TIMEOUT_MS)
        _screenshot(page, artifacts / "fbas-sweep-running.png")
        page.get_by_role("button", name=re.compile("Cancel")).click()
        expect(page.get_by_text("Analysis cancelled.")).to_be_visible(timeout=10_000)
        _settle(page)
        _assert_clean(page)
        page.get_by_role("button", name="Run the analysis again").click()
        expect(page.get_by_text(re.compile("Most critical organization: "))).to_be_visible(timeout=TIMEOUT_MS)
        _settle(page)
        _assert_clean(page)
        expect(page.locator('[data-testid="stPlotlyChart"]').last).to_be_visible()
        _screenshot(page, artifacts / "fbas-sweep.png")


@pytest.fixture
def page(browser: Browser) -> Page:
    context = browser.new_context(viewport={"width": 1440, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors in the page: {errors}"


def _download(page: Page, button: str, path: Path) -> str:
    """Click a download button, keep the file at `path` and return its text."""
    with page.expect_download() as download_info:
        page.get_by_role("button", name=re.compile(button)).click()
    download_info.value.save_as(path)
    return path.read_text(encoding="utf-8")


def _open(page: Page, app_url: str, page_file: str) -> None:
    url_path = "" if page_file == "pages/home.py" else Path(page_file).stem
    page.goto(f"{app_url}/{url_path}")
    _settle(page)
    expect(page.locator("h1").first).to_be_visible()


def test_every_page_opens_cleanly(page: Page, app_url: str, artifacts: Path) -> None:
    for spec in PAGES:
        _open(page, app_url, spec.path)
        _assert_clean(page)
        _screenshot(page, artifacts / f"{Path(spec.path).stem}.png")
    _open(page, app_url, "pages/home.py")
    expect(page.get_by_text("CTAS — Convergent Threat Analysis System")).to_be_visible()
    # Dataframe cells are drawn on a canvas; their text lives in an accessibility grid that is attached, not shown.
    expect(page.locator('[data-testid="stDataFrame"] td', has_text="honeypot_events_2013").first).to_be_attached()


def test_upload_ingest_and_report(page: Page, app_url: str, artifacts: Path, shared_data: Path) -> None:
    source = shared_data / "automl" / "credit_g.csv"
    _open(page, app_url, "pages/data.py")
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(source))
    _settle(page)
    expect(page.get_by_text("1,000", exact=True).first).to_be_visible()
    _assert_clean(page)
    _screenshot(page, artifacts / "data-preview.png")

    page.get_by_role("button", name=re.compile("Ingest into the warehouse")).click()
    _settle(page)
    expect(page.get_by_text(re.compile(r"Stored 1,000 rows of credit_g\.csv as credit_g"))).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("Download PNG"))).to_be_visible()
    _assert_clean(page)
    _screenshot(page, artifacts / "data-ingested.png")

    html = _download(page, "Download report", artifacts / "data-report.html")
    assert "credit_g" in html
    assert not re.search(r"<script[^>]+src=", html), "the report must not load scripts from anywhere"

    offline = page.context.new_page()
    offline.route("**/*", lambda route: route.abort())  # nothing may be fetched: the report is self-contained
    offline.set_content(html, wait_until="load")
    expect(offline.locator(".js-plotly-plot .main-svg").first).to_be_visible()
    expect(offline.locator("table.data").first).to_be_visible()
    offline.set_viewport_size({"width": 1280, "height": 2400})
    offline.screenshot(path=str(artifacts / "data-report.png"), full_page=True)


def test_fbas_upload_what_if_and_diff(page: Page, app_url: str, artifacts: Path, shared_data: Path) -> None:
    folder = shared_data / "fbas" / "python-fbas"
    _open(page, app_url, "pages/fbas.py")
    page.get_by_text("Upload", exact=True).click()
    _settle(page)
    uploads = page.locator('[data-testid="stFileUploaderDropzoneInput"]')
    uploads.nth(0).set_input_files(str(folder / "network-2025-01-03.json"))
    _settle(page)
    uploads.nth(1).set_input_files(str(folder / "organizations-2025-01-03.json"))
    _settle(page)
    expect(page.get_by_text(minimal_quorums_2025(), exact=True)).to_be_visible()
    _assert_clean(page)
    _screenshot(page, artifacts / "fbas-overview.png")
    graph = page.locator('[data-testid="stPlotlyChart"]').first
    graph.scroll_into_view_if_needed()
    graph.screenshot(path=str(artifacts / "fbas-graph.png"))

    organizations = page.locator('[data-testid="stMultiSelect"]').first
    organizations.click()
    page.keyboard.type("LOBSTR")
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    _settle(page)
    page.get_by_role("button", name=re.compile("Take offline")).click()
    _settle(page)
    expect(page.get_by_text("was 23")).to_be_visible()  # top tier size, in the metric's delta
    expect(page.get_by_text(f"was {minimal_quorums_2025()}")).to_be_visible()
    expect(page.get_by_text(re.compile("Edits: 5 node"))).to_be_visible()
    _assert_clean(page)
    _screenshot(page, artifacts / "fbas-diff.png")


def _map_pixels(page: Page, path: Path) -> list[tuple[int, int, int]]:
    """Screenshot the deck.gl map once it has drawn (more than MAP_COLOURS colours) and return its pixels."""
    from PIL import Image

    chart = page.locator('[data-testid="stDeckGlJsonChart"]').first
    chart.scroll_into_view_if_needed()
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while True:  # deck.gl draws on later animation frames: wait for a drawn map, not for a fixed time
        _next_frames(page)
        chart.screenshot(path=str(path))
        with Image.open(path) as image:
            pixels = list(image.convert("RGB").get_flattened_data())
        if _colours(pixels) > MAP_COLOURS or time.monotonic() > deadline:
            return pixels


MAP_COLOURS = 8


def _colours(pixels: list[tuple[int, int, int]]) -> int:
    return len({(r // 32, g // 32, b // 32) for r, g, b in pixels})


def _hover_tooltip(page: Page) -> str:
    """Sweep the pointer over the map until a cell's tooltip shows; its text, or "" if none did."""
    box = page.locator('[data-testid="stDeckGlJsonChart"]').first.bounding_box()
    tooltip = page.locator(".deck-tooltip")
    for fy in (0.3, 0.35, 0.4, 0.45, 0.5):
        for fx in (x / 60 for x in range(5, 58)):
            page.mouse.move(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)
            _next_frames(page)
            if tooltip.count() and tooltip.first.is_visible() and tooltip.first.inner_text().strip():
                return tooltip.first.inner_text()
    return ""


def _cells_metric(page: Page) -> str:
    metric = page.locator('[data-testid="stMetric"]', has_text=re.compile(r"^Cells"))
    return metric.locator('[data-testid="stMetricValue"]').inner_text()


def test_threat_map_draws_hexagons_and_follows_the_resolution(page: Page, app_url: str, artifacts: Path) -> None:
    _open(page, app_url, "pages/threat_map.py")
    expect(page.locator('[data-testid="stDeckGlJsonChart"] canvas').first).to_be_attached()
    _assert_clean(page)
    pixels = _map_pixels(page, artifacts / "threat-map-res3-map.png")
    assert _colours(pixels) > MAP_COLOURS  # land, borders, cells: not a blank canvas
    assert sum(r > 170 and g < 110 and b < 100 for r, g, b in pixels) > 20  # hot spots drawn in the legend's reds
    tooltip = _hover_tooltip(page)
    assert re.search(r"^[0-9a-f]{15}\n\d+ events · threat score [\d.]+\nGi\* z", tooltip), tooltip
    _screenshot(page, artifacts / "threat-map-res3.png")
    cells_at_3 = _cells_metric(page)

    slider = page.locator('[data-testid="stSlider"]', has_text="H3 resolution").get_by_role("slider")
    slider.focus()
    page.keyboard.press("ArrowLeft")  # resolution 2
    _settle(page)
    expect(page.locator('[data-testid="stMetric"]', has_text=re.compile(r"^Cells"))).not_to_contain_text(cells_at_3)
    assert int(_cells_metric(page).replace(",", "")) < int(cells_at_3.replace(",", ""))
    _assert_clean(page)
    _map_pixels(page, artifacts / "threat-map-res2-map.png")
    _screenshot(page, artifacts / "threat-map-res2.png")


def test_threat_map_playback_moves_the_window(page: Page, app_url: str, artifacts: Path) -> None:
    _open(page, app_url, "pages/threat_map.py")
    window = page.locator('[data-testid="stSlider"]', has_text="Time window")
    play = page.locator('[data-testid="stCheckbox"]', has_text="Play")
    first = window.inner_text()
    play.click()
    expect(window).not_to_have_text(first, timeout=TIMEOUT_MS)  # the player's next tick moved it
    play.click()  # paused: while playing the page reruns every few seconds and on a loaded machine is never idle
    _settle(page)
    _assert_clean(page)
    _screenshot(page, artifacts / "threat-map-played.png")


def test_host_monitor_updates_live_fires_an_alert_and_acknowledges_it(
    page: Page, app_url: str, artifacts: Path
) -> None:
    _open(page, app_url, "pages/host_monitor.py")
    caption = page.locator('[data-testid="stCaptionContainer"]', has_text="updated").first
    for _ in range(2):  # the live panel refreshes itself every 2 s without a page reload
        expect(caption).not_to_have_text(caption.inner_text(), timeout=TIMEOUT_MS)
    expect(page.locator('[data-testid="stPlotlyChart"]').first).to_be_visible(timeout=30_000)
    _add_cpu_rule(page)
    _screenshot(page, artifacts / "host-monitor-alert.png")
    page.get_by_role("button", name="Acknowledge").first.click()
    expect(page.locator('[data-testid="stMarkdownContainer"]', has_text="acknowledged").first).to_be_visible(
        timeout=30_000
    )
    _assert_clean(page)


def _add_cpu_rule(page: Page) -> None:
    """On the Host monitor, add a rule that fires at once ("CPU above -1") and wait for its alert."""
    page.get_by_text("Alert rules").click()
    form = page.locator('[data-testid="stForm"]')
    form.get_by_label("Name").fill("CPU above -1")
    form.get_by_label("Above").fill("-1")
    _submit(form, "Add rule", cleared=form.get_by_label("Name"))
    alert = page.locator('[data-testid="stMarkdownContainer"]', has_text="CPU above -1").first
    expect(alert).to_be_visible(timeout=30_000)


def _submit(form: Locator, button: str, *, cleared: Locator) -> None:
    """Submit a clear-on-submit form and wait until it has cleared. A click that lands while the page's live panel is
    redrawing can be lost on a loaded machine: it is clicked once more if the form is still filled after 15 s."""
    for attempt in range(2):
        form.get_by_role("button", name=button).click()
        try:
            expect(cleared).to_have_value("", timeout=15_000)
            return
        except AssertionError:
            if attempt:
                raise


def test_a_deep_link_as_the_first_visit_gets_the_app_navigation(page: Page, tmp_path: Path) -> None:
    """Streamlit runs a first deep link as a legacy pages/ app; CTAS must rerun it through app.py."""
    with serve_app(tmp_path) as url:
        page.goto(f"{url}/data")
        _settle(page)
        nav = page.locator('[data-testid="stSidebarNav"]')
        expect(nav).to_contain_text("Threat map")
        expect(nav).to_contain_text("FBAS topology")
        expect(page.locator('[data-testid="stSidebar"]')).to_contain_text("Warehouse")  # app.py's sidebar


def test_a_long_fbas_analysis_can_be_cancelled(page: Page, app_url: str, tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    # 72 nodes, not quite symmetric (a symmetric tier would be answered at once): over a minute of search
    big.write_text(json.dumps(almost_symmetric(organizations=24, deletions=3, seed=3)))
    _open(page, app_url, "pages/fbas.py")
    page.get_by_text("Upload", exact=True).click()
    _settle(page)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').nth(0).set_input_files(str(big))
    cancel = page.get_by_role("button", name=re.compile("Cancel"))
    expect(cancel).to_be_visible(timeout=20_000)
    expect(page.get_by_text(re.compile(r"Running for \d+\.\d s"))).to_be_visible()
    cancel.click()
    expect(page.get_by_text("Analysis cancelled.")).to_be_visible(timeout=10_000)
    _settle(page)
    _assert_clean(page)
    page.get_by_role("button", name="Run the analysis again").click()
    expect(page.get_by_role("button", name=re.compile("Cancel"))).to_be_visible(timeout=20_000)  # it runs again
    page.get_by_text("Shipped snapshot", exact=True).click()  # any other input stops it too
    expect(page.get_by_text(minimal_quorums_2025(), exact=True)).to_be_visible(timeout=60_000)
    _assert_clean(page)


def test_automl_upload_run_leaderboard_register_and_predict(
    page: Page, app_url: str, artifacts: Path, shared_data: Path
) -> None:
    source = shared_data / "automl" / "diabetes_reg.csv"
    _open(page, app_url, "pages/automl.py")
    page.get_by_text("Upload a CSV file as a new data set").click()
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(str(source))
    _settle(page)
    page.get_by_role("button", name=re.compile("Add to the warehouse")).click()
    _settle(page)
    expect(page.get_by_text(re.compile(r"Stored 442 rows as diabetes_reg"))).to_be_visible()
    expect(page.get_by_text(re.compile("metric: R²"))).to_be_visible()

    page.get_by_text("Settings", exact=True).click()
    budget = page.locator('[data-testid="stSlider"]', has_text="Time budget").get_by_role("slider")
    budget.focus()
    page.keyboard.press("ArrowLeft")  # 30 s
    page.keyboard.press("ArrowLeft")  # 20 s
    _settle(page)
    expect(page.locator('[data-testid="stSlider"]', has_text="Time budget")).to_contain_text("20")
    page.get_by_role("button", name=re.compile("Start the run")).click()
    expect(page.get_by_text(re.compile(r"Searching: \d+ of 20 s"))).to_be_visible(timeout=20_000)
    expect(page.get_by_text(re.compile(r"Searching: ([89]|1\d) of 20 s, [1-9]\d* trials"))).to_be_visible(
        timeout=TIMEOUT_MS
    )  # a few trials in, for the screenshot
    _screenshot(page, artifacts / "automl-running.png")
    expect(page.get_by_text(re.compile(r"Experiment #\d+: diabetes_reg → target"))).to_be_visible(timeout=60_000)
    _settle(page)
    _assert_clean(page)
    tiles = page.locator('[data-testid="stMetric"]')
    expect(tiles.filter(has_text="Test R²")).to_be_visible()
    r2 = float(tiles.filter(has_text="Test R²").locator('[data-testid="stMetricValue"]').inner_text())
    assert 0.2 < r2 < 0.8  # linear models reach about 0.4-0.5 on diabetes; anything outside is broken
    used = tiles.filter(has_text="Time used").locator('[data-testid="stMetricValue"]').inner_text()
    assert float(used.split()[0]) > 0  # shown as a time; how long runs take against budgets is bench/automl_budget.py
    expect(page.locator('[data-testid="stDataFrame"]').nth(1)).to_be_visible()  # the leaderboard
    _screenshot(page, artifacts / "automl-results.png")

    page.get_by_label("Model name").fill("diabetes progression")
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_text("Registered diabetes progression version 1")).to_be_visible()

    page.get_by_role("tab", name="Registry and prediction").click()
    _settle(page)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').last.set_input_files(str(source))
    _settle(page)
    expect(page.get_by_text("Predicted 442 rows with diabetes progression v1.")).to_be_visible()
    _assert_clean(page)
    _screenshot(page, artifacts / "automl-predict.png")
    lines = _download(page, "Download predictions CSV", artifacts / "automl-predictions.csv").splitlines()
    assert len(lines) == 443 and lines[0].endswith(",predicted target")


def _choose(page: Page, label: str, option: str) -> None:
    """Pick an option of a Streamlit selectbox by its label."""
    page.get_by_label(label).first.click()
    page.get_by_role("option", name=option).click()
    _settle(page)


def _replay(page: Page, url: str) -> None:
    """Enrol the sample's three users and replay their live session as fast as possible, to its end."""
    _open(page, url, "pages/behaviour.py")
    page.get_by_role("button", name="Enrol alice, bob and carol from the sample").click()
    expect(page.get_by_text(re.compile(r"^Enrolled alice")).first).to_be_visible(timeout=180_000)
    _settle(page)
    _pick(page, "Speed", "as fast as possible")
    page.get_by_role("button", name="Start").click()
    # stopped after counting events: "Feed stopped" alone also shows before the replay has begun
    expect(page.get_by_text(re.compile(r"^Feed stopped.*events accepted")).first).to_be_visible(timeout=120_000)


def test_behaviour_enrol_replay_takeover_and_evaluation(page: Page, app_url: str, artifacts: Path) -> None:
    _replay(page, app_url)  # the whole session replayed
    charts = page.locator('[data-testid="stPlotlyChart"]')
    expect(page.get_by_text("alice: trust scores per 30 s window").first).to_be_visible(timeout=120_000)
    expect(page.locator('[data-testid="stMetricValue"]', has_text="NORMAL").first).to_be_visible()
    _assert_clean(page)
    _screenshot(page, artifacts / "behaviour-live.png")
    report = _download(page, "Download report", artifacts / "behaviour-report.html")
    assert "alice: trust scores" in report and "Require MFA re-authentication" in report
    page.get_by_role("tab", name="Session replay").click()
    expect(page.get_by_text("Mouse path").first).to_be_visible()
    page.get_by_role("tab", name="Evaluation").click()
    expect(page.locator('[data-testid="stMetricValue"]', has_text="1.000").first).to_be_visible(timeout=60_000)
    assert charts.count() >= 4
    _assert_clean(page)
    _screenshot(page, artifacts / "behaviour-evaluation.png")


def test_intel_paste_load_match_and_export(page: Page, app_url: str, artifacts: Path) -> None:
    _open(page, app_url, "pages/intel.py")
    page.get_by_role("tab", name="Feeds").click()
    page.get_by_role("button", name="Load", exact=True).click()  # ipsum is the default choice
    _settle(page)
    expect(page.get_by_text(re.compile(r"ipsum: 120,430 indicators"))).to_be_visible()
    expect(page.get_by_text(re.compile(r"days old"))).to_be_visible()  # the snapshot is months old: a stale warning
    _assert_clean(page)
    _screenshot(page, artifacts / "intel-feeds.png")

    page.get_by_role("tab", name="Report").click()
    report = (
        "The loader (SHA256 62c4c17f78faa7adae5d18765d0e2d56b307d1563c2411e17c6cb0300f88fe30) beacons to "
        "hxxps://cdn-sync-update[.]com/api/v2/check and 77.90.185[.]20; it moved laterally from 10.0.4.21 "
        "(T1021.002) after exploiting CVE-2023-36884."
    )
    page.get_by_label("Paste a report, an e-mail or a ticket").fill(report)
    page.keyboard.press("Control+Enter")
    _settle(page)
    expect(page.get_by_text("Listed in a feed")).to_be_visible()
    expect(page.locator('[data-testid="stDataFrame"] td', has_text="cdn-sync-update.com").first).to_be_attached()
    _assert_clean(page)
    _screenshot(page, artifacts / "intel-report.png")
    bundle = json.loads(_download(page, "Download STIX 2.1 bundle", artifacts / "intel-indicators.stix.json"))
    patterns = {o["pattern"] for o in bundle["objects"]}
    assert "[ipv4-addr:value = '77.90.185.20']" in patterns
    assert "[domain-name:value = 'cdn-sync-update.com']" in patterns
    assert not any("10.0.4.21" in p for p in patterns)  # benign indicators are left out of the bundle

    page.get_by_role("tab", name="Match").click()
    _choose(page, "Dataset", "honeypot_events_2013")
    page.get_by_role("button", name="Match", exact=True).click()
    _settle(page)
    expect(page.get_by_text(re.compile(r"21,059 events, [\d,]+ hits"))).to_be_visible()
    expect(page.locator(".js-plotly-plot:visible").first).to_be_visible()
    _assert_clean(page)
    _screenshot(page, artifacts / "intel-match.png")
    html = _download(page, "Download report", artifacts / "intel-report.html")
    assert "Matches in honeypot_events_2013" in html and "Feeds in the warehouse" in html


def test_intel_report_techniques_actor_explanation_and_layer(
    page: Page, tmp_path: Path, artifacts: Path, shared_data: Path, trained_mapper: dict
) -> None:
    """A server of its own, its warehouse seeded with ATT&CK v18.1, the trained mapper and a feed naming an IP of
    the honeypot sample: upload a report, see its techniques on the matrix, open an actor, follow an explanation,
    export the Navigator layer."""
    warehouse = Warehouse(tmp_path / "e2e.duckdb")
    release = read_bundle((shared_data / "intel" / "enterprise-attack.json.gz").read_bytes(), "enterprise")
    AttackStore(warehouse).save(release, "enterprise v18.1")
    install_mapper(warehouse, trained_mapper)
    load_upload(IntelStore(warehouse), "analyst", "analyst.csv", b"value,family\n61.131.218.218,agenttesla\n")
    warehouse.close()
    report = tmp_path / "lure-report.pdf"  # a PDF: its text is read in the reader's limited child process
    sentences = [
        "The attachment drops a loader.",
        "It dumps credentials from LSASS memory with Mimikatz.",
        "Persistence comes from a Run key in the registry.",
        "The lure matches T1566.001.",
    ]
    report.write_bytes(make_pdf([sentences]))
    with serve_app(tmp_path) as url:
        _open(page, url, "pages/intel.py")
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(str(report))
        _settle(page)
        expect(page.get_by_text("Text of 1 of 1 PDF pages.")).to_be_visible()
        expect(page.get_by_text("ATT&CK techniques", exact=True)).to_be_visible()
        matrix = page.locator(".js-plotly-plot:visible").filter(has_text="The report's techniques on ATT&CK")
        expect(matrix).to_be_visible()
        expect(matrix.get_by_text("T1003", exact=True)).to_be_attached()
        _assert_clean(page)
        _screenshot(page, artifacts / "intel-techniques.png")
        layer = json.loads(_download(page, "Download Navigator layer", artifacts / "intel-report-layer.json"))
        assert {"T1003.001", "T1547.001", "T1566.001"} <= {t["techniqueID"] for t in layer["techniques"]}

        page.get_by_role("tab", name="ATT&CK").click()
        page.get_by_label("Search ids, names, aliases and descriptions").fill("Fancy Bear")
        page.keyboard.press("Enter")
        _settle(page)
        _choose(page, "Open an object", "G0007")
        expect(page.get_by_text("G0007 APT28 (group)")).to_be_visible()
        expect(page.locator(".js-plotly-plot:visible").filter(has_text="APT28 on the ATT&CK matrix")).to_be_visible()
        _assert_clean(page)
        _screenshot(page, artifacts / "intel-actor.png")

        page.get_by_role("tab", name="Graph").click()
        page.get_by_role("button", name="Build the graph").click()
        _settle(page)
        expect(page.get_by_text(re.compile(r"values counted instead of linked"))).to_be_visible(timeout=120_000)
        page.get_by_label(re.compile("Event, indicator, family or actor")).fill("61.131.218.218")
        page.keyboard.press("Enter")
        _settle(page)
        expect(
            page.get_by_text(re.compile(r"listed as family agenttesla .* Agent Tesla \(S0331\)")).first
        ).to_be_visible()
        expect(page.locator(".js-plotly-plot:visible").filter(has_text="Why:")).to_be_visible()
        _assert_clean(page)
        _screenshot(page, artifacts / "intel-graph.png")


HOST = local_host().lower()


def _ingest_story(page: Page, url: str, events: Path) -> None:
    _open(page, url, "pages/data.py")
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(events))
    _settle(page)
    page.get_by_role("button", name=re.compile("Ingest into the warehouse")).click()
    _settle(page)
    expect(page.get_by_text(re.compile(r"Stored 21,059 rows of honeypot_story\.csv as honeypot_story"))).to_be_visible()


def _match(page: Page, url: str) -> None:
    _open(page, url, "pages/intel.py")
    page.get_by_role("tab", name="Feeds").click()
    page.get_by_role("button", name="Load", exact=True).click()  # ipsum is the default choice
    _settle(page)
    page.get_by_role("tab", name="Match").click()
    _choose(page, "Dataset", "honeypot_story")
    page.get_by_role("button", name="Match", exact=True).click()
    _settle(page)
    expect(page.get_by_text(re.compile(r"21,059 events, [\d,]+ hits"))).to_be_visible()


def _pick(page: Page, label: str, text: str) -> None:
    """Choose the first option of a selectbox or multiselect that starts with `text`, typing it to filter the list
    (typing opens the list even where a click right after a form's rerun does not)."""
    field = page.get_by_label(label)
    for attempt in range(2):  # a click that lands while the page redraws is lost: typed once more
        field.click()
        field.fill(text)
        option = page.get_by_role("option", name=re.compile("^" + re.escape(text))).first
        try:
            expect(option).to_be_visible(timeout=15_000)
            break
        except AssertionError:
            if attempt:
                raise
    option.click()
    page.keyboard.press("Escape")
    _settle(page)


def _host_alert(page: Page, url: str) -> None:
    _open(page, url, "pages/host_monitor.py")
    _add_cpu_rule(page)


def test_a_corroborated_host_becomes_a_closed_case_with_its_reports(
    page: Page, tmp_path: Path, artifacts: Path
) -> None:
    events = tmp_path / "honeypot_story.csv"
    shutil.copy(REPO / "data" / "samples" / "honeypot_events_2013.csv", events)
    with serve_app(tmp_path) as url:
        _ingest_story(page, url, events)
        _match(page, url)
        _replay(page, url)
        _host_alert(page, url)

        _open(page, url, "pages/investigations.py")
        picker = page.get_by_label("Entity", exact=True)
        expect(picker).to_be_visible()
        top = picker.input_value()
        assert top.startswith(f"host {HOST}") and "behaviour, host monitor" in top  # two capabilities agree
        expect(page.locator('[data-testid="stMetricValue"]').nth(2)).not_to_have_text("0")
        _assert_clean(page)
        _screenshot(page, artifacts / "investigations-queue.png")

        page.get_by_role("button", name="Open a case", exact=True).click()
        _settle(page)
        expect(page.locator('[data-testid="stMetricValue"]', has_text="open").first).to_be_visible()
        _pick(page, "Signals to add as evidence", "intel · ipsum")
        page.get_by_role("button", name="Add evidence").click()
        _settle(page)
        expect(page.get_by_text(re.compile(r"Added \d+ signals, frozen as they are now"))).to_be_visible()
        page.get_by_label("Note", exact=True).fill("Alice's session was taken over while the host ran hot; reset.")
        page.get_by_role("button", name="Add note").click()
        _settle(page)
        _pick(page, "Case status", "closed")
        _pick(page, "Resolution (when closed)", "true positive")
        page.get_by_role("button", name="Update").click()
        _settle(page)
        expect(page.locator('[data-testid="stMetricValue"]', has_text="true positive")).to_be_visible()
        expect(page.locator('[data-testid="stMetricValue"]', has_text="closed")).to_be_visible()
        expect(page.locator(".js-plotly-plot:visible")).to_have_count(2)
        _assert_clean(page)
        _screenshot(page, artifacts / "investigations-case.png")

        html = _download(page, "Download report", artifacts / "investigations-case.html")
        assert "Timeline of the case" in html and "taken over while the host ran hot" in html
        with page.expect_download(timeout=TIMEOUT_MS) as download:
            page.get_by_role("button", name=re.compile("Download PDF")).click()
        pdf_path = artifacts / "investigations-case.pdf"
        download.value.save_as(pdf_path)
        pdf = pdf_path.read_bytes()
        assert pdf.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page\b", pdf)) >= 2
        text = extract_text(io.BytesIO(pdf))
        assert "Case #1: host" in text and "true positive" in text and "taken over while the host" in text

    printed = page.context.new_page()
    printed.route("**/*", lambda route: route.abort())  # the report needs nothing from the network
    printed.emulate_media(media="print")
    printed.set_content(html, wait_until="load")
    expect(printed.locator(".js-plotly-plot .main-svg").first).to_be_visible()
    printed.set_viewport_size({"width": 1123, "height": 3200})
    printed.screenshot(path=str(artifacts / "investigations-case-print.png"), full_page=True)


def test_bitcoin_network_tabs_draw_and_the_report_renders_offline(
    page: Page, app_url: str, artifacts: Path, tmp_path: Path
) -> None:
    _open(page, app_url, "pages/bitcoin.py")
    expect(page.get_by_role("heading", name="Confirmation advisor")).to_be_visible()
    expect(page.locator(".js-plotly-plot").first).to_be_visible()
    _assert_clean(page)
    _screenshot(page, artifacts / "bitcoin-risk.png")
    for tab, text, shot in (
        ("Concentration", "Share of blocks by pool, per month", "bitcoin-concentration.png"),
        ("Monitor", "Majority-attack monitor", "bitcoin-monitor.png"),
        ("Fee spikes", "Daily fees with 7 spike episodes shaded", "bitcoin-fees.png"),
    ):
        page.get_by_role("tab", name=tab).click()
        expect(page.locator(".gtitle", has_text=text)).to_be_visible()
        _assert_clean(page)
        _screenshot(page, artifacts / shot)
    page.get_by_role("tab", name="Upload").click()
    bad = tmp_path / "blocks.csv"
    bad.write_text("height,pool_slug,date\n2,antpool,2024-01-01T00:00:00Z\n1,antpool,2024-01-01T00:10:00Z\n")
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(str(bad))
    _settle(page)
    page.get_by_role("button", name=re.compile("Check and store")).first.click()
    _settle(page)
    expect(page.get_by_text(re.compile("Nothing was stored.*consecutive and increasing"))).to_be_visible()
    _screenshot(page, artifacts / "bitcoin-upload-refused.png")
    html = _download(page, "Download report", artifacts / "bitcoin-report.html")
    assert "Confirmation advice" in html and "Fee-spike episodes" in html
    offline = page.context.new_page()
    offline.route("**/*", lambda route: route.abort())
    offline.set_content(html, wait_until="load")
    expect(offline.locator(".js-plotly-plot .main-svg").first).to_be_visible()
    offline.set_viewport_size({"width": 1280, "height": 2400})
    offline.screenshot(path=str(artifacts / "bitcoin-report.png"), full_page=True)
