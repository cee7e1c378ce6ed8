"""The one boundary where a page's errors stop: an analyst-facing `CtasError` is shown as its message; anything else
is a bug, logged on the server with an id and shown as one line with that id, never as a traceback."""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

import streamlit as st

from core.errors import CtasError
from ui.common import md_escape

log = logging.getLogger("ctas.pages")
P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def page_guard() -> Iterator[None]:
    """Run a page inside this block (app.py runs every page in it). Streamlit's own stop and rerun pass through."""
    try:
        yield
    except CtasError as exc:
        st.error(md_escape(exc.message), icon=":material/error:")
    except Exception:
        error_id = uuid.uuid4().hex[:8]
        log.exception("unexpected error %s", error_id)
        st.error(
            f"Something went wrong on this page (error id {error_id}); the details are in the server log.",
            icon=":material/bug_report:",
        )


def guarded(panel: Callable[P, R]) -> Callable[P, R | None]:
    """`panel` inside `page_guard`: for fragments, whose own reruns run outside the page's guard."""

    @functools.wraps(panel)
    def run(*args: P.args, **kwargs: P.kwargs) -> R | None:
        with page_guard():
            return panel(*args, **kwargs)
        return None

    return run
