"""The extractor's work grows linearly with its input, adversarial inputs included.

Work is counted as the instructions the process executes (valgrind's cachegrind, deterministic), not as time: a
document ten times as long must cost at most about twelve times the work of extracting it, whatever repeats in it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

REPO = Path(__file__).resolve().parents[3]
SMALL = 32_000  # characters: enough work that a run's start-up noise is small beside it
ENDED_SMALL = 4_000  # characters before a different ending: 2.4 M instructions of work at the least
NOISE = 100_000  # instructions: runs of the same input differ by a few hundred when the machine is otherwise idle
_REFS = re.compile(r"I\s+refs:\s+([\d,]+)")
_SCRIPT = """
import sys
from core.intel.extract import extract
unit, size, ending = sys.argv[1], int(sys.argv[2]), sys.argv[3]
extract("warm up 1.2.3.4 a.example.com user@mail.example.org http://a.example.com/x T1059 CVE-2021-44228")
if size and ending:  # whole periods, then the ending
    extract(unit * (size // len(unit)) + ending)
elif size:
    extract((unit * (size // len(unit) + 1))[:size])
"""


def _instructions(unit: str, size: int, ending: str = "") -> int:
    run = subprocess.run(
        ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
         sys.executable, "-c", _SCRIPT, unit, str(size), ending],
        capture_output=True, text=True, cwd=REPO, env={**os.environ, "PYTHONHASHSEED": "0"}, check=True,
    )  # fmt: skip
    return int(_REFS.search(run.stderr).group(1).replace(",", ""))


@pytest.fixture(scope="module")
def baseline() -> int:
    """The instructions of starting Python and importing the extractor, subtracted from every count: the fewer of
    two runs, as other processes writing files beside the checkout (the other test worker) make Python's imports
    look again, which only ever adds instructions (in CI, 1.2 M once)."""
    return min(_instructions("x", 0) for _ in range(2))


@settings(max_examples=3, deadline=None)
@given(unit=st.text(alphabet=st.sampled_from("aA0f.:@/[]()-_%x \n"), min_size=1, max_size=16))
@example(unit="a@")  # iocextract's e-mail pattern goes exponential on this
@example(unit="A")  # "A" * n + "." : one long label
@example(unit="TVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAA+/")  # a base64 blob
@example(unit="4d5a90000300000004000000ffff0000b8 ")  # a hex dump
@example(unit="http://a")  # URLs inside URLs
@example(unit="0: ")  # colons that no IPv6 address follows
def test_ten_times_the_text_costs_at_most_twelve_times_the_work(baseline, unit):
    small = _instructions(unit, SMALL) - baseline
    large = _instructions(unit, 10 * SMALL) - baseline
    assert large <= 12 * small + NOISE


@pytest.mark.parametrize(("unit", "ending"), [("中a.", "x"), ("[.]中a", ".x"), ("a.中", "-.x")])
def test_a_different_ending_costs_no_more_than_linear_work(baseline, unit, ending):
    """Periodic text with one different ending: a search that rescans the whole period only when the end does not
    match shows only here (trimming CJK labels from a name's end took 5.9 s on '中a.' * 16000 + 'x')."""
    small = _instructions(unit, ENDED_SMALL, ending) - baseline
    large = _instructions(unit, 10 * ENDED_SMALL, ending) - baseline
    assert large <= 12 * small + NOISE
