"""What every CTAS command line shares: one clean line on stderr and exit 2 for bad input, bounded numeric options,
and text from input files made safe for a terminal before it is printed."""

from __future__ import annotations

import argparse
import math
import re
import sys
from collections.abc import Callable
from typing import NoReturn

EXIT_BAD_INPUT = 2
EXIT_TIMEOUT = 3
# C0 and C1 controls, DEL, and the Unicode bidirectional and invisible formatting characters (Trojan Source)
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def terminal_safe(text: object) -> str:
    """`text` with every control or formatting character written as an escape (\\x1b, \\u202e): it cannot move the
    cursor, recolour the terminal or reorder what is shown."""
    return _UNSAFE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), str(text))


def fail(message: object) -> int:
    """Print `error: message` as one terminal-safe line on stderr; returns the bad-input exit code."""
    line = " ".join(terminal_safe(message).split())
    print(f"error: {line}", file=sys.stderr)
    return EXIT_BAD_INPUT


class Parser(argparse.ArgumentParser):
    """argparse with CTAS's contract: a bad option is one line on stderr and exit 2, not a usage screen."""

    def error(self, message: str) -> NoReturn:
        fail(f"{message} (see {self.prog} --help)")
        raise SystemExit(EXIT_BAD_INPUT)


def bounded(kind: type[int] | type[float], low: float, high: float) -> Callable[[str], int | float]:
    """An argparse type: a finite number of `kind` between `low` and `high` inclusive."""

    def parse(text: str) -> int | float:
        if len(text) > 32:
            raise argparse.ArgumentTypeError(f"{text[:32]}… is not a number")
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {'whole ' if kind is int else ''}number") from None
        if not math.isfinite(value) or not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text} is outside {low:g} to {high:g}")
        return value

    parse.__name__ = kind.__name__  # argparse names the type in its messages
    return parse
