"""Symmetric top tiers: every node has the same quorum set and names each validator in it once. A set is then a
quorum exactly when it satisfies that quorum set, so the minimal quorums and the minimal blocking sets are products of
choices at each level of the quorum set, listed without any search."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from core.fbas.analysis import CompiledFbas


def shared_qset(part: CompiledFbas) -> int | None:
    """The quorum set every node of `part` has, if each validator appears in it once and every threshold lies
    between 1 and the member count; else None."""
    roots = set(part.node_qset.tolist())
    if len(roots) != 1 or (root := roots.pop()) < 0:
        return None
    named: list[int] = []
    pending = [root]
    while pending:
        q = pending.pop()
        validators = part.val_idx[part.val_ptr[q] : part.val_ptr[q + 1]].tolist()
        children = part.child_idx[part.child_ptr[q] : part.child_ptr[q + 1]].tolist()
        if not 1 <= part.thresholds[q] <= len(validators) + len(children):
            return None
        named += validators
        pending += children
    return root if len(named) == len(set(named)) else None


def to_satisfy(threshold: int, members: int) -> int:
    return threshold


def to_block(threshold: int, members: int) -> int:
    return members - threshold + 1


def choices(part: CompiledFbas, q: int, pick: Callable[[int, int], int]) -> int:
    """How many sets `threshold_choices` gives: the elementary symmetric sum of the members' counts."""
    counts = [1] * int(part.val_ptr[q + 1] - part.val_ptr[q])
    counts += [choices(part, int(c), pick) for c in part.child_idx[part.child_ptr[q] : part.child_ptr[q + 1]]]
    k = pick(int(part.thresholds[q]), len(counts))
    sums = [1] + [0] * k  # sums[j]: ways to choose j members so far
    for count in counts:
        for j in range(k, 0, -1):
            sums[j] += sums[j - 1] * count
    return sums[k]


def threshold_choices(part: CompiledFbas, q: int, pick: Callable[[int, int], int]) -> np.ndarray:
    """Bit masks of the minimal node sets that choose `pick(threshold, members)` members of quorum set q, and inside
    each chosen inner set, recursively, the same (members are disjoint, so every such union is minimal and they are
    all different). `to_satisfy`: the minimal sets satisfying q; `to_block`: the minimal sets blocking it."""
    members = [np.asarray([1 << int(v)], np.uint64) for v in part.val_idx[part.val_ptr[q] : part.val_ptr[q + 1]]]
    members += [
        threshold_choices(part, int(c), pick) for c in part.child_idx[part.child_ptr[q] : part.child_ptr[q + 1]]
    ]
    chosen = []
    for combination in itertools.combinations(members, pick(int(part.thresholds[q]), len(members))):
        union = np.zeros(1, np.uint64)
        for member in combination:
            union = (union[:, None] | member[None, :]).ravel()
        chosen.append(union)
    return np.concatenate(chosen)
