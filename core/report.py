"""Reports that leave CTAS: a self-contained HTML page, PNG figures, and CSV safe to open in a spreadsheet.

`Report` collects markdown text, plotly figures and tables and renders one HTML file with plotly's JavaScript
inlined and a Content-Security-Policy that forbids loading anything, so it opens offline and shows exactly what was
exported. Every piece of text is escaped: data from an uploaded file cannot inject markup.
"""

from __future__ import annotations

import html
import io
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from markdown_it import MarkdownIt
from plotly.offline import get_plotlyjs

from core.errors import CtasError

# Cells that spreadsheets evaluate as formulas when they start with one of these (OWASP "CSV injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
DEFAULT_TABLE_ROWS = 500
_CSP = (
    "default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; "
    "img-src data: blob:; font-src data:"
)
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


class ReportError(CtasError, RuntimeError):
    """An export could not be produced; the message says why and what to do."""


def escape_formula(value: object) -> object:
    """A text cell with a leading apostrophe if a spreadsheet would read it as a formula; other values unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def safe_csv(frame: pd.DataFrame) -> bytes:
    """`frame` as UTF-8 CSV bytes with formula-like text cells (and column names) neutralised."""
    safe = frame.copy()
    safe.columns = [escape_formula(str(c)) for c in safe.columns]
    for column in safe.columns:
        if not (pd.api.types.is_numeric_dtype(safe[column]) or pd.api.types.is_datetime64_any_dtype(safe[column])):
            safe[column] = safe[column].map(escape_formula, na_action="ignore")
    buffer = io.StringIO()
    safe.to_csv(buffer, index=False, lineterminator="\r\n")  # RFC 4180: fields holding CR or LF get quoted
    return buffer.getvalue().encode("utf-8")


def figure_png(fig: go.Figure, *, width: int = 1200, height: int = 700, scale: float = 2.0) -> bytes:
    """A PNG of a plotly figure, rendered by kaleido in the system's Chromium."""
    try:
        return fig.to_image(format="png", width=width, height=height, scale=scale)
    except Exception as exc:  # kaleido raises several unrelated types when no browser is usable
        raise ReportError(
            "PNG export needs Chromium on the server (Debian: apt-get install chromium). "
            f"The renderer said: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
        ) from None


@dataclass
class _Block:
    kind: str
    html: str
    caption: str = ""


@dataclass
class Report:
    """A titled report assembled from markdown, figures and tables, rendered as one offline HTML file."""

    title: str
    subtitle: str = ""
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    _blocks: list[_Block] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        if not self.title.strip():
            raise ValueError("A report needs a title.")

    @property
    def is_empty(self) -> bool:
        return not self._blocks

    def add_markdown(self, text: str) -> Report:
        """Add text written in markdown (raw HTML in it is shown as text, not rendered)."""
        self._blocks.append(_Block("markdown", _markdown.render(text)))
        return self

    def add_figure(self, fig: go.Figure, caption: str = "") -> Report:
        """Add an interactive plotly figure."""
        body = pio.to_html(
            fig,
            full_html=False,
            include_plotlyjs=False,
            config={"displaylogo": False, "responsive": True},
            default_width="100%",
            default_height="520px",
        )
        self._blocks.append(_Block("figure", body, caption))
        return self

    def add_table(self, frame: pd.DataFrame, caption: str = "", max_rows: int = DEFAULT_TABLE_ROWS) -> Report:
        """Add a table; only its first `max_rows` rows are included, and the report says so."""
        shown = frame.head(max_rows)
        body = shown.to_html(index=False, escape=True, na_rep="", border=0, classes="data")
        if len(frame) > max_rows:
            body += f'<p class="note">First {max_rows:,} of {len(frame):,} rows.</p>'
        self._blocks.append(_Block("table", body, caption))
        return self

    def to_html(self) -> str:
        """The whole report as one HTML document that needs nothing else to open."""
        parts = []
        for block in self._blocks:
            caption = f"<figcaption>{html.escape(block.caption)}</figcaption>" if block.caption else ""
            parts.append(f'<section class="{block.kind}">{caption}{block.html}</section>')
        needs_plotly = any(b.kind == "figure" for b in self._blocks)
        script = f"<script>{get_plotlyjs()}</script>" if needs_plotly else ""
        stamp = self.created_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
        subtitle = f'<p class="subtitle">{html.escape(self.subtitle)}</p>' if self.subtitle else ""
        return _PAGE.format(
            csp=_CSP,
            title=html.escape(self.title),
            subtitle=subtitle,
            stamp=stamp,
            script=script,
            body="\n".join(parts),
        )

    def file_name(self, extension: str = "html") -> str:
        """A file name from the title and the creation time, e.g. `ctas-data-catalogue-20261123-1730.html`."""
        return report_file_name(self.title, self.created_at, extension)


def report_file_name(title: str, when: datetime | None = None, extension: str = "html") -> str:
    """`ctas-<title slug>-<UTC time>.<extension>`."""
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60] or "report"
    return f"ctas-{slug}-{(when or datetime.now(UTC)).astimezone(UTC):%Y%m%d-%H%M}.{extension}"


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="CTAS">
<title>{title} · CTAS report</title>
<style>
body {{ font-family: "DejaVu Sans", "Segoe UI", Helvetica, Arial, sans-serif; color: #1c2430; margin: 0;
       background: #f5f7fa; }}
header {{ background: #0f1b2d; color: #f5f7fa; padding: 24px 40px; }}
header h1 {{ margin: 0 0 4px 0; font-size: 26px; }}
header .meta, header .subtitle {{ margin: 0; color: #b8c4d6; font-size: 14px; }}
main {{ max-width: 1200px; margin: 0 auto; padding: 24px 40px 48px 40px; }}
section {{ background: #fff; border: 1px solid #dde3ea; border-radius: 8px; padding: 16px 20px; margin: 16px 0;
           overflow-x: auto; }}
figcaption {{ font-weight: 600; margin-bottom: 8px; }}
table.data {{ border-collapse: collapse; font-size: 13px; width: 100%; }}
table.data th {{ background: #eef2f7; text-align: left; }}
table.data th, table.data td {{ padding: 4px 8px; border-bottom: 1px solid #e3e8ee; vertical-align: top; }}
.note {{ color: #5b6b7f; font-size: 12px; }}
footer {{ color: #5b6b7f; font-size: 12px; text-align: center; padding: 16px; }}
@media print {{ body {{ background: #fff; }} section {{ break-inside: avoid; border: none; }}
                .modebar-container {{ display: none; }} }}
</style>
{script}
</head>
<body>
<header><h1>{title}</h1>{subtitle}<p class="meta">CTAS — Convergent Threat Analysis System · {stamp}</p></header>
<main>
{body}
</main>
<footer>Generated by CTAS. Self-contained: this file loads nothing from the network.</footer>
</body>
</html>
"""
