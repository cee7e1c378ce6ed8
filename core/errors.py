"""The one base class of the errors CTAS explains to an analyst.

Every error a page may show subclasses `CtasError`; its message is a full sentence written for the analyst, with no
traceback, path of a temporary file or Python type name in it. Pages catch it once, at their boundary
(`ui.errors.page_guard`); anything else that escapes is a bug, logged on the server with an id.
"""

from __future__ import annotations


class CtasError(Exception):
    """A refusal or failure whose message is written for the analyst."""

    @property
    def message(self) -> str:
        """The analyst-facing message."""
        return str(self)
