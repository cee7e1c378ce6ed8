"""Reports: self-contained HTML with escaped content, PNG figures, and CSV that spreadsheets cannot execute."""

from __future__ import annotations

import csv
import io
import re
import struct
from datetime import UTC, datetime

import pandas as pd
import plotly.graph_objects as go
import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.report import Report, escape_formula, figure_png, safe_csv

HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)>"


def _figure() -> go.Figure:
    fig = go.Figure(go.Bar(x=["ssh", "smb", HOSTILE], y=[5, 3, 1]))
    fig.update_layout(title="Attacks by service", xaxis_title="service", yaxis_title="events")
    return fig


def test_html_report_is_self_contained_and_escapes_everything() -> None:
    report = Report(f"Findings {HOSTILE}", subtitle=HOSTILE)
    report.add_markdown(f"**Bold** finding, then raw html: {HOSTILE}\n\n| a | b |\n|---|---|\n| 1 | 2 |")
    report.add_figure(_figure(), caption=HOSTILE)
    report.add_table(pd.DataFrame({"cell": [HOSTILE, "fine"], "n": [1, 2]}), caption="Rows")
    page = report.to_html()
    assert "<script>alert(1)" not in page
    assert "<img src=x" not in page
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 4  # title, subtitle, markdown, caption, table
    assert "<strong>Bold</strong>" in page
    assert "<table>" in page  # markdown tables render
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)\s*=", page)
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert "Plotly" in page and len(page) > 1_000_000  # plotly.js is inlined
    assert page.count("<script>") == 2  # plotly.js once, plus the figure


def test_report_without_figures_carries_no_javascript() -> None:
    page = Report("Tables only").add_table(pd.DataFrame({"a": [1]})).to_html()
    assert "<script" not in page
    assert len(page) < 20_000


def test_long_tables_are_cut_and_say_so() -> None:
    page = Report("Long").add_table(pd.DataFrame({"n": range(1200)}), max_rows=100).to_html()
    assert "First 100 of 1,200 rows." in page
    assert "<td>99</td>" in page and "<td>100</td>" not in page


def test_file_name_comes_from_title_and_time() -> None:
    report = Report("Data catalogue: Q4!", created_at=datetime(2026, 11, 23, 17, 30, tzinfo=UTC))
    assert report.file_name() == "ctas-data-catalogue-q4-20261123-1730.html"


def test_title_is_required() -> None:
    with pytest.raises(ValueError, match="title"):
        Report("  ")


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@", "\t", "\r"])
def test_formula_cells_are_neutralised(prefix: str) -> None:
    assert escape_formula(prefix + "SUM(A1:A9)") == "'" + prefix + "SUM(A1:A9)"


def test_safe_csv_escapes_text_but_not_numbers() -> None:
    frame = pd.DataFrame(
        {
            '=HYPERLINK("http://x")': ["=1+1", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "plain", None],
            "delta": [-5, 3, -1, 0, 2, 1],
        }
    )
    rows = list(csv.reader(io.StringIO(safe_csv(frame).decode("utf-8"))))
    assert rows[0] == ['\'=HYPERLINK("http://x")', "delta"]
    assert [r[0] for r in rows[1:]] == ["'=1+1", "'+cmd|' /C calc'!A0", "'-2+3", "'@SUM(A1)", "plain", ""]
    assert [r[1] for r in rows[1:]] == ["-5", "3", "-1", "0", "2", "1"]


@given(st.lists(st.text(max_size=20), min_size=1, max_size=20))
def test_no_exported_text_cell_starts_like_a_formula(values: list[str]) -> None:
    rows = list(csv.reader(io.StringIO(safe_csv(pd.DataFrame({"v": values})).decode("utf-8"), newline="")))
    for cell, original in zip((r[0] for r in rows[1:]), values, strict=True):
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
        assert cell in (original, "'" + original)


def test_figure_png_renders_with_the_requested_size() -> None:
    png = figure_png(_figure(), width=640, height=360, scale=1)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (640, 360)
    assert len(png) > 5_000
