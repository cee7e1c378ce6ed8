"""core.fbas.bitsets: bit masks decoded and ordered as the plain sets would be."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from core.fbas.bitsets import in_order, mask_decoder, sorted_sets


@st.composite
def masks_over_keys(draw: st.DrawFn) -> tuple[np.ndarray, tuple[str, ...]]:
    keys = tuple(draw(st.lists(st.text("ABCGXZ", min_size=1, max_size=3), min_size=1, max_size=64, unique=True)))
    masks = draw(st.lists(st.integers(0, 2 ** len(keys) - 1), max_size=40, unique=True))
    return np.asarray(masks, np.uint64), keys


@settings(max_examples=200, deadline=None)
@given(masks_over_keys())
def test_masks_come_out_as_the_sets_in_order(case: tuple[np.ndarray, tuple[str, ...]]) -> None:
    masks, keys = case
    expected = in_order([frozenset(k for i, k in enumerate(keys) if int(m) >> i & 1) for m in masks.tolist()])
    assert sorted_sets(masks, keys) == expected
    assert [mask_decoder(keys)(int(m)) for m in masks.tolist()] == [
        frozenset(k for i, k in enumerate(keys) if int(m) >> i & 1) for m in masks.tolist()
    ]
