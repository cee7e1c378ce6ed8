"""numba kernels over a compiled FBAS.

Quorum sets are flattened in post-order (children before parents): `thresholds[q]`, validators
`val_idx[val_ptr[q]:val_ptr[q + 1]]` (node indices) and inner sets `child_idx[child_ptr[q]:child_ptr[q + 1]]`.
`node_qset[i]` is the root quorum set of node i, or -1 when it has none (never satisfied). Node sets are uint8 masks.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def satisfied(mask, thresholds, val_ptr, val_idx, child_ptr, child_idx, sat):
    """Fill sat[q] with whether quorum set q is satisfied by the nodes in `mask`."""
    for q in range(thresholds.shape[0]):
        count = 0
        for k in range(val_ptr[q], val_ptr[q + 1]):
            count += mask[val_idx[k]]
        for k in range(child_ptr[q], child_ptr[q + 1]):
            count += sat[child_idx[k]]
        sat[q] = 1 if count >= thresholds[q] else 0


@njit(cache=True)
def max_quorum(mask, node_qset, thresholds, val_ptr, val_idx, child_ptr, child_idx):
    """The largest quorum inside `mask` (the union of all quorums in it; empty if there is none)."""
    current = mask.copy()
    sat = np.zeros(thresholds.shape[0], np.uint8)
    changed = True
    while changed:
        changed = False
        satisfied(current, thresholds, val_ptr, val_idx, child_ptr, child_idx, sat)
        for i in range(current.shape[0]):
            if current[i] and (node_qset[i] < 0 or sat[node_qset[i]] == 0):
                current[i] = 0
                changed = True
    return current


@njit(cache=True)
def _is_minimal(quorum, node_qset, thresholds, val_ptr, val_idx, child_ptr, child_idx):
    trial = quorum.copy()
    for i in range(quorum.shape[0]):
        if quorum[i]:
            trial[i] = 0
            if max_quorum(trial, node_qset, thresholds, val_ptr, val_idx, child_ptr, child_idx).any():
                return False
            trial[i] = 1
    return True


@njit(cache=True)
def _branch_node(selected, reach, node_qset, thresholds, val_ptr, val_idx, child_ptr, child_idx):
    """A node of `reach` outside `selected` that an unsatisfied selected node needs; the first of `reach` if none."""
    sat = np.zeros(thresholds.shape[0], np.uint8)
    satisfied(selected, thresholds, val_ptr, val_idx, child_ptr, child_idx, sat)
    pending = np.empty(thresholds.shape[0], np.int64)
    for i in range(selected.shape[0]):
        if not selected[i] or sat[node_qset[i]]:
            continue
        top = 0
        pending[top] = node_qset[i]
        top += 1
        while top > 0:
            top -= 1
            q = pending[top]
            for k in range(val_ptr[q], val_ptr[q + 1]):
                v = val_idx[k]
                if reach[v] and not selected[v]:
                    return v
            for k in range(child_ptr[q + 1] - 1, child_ptr[q] - 1, -1):
                if not sat[child_idx[k]]:
                    pending[top] = child_idx[k]
                    top += 1
    for i in range(reach.shape[0]):
        if reach[i] and not selected[i]:
            return i
    return -1


@njit(cache=True)
def minimal_quorums(universe, node_qset, thresholds, val_ptr, val_idx, child_ptr, child_idx, max_steps):
    """Every minimal quorum inside `universe`, as rows of a uint8 matrix, and whether the search finished.

    Depth-first branch and bound: each step either adds a node to the selection or excludes it; a branch ends when
    no quorum within the allowed nodes contains the selection, or when the selection is a quorum (then it is
    reported if minimal). Each minimal quorum lies on exactly one branch. `max_steps` bounds the work.
    """
    n = universe.shape[0]
    stack_selected = np.zeros((2 * n + 2, n), np.uint8)
    stack_excluded = np.zeros((2 * n + 2, n), np.uint8)
    found = np.zeros((16, n), np.uint8)
    count = 0
    top = 1
    steps = 0
    while top > 0:
        steps += 1
        if steps > max_steps:
            return found[:count], False
        top -= 1
        selected = stack_selected[top].copy()
        excluded = stack_excluded[top].copy()
        allowed = universe & (1 - excluded)
        reach = max_quorum(allowed, node_qset, thresholds, val_ptr, val_idx, child_ptr, child_idx)
        if (selected & (1 - reach)).any():
            continue
        if selected.any():
            closure = max_quorum(selected, node_qset, thresholds, val_ptr, val_idx, child_ptr, child_idx)
            if (closure == selected).all():
                if _is_minimal(selected, node_qset, thresholds, val_ptr, val_idx, child_ptr, child_idx):
                    if count == found.shape[0]:
                        grown = np.zeros((2 * count, n), np.uint8)
                        grown[:count] = found
                        found = grown
                    found[count] = selected
                    count += 1
                continue
        pick = _branch_node(selected, reach, node_qset, thresholds, val_ptr, val_idx, child_ptr, child_idx)
        if pick < 0:
            continue
        stack_selected[top] = selected
        stack_excluded[top] = excluded
        stack_excluded[top, pick] = 1
        top += 1
        stack_selected[top] = selected
        stack_selected[top, pick] = 1
        stack_excluded[top] = excluded
        top += 1
    return found[:count], True
