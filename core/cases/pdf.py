"""A report's HTML printed to PDF by the system's Chromium (headless), the file never leaving the server."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from core.report import ReportError

CHROMIUM = ("chromium", "chromium-browser", "google-chrome")
PRINT_SECONDS = 120
PAGE_WIDTH_PX = 700  # the window the page is laid out in: narrower than an A4 page's printable area, so figures fit
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
        sandbox = ["--no-sandbox"] if os.geteuid() == 0 else []  # Chromium refuses its sandbox to root
        command = [
            browser, "--headless", *sandbox, "--disable-gpu", "--disable-dev-shm-usage",
            f"--user-data-dir={folder}/profile", "--no-pdf-header-footer", "--run-all-compositor-stages-before-draw",
            f"--window-size={PAGE_WIDTH_PX},1100",
            f"--virtual-time-budget={RENDER_BUDGET_MS}", f"--print-to-pdf={out}", page.as_uri(),
        ]  # fmt: skip
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,  # noqa: S603
                                   start_new_session=True)  # fmt: skip
        try:
            process.wait(timeout=PRINT_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # Chromium and every helper process it started
            process.wait()
            raise ReportError(f"Chromium did not print the report within {PRINT_SECONDS} s.") from None
        if not out.exists() or out.stat().st_size == 0:
            raise ReportError("Chromium could not print the report to PDF.")
        return out.read_bytes()
