"""Refanging: undo the ways reports defang indicators, keeping a map back to the offsets of the original text.

One pass of one regular expression whose alternatives are all of bounded length, so it runs in linear time. Format
characters (zero-width spaces, soft hyphens) are removed, the ideographic and full-width dots become `.`, HTML
character references are decoded, and a markdown-escaped `\\_` becomes `_`.
"""

from __future__ import annotations

import bisect
import html
import re
from dataclasses import dataclass

_FORMAT = "\u00ad\u200b-\u200d\u2060\ufeff"
# Charset first, so the engine skips to a candidate character; each alternative is of bounded length.
_DEFANG = re.compile(
    rf"""[\[\(\{{\\&{_FORMAT}]
    (?: (?<=[\[\(\{{]) (?:(?P<dot>\.|dot)|(?P<at>@|at)|(?P<colon>:)|(?P<slash>/)|(?P<hyphen>-)) [\]\)\}}]
      | (?<=\\) (?:(?P<escaped_dot>\.)|(?P<underscore>_))
      | (?<=&) (?P<entity>\#[0-9]{{1,7}};|\#x[0-9a-f]{{1,6}};|[a-z]{{2,8}};)
      | (?<=[{_FORMAT}]) (?P<drop>)
    )""",
    re.IGNORECASE | re.VERBOSE,
)
_SPACED_DOT = " . "
_FULL_WIDTH_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})
_REPLACEMENT = {
    "dot": ".",
    "escaped_dot": ".",
    "at": "@",
    "colon": ":",
    "slash": "/",
    "hyphen": "-",
    "drop": "",
    "underscore": "_",
}


@dataclass(frozen=True)
class Refanged:
    """Refanged text, and where each stretch of it came from in the original."""

    text: str
    _new_starts: tuple[int, ...] = (0,)
    _old_starts: tuple[int, ...] = (0,)

    @property
    def edited(self) -> bool:
        """Whether refanging changed the text (when not, every offset is its own original)."""
        return len(self._new_starts) > 1

    def original(self, offset: int) -> int:
        """The offset in the original text of `offset` in the refanged text."""
        if not self.edited:
            return offset
        i = bisect.bisect_right(self._new_starts, offset) - 1
        return self._old_starts[i] + (offset - self._new_starts[i])

    def original_spans(self, spans: list[int]) -> list[tuple[int, int]]:
        """The original text's span of each refanged span in a flat list (start, end, start, end, ...)."""
        new_starts, old_starts, bisect_right = self._new_starts, self._old_starts, bisect.bisect_right
        found = []
        for k in range(0, len(spans), 2):
            start, end = spans[k], max(spans[k], spans[k + 1])
            i, j = bisect_right(new_starts, start) - 1, bisect_right(new_starts, end) - 1
            found.append((old_starts[i] + start - new_starts[i], old_starts[j] + end - new_starts[j]))
        return found


def _replacement(match: re.Match[str]) -> str:
    kind = match.lastgroup or ""
    if kind == "entity":
        decoded = html.unescape(match.group())
        return decoded if len(decoded) == 1 else match.group()
    return _REPLACEMENT[kind]


def _spaced_neighbour(char: str) -> bool:
    """A character that may stand beside a spaced dot in a name ('cdn . example'): lower-case or a digit, so a
    sentence ('Figure 3 . In this case') is left alone."""
    return char.isdigit() or char.islower()


def _edits(text: str) -> list[tuple[int, int, str]]:
    """(start, end, replacement) of every defang in `text`, in order, not overlapping."""
    edits = []
    for match in _DEFANG.finditer(text):
        start, end = match.span()
        kind = match.lastgroup
        # 'backup [dot] example', 'user [@] example': spaces around a word defang or a square-bracketed one go too
        # (not around '(.)': 'a dot (.) is' is prose)
        if kind in ("dot", "at") and (match.group()[1:-1].isalpha() or match.group()[0] == "["):
            start -= start > 0 and text[start - 1] == " "
            end += end < len(text) and text[end] == " "
        edits.append((start, end, _replacement(match)))
    at = text.find(_SPACED_DOT)
    while at != -1:  # 'cdn . example . com', but not 'the host. In'
        if at and _spaced_neighbour(text[at - 1]) and at + 3 < len(text) and _spaced_neighbour(text[at + 3]):
            edits.append((at, at + 3, "."))
        at = text.find(_SPACED_DOT, at + 2)
    if len(edits) > 1:
        edits.sort()
        kept = [edits[0]]
        for edit in edits[1:]:
            if edit[0] >= kept[-1][1]:
                kept.append(edit)
        edits = kept
    return edits


def refang(text: str) -> Refanged:
    """`text` with defanged dots, @, colons and slashes restored and invisible characters dropped."""
    if "\u3002" in text or "\uff0e" in text or "\uff61" in text:
        text = text.translate(_FULL_WIDTH_DOTS)
    edits = _edits(text)
    if not edits:
        return Refanged(text)
    pieces: list[str] = []
    new_starts, old_starts = [0], [0]
    last = new = 0
    for start, end, replacement in edits:
        pieces.append(text[last:start])
        new += start - last
        pieces.append(replacement)
        new_starts.append(new)
        old_starts.append(start)
        new += len(replacement)
        new_starts.append(new)
        old_starts.append(end)
        last = end
    pieces.append(text[last:])
    return Refanged("".join(pieces), tuple(new_starts), tuple(old_starts))
