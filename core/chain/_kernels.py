"""numba kernels over a block sequence given as integer pool codes (0..n_codes-1)."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def window_leader(codes, n_codes, window, skip):
    """For each block i with a full window (i >= window - 1): the code with the most blocks among the `window`
    blocks ending at i, and that count; code `skip` (unattributed blocks) never leads. Ties go to the lower code.
    Blocks before the first full window get code -1 and count 0."""
    n = codes.shape[0]
    leader = np.full(n, -1, np.int64)
    count = np.zeros(n, np.int64)
    counts = np.zeros(n_codes, np.int64)
    for i in range(n):
        counts[codes[i]] += 1
        if i >= window:
            counts[codes[i - window]] -= 1
        if i >= window - 1:
            best = -1
            most = 0
            for c in range(n_codes):
                if c != skip and counts[c] > most:
                    best = c
                    most = counts[c]
            leader[i] = best
            count[i] = most
    return leader, count


@njit(cache=True)
def run_lengths(codes):
    """For each block, how many consecutive blocks up to and including it have its code."""
    n = codes.shape[0]
    runs = np.ones(n, np.int64)
    for i in range(1, n):
        if codes[i] == codes[i - 1]:
            runs[i] = runs[i - 1] + 1
    return runs


@njit(cache=True)
def own_count_before(codes, n_codes, length):
    """For each block i: how many of the `length` blocks before it (fewer at the start) have its code."""
    n = codes.shape[0]
    own = np.zeros(n, np.int64)
    counts = np.zeros(n_codes, np.int64)
    for i in range(n):
        own[i] = counts[codes[i]]
        counts[codes[i]] += 1
        if i >= length:
            counts[codes[i - length]] -= 1
    return own
