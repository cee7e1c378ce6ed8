"""JSON from outside CTAS (uploads, pasted text, files named on a command line), read within bounds.

Every bound is checked before or while parsing, never after: the size before anything is read, the nesting depth by
one linear scan before the parser recurses, and each number as the parser meets it (at most `max_digits` digits,
finite). Anything out of bounds raises `JsonInputError` with one clear sentence; nothing partial is returned.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

from core.errors import CtasError

MAX_BYTES = 64 * 2**20
MAX_DEPTH = 64
MAX_DIGITS = 20  # every 64-bit integer fits; a longer run of digits is not a count or a threshold
_OPENERS = np.frombuffer(b"[{", np.uint8)
_BRACKETS = np.frombuffer(b"[]{}", np.uint8)


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
    """The deepest nesting of arrays and objects in JSON text, strings left out (linear, vectorised, no recursion).

    A quote opens or closes a string unless an odd run of backslashes precedes it. Exact for valid JSON and for any
    prefix of a text up to its first syntax error, which is as far as a parser ever reads. Vectorised over the
    positions of quotes, backslashes and brackets, after one byte-wise pass to find them.
    """
    codes = np.frombuffer(text.encode("utf-8", "surrogatepass"), np.uint8)
    brackets = np.flatnonzero(np.isin(codes, _BRACKETS))
    if brackets.size == 0:
        return 0
    quotes = np.flatnonzero(codes == 0x22)
    slashes = np.flatnonzero(codes == 0x5C)
    if slashes.size:
        starts = np.ones(slashes.size, bool)
        starts[1:] = slashes[1:] != slashes[:-1] + 1
        run_start = slashes[np.maximum.accumulate(np.where(starts, np.arange(slashes.size), 0))]
        at = np.minimum(np.searchsorted(slashes, quotes - 1), slashes.size - 1)
        preceded = slashes[at] == quotes - 1
        run = np.where(preceded, quotes - 1 - run_start[at] + 1, 0)
        quotes = quotes[run % 2 == 0]
    outside = np.searchsorted(quotes, brackets) % 2 == 0
    steps = np.where(np.isin(codes[brackets], _OPENERS), 1, -1)[outside]
    return int(np.cumsum(steps).max(initial=0))
