"""The chain kernels equal plain Python references on generated block sequences."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from core.chain import _kernels

sequences = st.lists(st.integers(0, 4), min_size=1, max_size=300).map(lambda c: np.array(c, dtype=np.int64))


def leader_reference(codes: list[int], window: int, skip: int) -> tuple[list[int], list[int]]:
    leaders, counts = [], []
    for i in range(len(codes)):
        if i < window - 1:
            leaders.append(-1)
            counts.append(0)
            continue
        seen = codes[i - window + 1 : i + 1]
        tallies = {c: seen.count(c) for c in range(5) if c != skip and seen.count(c)}
        best = max(tallies, key=lambda c: (tallies[c], -c)) if tallies else -1
        leaders.append(best)
        counts.append(tallies.get(best, 0))
    return leaders, counts


@settings(deadline=None)  # the first example compiles the kernel
@given(sequences, st.integers(1, 40), st.integers(-1, 4))
def test_window_leader_matches_counting_each_window(codes: np.ndarray, window: int, skip: int) -> None:
    leader, count = _kernels.window_leader(codes, 5, window, skip)
    expected_leader, expected_count = leader_reference(codes.tolist(), window, skip)
    assert leader.tolist() == expected_leader
    assert count.tolist() == expected_count


@settings(deadline=None)  # the first example compiles the kernel
@given(sequences)
def test_run_lengths_count_back_to_the_last_change(codes: np.ndarray) -> None:
    values = codes.tolist()
    expected = []
    for i, code in enumerate(values):
        run = 1
        while i - run >= 0 and values[i - run] == code:
            run += 1
        expected.append(run)
    assert _kernels.run_lengths(codes).tolist() == expected


@settings(deadline=None)  # the first example compiles the kernel
@given(sequences, st.integers(1, 40))
def test_own_count_before_counts_the_blocks_in_front(codes: np.ndarray, length: int) -> None:
    values = codes.tolist()
    expected = [values[max(0, i - length) : i].count(code) for i, code in enumerate(values)]
    assert _kernels.own_count_before(codes, 5, length).tolist() == expected
