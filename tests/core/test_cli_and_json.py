"""core.cli and core.safejson, by class: terminal text, bounded options, and JSON within bounds."""

from __future__ import annotations

import argparse
import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core import safejson
from core.cli import _UNSAFE, bounded, terminal_safe


@given(st.text())
def test_terminal_safe_text_holds_no_control_or_formatting_character(text: str) -> None:
    safe = terminal_safe(text)
    assert not _UNSAFE.search(safe)
    assert safe == text or any(_UNSAFE.match(c) for c in text)


@given(st.floats(allow_nan=True, allow_infinity=True) | st.integers().map(float))
def test_bounded_options_accept_exactly_the_finite_numbers_in_range(value: float) -> None:
    parse = bounded(float, 0.001, 604_800.0)
    if math.isfinite(value) and 0.001 <= value <= 604_800.0:
        assert parse(repr(value)) == value
    else:
        with pytest.raises(argparse.ArgumentTypeError):
            parse(repr(value))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**19), 10**19) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=30,
)  # fmt: skip


@given(json_values)
def test_json_within_bounds_reads_as_the_standard_parser_does(value: object) -> None:
    text = json.dumps(value)
    assert safejson.loads(text) == json.loads(text)
    assert safejson.nesting_depth(text) <= 64


def _depth(value: object) -> int:
    """Plain reference: how deeply a parsed value nests arrays and objects."""
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    return 0


@given(json_values, st.booleans())
def test_nesting_depth_equals_the_depth_of_the_parsed_value(value: object, ascii_only: bool) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only)  # strings may hold brackets, quotes and backslashes
    assert safejson.nesting_depth(text) == _depth(value)


@given(st.integers(min_value=21, max_value=3000))
def test_long_numbers_are_refused_whatever_their_length(digits: int) -> None:
    with pytest.raises(safejson.JsonInputError, match="digits"):
        safejson.loads("[" + "7" * digits + "]")


@given(st.integers(min_value=65, max_value=100_000))
def test_nesting_beyond_the_bound_is_refused_without_recursion(depth: int) -> None:
    with pytest.raises(safejson.JsonInputError, match=f"nested {depth} levels deep"):
        safejson.loads("[" * depth + "]" * depth)


def test_size_is_bounded_before_parsing() -> None:
    with pytest.raises(safejson.JsonInputError, match="larger than the 1 MiB limit"):
        safejson.loads(b" " * (2**20 + 1), max_bytes=2**20)
