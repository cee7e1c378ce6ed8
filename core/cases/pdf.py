"""A report's HTML printed to PDF by the system's Chromium (headless), the file never leaving the server."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from core.report import ReportError

CHROMIUM = ("chromium", "chromium-browser", "google-chrome")
PRINT_SECONDS = 120
RENDER_BUDGET_MS = 10_000  # virtual time for the page's scripts (plotly draws its figures) before printing


def chromium() -> str:
    """The path of the system's Chromium; ReportError when there is none."""
    for name in CHROMIUM:
        found = shutil.which(name)
        if found:
            return found
    raise ReportError("PDF export needs Chromium on the server (Debian: apt-get install chromium).")


def html_to_pdf(html: str) -> bytes:
    """The PDF Chromium prints of a self-contained HTML page (A4, backgrounds, no header or footer)."""
    browser = chromium()
    with tempfile.TemporaryDirectory(prefix="ctas-pdf-") as folder:
        page, out = Path(folder) / "report.html", Path(folder) / "report.pdf"
        page.write_text(html, encoding="utf-8")
        command = [
            browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            f"--user-data-dir={folder}/profile", "--no-pdf-header-footer", "--run-all-compositor-stages-before-draw",
            f"--virtual-time-budget={RENDER_BUDGET_MS}", f"--print-to-pdf={out}", page.as_uri(),
        ]  # fmt: skip
        try:
            subprocess.run(command, capture_output=True, timeout=PRINT_SECONDS, check=False)  # noqa: S603 - our own paths
        except subprocess.TimeoutExpired:
            raise ReportError(f"Chromium did not print the report within {PRINT_SECONDS} s.") from None
        if not out.exists() or out.stat().st_size == 0:
            raise ReportError("Chromium could not print the report to PDF.")
        return out.read_bytes()
