"""Hostile FBAS input, by class: numbers beyond any real threshold, numbers too long to read, nesting, option
values, and terminal escapes in names. Each is refused with one clear line and exit 2, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.fbas.model import SENTINEL_THRESHOLD, FbasFormatError, loads
from core.fbas.whatif import qset_from_json
from tests.core.fbas.test_cli import _cli


def _network(threshold: int | str, key: str = "GA") -> str:
    qset = f'{{"threshold": {threshold}, "validators": ["{key}", "GB"], "innerQuorumSets": []}}'
    return f'[{{"publicKey": "{key}", "quorumSet": {qset}}}, {{"publicKey": "GB", "quorumSet": {qset}}}]'


@given(
    st.integers(min_value=SENTINEL_THRESHOLD + 1, max_value=10**19)
    | st.integers(min_value=-(10**19), max_value=-SENTINEL_THRESHOLD - 1)
)
@settings(max_examples=50)
def test_thresholds_beyond_exact_json_integers_are_refused(threshold: int) -> None:
    with pytest.raises(FbasFormatError, match="beyond ±9,007,199,254,740,991"):
        loads(_network(threshold))


@given(st.integers(min_value=-SENTINEL_THRESHOLD, max_value=SENTINEL_THRESHOLD))
@settings(max_examples=50)
def test_thresholds_within_bounds_load(threshold: int) -> None:
    assert loads(_network(threshold)).nodes["GA"].qset is not None or threshold == SENTINEL_THRESHOLD


@pytest.mark.parametrize("digits", [21, 5_000, 100_000])
def test_numbers_too_long_to_be_a_threshold_are_refused(digits: int) -> None:
    with pytest.raises(FbasFormatError, match=f"holds a number with {digits:,} digits"):
        loads(_network("9" * digits))
    with pytest.raises(FbasFormatError, match=f"holds a number with {digits:,} digits"):
        qset_from_json(f'{{"threshold": {"9" * digits}, "validators": ["GA"]}}')


@given(st.integers(min_value=65, max_value=200_000), st.sampled_from(["[", "{", '{"a":', '[{"b":[']))
@settings(max_examples=25)
def test_deep_nesting_is_refused_before_parsing(depth: int, opener: str) -> None:
    text = opener * depth
    with pytest.raises(FbasFormatError, match=r"nested .* levels deep|larger than the"):
        loads(text)
    with pytest.raises(FbasFormatError, match=r"nested .* levels deep|larger than the"):
        qset_from_json(text)


@pytest.mark.parametrize("threshold", ["1e400", "NaN", "Infinity", "-Infinity", str(2**63)])
def test_the_what_if_editor_refuses_every_unreadable_threshold(threshold: str) -> None:
    with pytest.raises(FbasFormatError):
        qset_from_json(f'{{"threshold": {threshold}, "validators": ["GA"]}}')


def test_cli_refuses_a_threshold_of_2_to_the_63(tmp_path: Path) -> None:
    path = tmp_path / "nodes.json"
    path.write_text(_network(2**63))
    done = _cli("analyze", str(path), "--json")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.count("\n") == 1 and "threshold 9223372036854775808, beyond" in done.stderr


def test_cli_refuses_a_5000_digit_number(tmp_path: Path) -> None:
    path = tmp_path / "nodes.json"
    path.write_text(_network("1" * 5000))
    done = _cli("analyze", str(path), "--json")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == "error: The nodes file holds a number with 5,000 digits; at most 20 are read.\n"


@pytest.mark.parametrize(
    ("option", "value"),
    [("--timeout", "nan"), ("--timeout", "inf"), ("--timeout", "1e308"), ("--timeout", "0"), ("--timeout", "-5"),
     ("--max-sets", "-1"), ("--max-sets", "1e3"), ("--max-steps", "0"), ("--max-steps", "9" * 40)],
)  # fmt: skip
def test_cli_option_values_out_of_bounds_are_one_line(option: str, value: str, tmp_path: Path) -> None:
    path = tmp_path / "nodes.json"
    path.write_text(_network(2))
    done = _cli("analyze", str(path), option, value, "--json")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.count("\n") == 1 and done.stderr.startswith(f"error: argument {option}: ")


def test_cli_escapes_terminal_control_characters_from_the_input(tmp_path: Path) -> None:
    key = "G\x1b[2J\x1b]0;owned\x07\u202eEVIL"
    nodes = [{"publicKey": key, "quorumSet": "not an object"}]
    path = tmp_path / "nodes.json"
    path.write_text(json.dumps(nodes))
    done = _cli("analyze", str(path), "--json")
    assert done.returncode == 2
    assert "\x1b" not in done.stderr and "\x07" not in done.stderr and "\u202e" not in done.stderr
    assert "G\\x1b[2J\\x1b]0;owned\\x07\\u202eEVIL" in done.stderr
