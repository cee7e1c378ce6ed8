"""Sets of at most 64 nodes as uint64 bit masks: decoded to sets of keys, and put in the order analyses list sets in."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np

BIT_REVERSED = np.array([int(f"{b:08b}"[::-1], 2) for b in range(256)], np.uint8)  # each byte's bits reversed


def in_order(sets: list[frozenset[str]]) -> list[frozenset[str]]:
    """Smallest first, ties by their sorted members (the order every analysis lists sets in)."""
    return sorted(sets, key=lambda q: (len(q), sorted(q)))


def sorted_sets(masks: np.ndarray, keys: tuple[str, ...]) -> list[frozenset[str]]:
    """Bit masks over `keys` as sets, in `in_order`'s order, sorted in numpy: with bit j the j-th key in
    alphabetical order, two sets of one size compare as their lowest differing bit, so as their bit-reversed masks
    in descending order."""
    alphabetical = tuple(sorted(keys))
    rank = {k: j for j, k in enumerate(alphabetical)}
    moved = remapped(masks, [rank[k] for k in keys])
    reversed_bits = BIT_REVERSED[moved.view(np.uint8).reshape(-1, 8)[:, ::-1]].copy().view(np.uint64).ravel()
    sizes = np.bitwise_count(moved)
    order = np.lexsort((~reversed_bits, sizes))
    return list(map(mask_decoder(alphabetical), moved[order].tolist()))


def remapped(masks: np.ndarray, position: list[int]) -> np.ndarray:
    """Masks with bit i moved to bit position[i], a byte at a time through lookup tables."""
    out = np.zeros(masks.shape, np.uint64)
    values = np.arange(256, dtype=np.uint64)
    for byte in range((len(position) + 7) // 8):
        table = np.zeros(256, np.uint64)
        for i, target in enumerate(position[8 * byte : 8 * byte + 8]):
            table |= ((values >> np.uint64(i)) & np.uint64(1)) << np.uint64(target)
        out |= table[(masks >> np.uint64(8 * byte)) & np.uint64(255)]
    return out


def mask_decoder(keys: tuple[str, ...]) -> Callable[[int], frozenset[str]]:
    """Bit mask over `keys` (at most 64) -> the set of keys, a byte at a time through lookup tables."""
    tables = [
        [
            tuple(keys[8 * byte + i] for i in range(8) if value >> i & 1 and 8 * byte + i < len(keys))
            for value in range(256)
        ]
        for byte in range((len(keys) + 7) // 8)
    ]

    def decode(mask: int) -> frozenset[str]:
        return frozenset(
            itertools.chain.from_iterable([table[mask >> 8 * byte & 255] for byte, table in enumerate(tables)])
        )

    return decode
