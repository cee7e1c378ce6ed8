"""Text from data shown on a page is inert: whatever a file name, column header or error message holds, it renders as
the same text, never as an image that the browser would fetch, a link or HTML."""

from __future__ import annotations

import ast

from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from core.monitor.views import MetricFileError, read_metric_file
from tests.conftest import REPO
from ui.common import md_escape

MARKUP = st.text(alphabet=st.sampled_from(list("![]()<>`*_#|~$\\:/.ax ")), max_size=40)
RENDERER = MarkdownIt("commonmark")


def _tokens(text: str) -> set[str]:
    found = set()
    for block in RENDERER.parse(text):
        found.add(block.type)
        found.update(child.type for child in block.children or ())
    return found


@given(st.one_of(MARKUP, st.text(max_size=40)))
def test_escaped_text_renders_as_text_only(text: str) -> None:
    assert not _tokens(md_escape(text)) & {"image", "link_open", "html_inline", "html_block", "code_inline"}


def test_a_metric_file_header_cannot_fetch_an_image() -> None:
    try:
        read_metric_file(b"![x](http://203.0.113.9/b.png),val\n2024-01-01 00:00:00,1\n")
    except MetricFileError as error:
        shown = md_escape(error)
    else:
        raise AssertionError("a header without a timestamp column was accepted")
    assert "![x]" not in shown and "image" not in _tokens(shown)


def _unescaped_interpolations(tree: ast.AST) -> list[int]:
    """Lines where a Streamlit text call shows an exception or a value from data without md_escape."""
    shown = {"error", "warning", "info", "success", "markdown", "caption", "write", "toast", "subheader", "title"}
    found = []
    for call in ast.walk(tree):
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr in shown):
            continue
        for argument in call.args[:1]:
            parts = argument.values if isinstance(argument, ast.JoinedStr) else [argument]
            for part in parts:
                value = part.value if isinstance(part, ast.FormattedValue) else part
                raw = isinstance(value, ast.Name) and value.id in {"exc", "error", "err", "problem", "name"}
                as_text = isinstance(value, ast.Call) and getattr(value.func, "id", "") == "str"
                if raw or as_text:
                    found.append(call.lineno)
    return found


def test_pages_never_show_an_error_or_a_name_unescaped() -> None:
    files = sorted((REPO / "ui").rglob("*.py")) + sorted((REPO / "pages").glob("*.py"))
    offenders = {
        str(path.relative_to(REPO)): lines
        for path in files
        if (lines := _unescaped_interpolations(ast.parse(path.read_text())))
    }
    assert offenders == {}
