"""JSON from outside CTAS (uploads, pasted text, files named on a command line), read within bounds.

Every bound is checked before or while parsing, never after: the size before anything is read, the nesting depth by
one linear scan before the parser recurses, and each number as the parser meets it (at most `max_digits` digits,
finite). Anything out of bounds raises `JsonInputError` with one clear sentence; nothing partial is returned.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import numpy as np

from core.errors import CtasError

MAX_BYTES = 64 * 2**20
MAX_DEPTH = 64
MAX_DIGITS = 20  # every 64-bit integer fits; a longer run of digits is not a count or a threshold
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"')  # unambiguous alternation: linear time
_OPENERS = np.frombuffer(b"[{", np.uint8)
_CLOSERS = np.frombuffer(b"]}", np.uint8)


class JsonInputError(CtasError, ValueError):
    """JSON input that is malformed or outside CTAS's bounds; the message says which."""


def loads(
    text: str | bytes,
    *,
    what: str = "The JSON",
    max_bytes: int = MAX_BYTES,
    max_depth: int = MAX_DEPTH,
    max_digits: int = MAX_DIGITS,
) -> Any:
    """Parse `text`; `what` names it in messages ("The nodes file")."""
    if len(text) > max_bytes:
        raise JsonInputError(f"{what} is larger than the {max_bytes / 2**20:,.0f} MiB limit.")
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise JsonInputError(f"{what} is not UTF-8 text.") from None
    depth = nesting_depth(text)
    if depth > max_depth:
        raise JsonInputError(f"{what} is nested {depth} levels deep; the limit is {max_depth}.")

    def integer(digits: str) -> int:
        if len(digits.lstrip("-")) > max_digits:
            raise JsonInputError(f"{what} holds a number with {len(digits):,} digits; at most {max_digits} are read.")
        return int(digits)

    def real(digits: str) -> float:
        if len(digits) > 4 * max_digits:
            raise JsonInputError(f"{what} holds a number written with {len(digits):,} characters.")
        value = float(digits)
        if not math.isfinite(value):
            raise JsonInputError(f"{what} holds a number too large to represent ({digits[:24]}).")
        return value

    def constant(name: str) -> float:
        raise JsonInputError(f"{what} holds {name}, which is not a JSON number.")

    try:
        return json.loads(text, parse_int=integer, parse_float=real, parse_constant=constant)
    except json.JSONDecodeError as exc:
        raise JsonInputError(f"{what} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno}).") from None


def nesting_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in JSON text, strings left out (linear, no recursion)."""
    codes = np.frombuffer(_STRINGS.sub("", text).encode("utf-8", "surrogatepass"), np.uint8)
    steps = np.isin(codes, _OPENERS).astype(np.int64) - np.isin(codes, _CLOSERS)
    return int(np.cumsum(steps).max(initial=0))
