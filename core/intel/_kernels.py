"""numba kernels for matching events against indicators: sorted integer arrays and hashed domain names.

Each has a plain Python reference in tests/core/intel/test_kernels.py, held equal by hypothesis.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

FNV_OFFSET = np.uint64(0xCBF29CE484222325)
FNV_PRIME = np.uint64(0x100000001B3)
DOT = 46
NEWLINE = 10


@njit(cache=True, parallel=True)
def sorted_member(keys: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """For each query, the index of the equal key in the sorted `keys`, or -1."""
    found = np.full(queries.size, -1, np.int64)
    for i in prange(queries.size):
        at = np.searchsorted(keys, queries[i])
        if at < keys.size and keys[at] == queries[i]:
            found[i] = at
    return found


@njit(cache=True, parallel=True)
def interval_owner(bounds: np.ndarray, owners: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """For each query, the owner of the elementary interval [bounds[j], bounds[j+1]) holding it, or -1.

    `bounds` is sorted and `owners[j]` names what covers interval j (-1 for nothing).
    """
    found = np.full(queries.size, -1, np.int64)
    for i in prange(queries.size):
        j = np.searchsorted(bounds, queries[i], side="right") - 1
        if 0 <= j < owners.size:
            found[i] = owners[j]
    return found


@njit(cache=True)
def line_starts(buffer: np.ndarray) -> np.ndarray:
    """Start offsets of the newline-separated lines of `buffer` (one past its end appended)."""
    count = 1
    for byte in buffer:
        if byte == NEWLINE:
            count += 1
    starts = np.empty(count + 1, np.int64)
    starts[0] = 0
    k = 1
    for i in range(buffer.size):
        if buffer[i] == NEWLINE:
            starts[k] = i + 1
            k += 1
    starts[count] = buffer.size + 1
    return starts


FNV_OFFSET_2 = np.uint64(0x84222325CBF29CE4)  # a second, independent basis: a hit needs both hashes equal


@njit(cache=True, inline="always")
def _lower(byte: np.uint8) -> np.uint64:
    """An ASCII upper-case letter's lower-case byte; any other byte as it is (UTF-8 stays UTF-8)."""
    return np.uint64(byte + 32) if 65 <= byte <= 90 else np.uint64(byte)


@njit(cache=True, inline="always")
def _mix(h1: np.uint64, h2: np.uint64, byte: np.uint8) -> tuple[np.uint64, np.uint64]:
    """One byte into both FNV-1a hashes, lower-cased: the one definition index and lookups share."""
    lowered = _lower(byte)
    return (h1 ^ lowered) * FNV_PRIME, (h2 ^ lowered) * FNV_PRIME


@njit(cache=True)
def _trimmed_end(buffer: np.ndarray, start: int, end: int) -> int:
    """`end` less one trailing root dot."""
    return end - 1 if end > start and buffer[end - 1] == DOT else end


@njit(cache=True, parallel=True)
def name_hashes(buffer: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two backwards FNV-1a hashes (bytes read from the end, so every parent name's hash is met on the way) of each
    line of `buffer` (lines start at `starts`, as `line_starts` gives), lower-cased, a trailing root dot left out."""
    n = starts.size - 1
    first = np.empty(n, np.uint64)
    second = np.empty(n, np.uint64)
    for k in prange(n):
        start = starts[k]
        end = _trimmed_end(buffer, start, starts[k + 1] - 1)
        h1, h2 = FNV_OFFSET, FNV_OFFSET_2
        for i in range(end - 1, start - 1, -1):
            h1, h2 = _mix(h1, h2, buffer[i])
        first[k] = h1
        second[k] = h2
    return first, second


@njit(cache=True)
def hash_table(keys: np.ndarray, checks: np.ndarray) -> np.ndarray:
    """An open-addressing table (linear probing, at most two thirds full) of the pairs (keys[i], checks[i]): each slot
    holds (key, check, i + 1), 0 in the third column marking an empty slot. A probe reads one cache line."""
    size = 2
    while 2 * size < 3 * keys.size:
        size *= 2
    table = np.zeros((size, 4), np.uint64)
    mask = np.uint64(size - 1)
    for index in range(keys.size):
        slot = keys[index] & mask
        while table[slot, 2] != 0:
            slot = (slot + np.uint64(1)) & mask
        table[slot, 0] = keys[index]
        table[slot, 1] = checks[index]
        table[slot, 2] = np.uint64(index + 1)
    return table


@njit(cache=True)
def _find(table: np.ndarray, h1: np.uint64, h2: np.uint64) -> int:
    mask = np.uint64(table.shape[0] - 1)
    slot = h1 & mask
    while table[slot, 2] != 0:
        if table[slot, 0] == h1 and table[slot, 1] == h2:
            return np.int64(table[slot, 2]) - 1
        slot = (slot + np.uint64(1)) & mask
    return -1


@njit(cache=True, parallel=True)
def domain_lookup(table: np.ndarray, buffer: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """For each line (a host name), the index of the longest of the name and its parents in `table` (as
    `hash_table` builds it from `name_hashes`), or -1. Only whole labels are tried."""
    n = starts.size - 1
    found = np.full(n, -1, np.int64)
    for k in prange(n):
        start = starts[k]
        end = _trimmed_end(buffer, start, starts[k + 1] - 1)
        h1, h2 = FNV_OFFSET, FNV_OFFSET_2
        for i in range(end - 1, start - 1, -1):
            h1, h2 = _mix(h1, h2, buffer[i])
            if i == start or buffer[i - 1] == DOT:
                index = _find(table, h1, h2)
                if index >= 0:
                    found[k] = index
    return found


@njit(cache=True, parallel=True)
def parse_ipv4(buffer: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Each line read as a dotted-quad IPv4 address (decimal octets, at most 3 digits) as uint32; -1 when not."""
    n = starts.size - 1
    out = np.full(n, -1, np.int64)
    for k in prange(n):
        start, end = starts[k], starts[k + 1] - 1
        value, octet, digits, parts, ok = 0, 0, 0, 0, True
        for i in range(start, end):
            byte = buffer[i]
            if 48 <= byte <= 57:
                octet = octet * 10 + (byte - 48)
                digits += 1
                if digits > 3 or octet > 255:
                    ok = False
                    break
            elif byte == DOT and digits > 0 and parts < 3:
                value = value * 256 + octet
                octet, digits, parts = 0, 0, parts + 1
            else:
                ok = False
                break
        if ok and parts == 3 and digits > 0:
            out[k] = value * 256 + octet
    return out
