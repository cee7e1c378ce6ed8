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


@njit(cache=True, nogil=True)
def minimal_quorums(
    universe, node_qset, thresholds, val_ptr, val_idx, child_ptr, child_idx, max_steps, max_found, stop
):
    """Every minimal quorum inside `universe`, as rows of a uint8 matrix, and whether the search finished.

    Depth-first branch and bound: each step either adds a node to the selection or excludes it; a branch ends when
    no quorum within the allowed nodes contains the selection, or when the selection is a quorum (then it is
    reported if minimal). Each minimal quorum lies on exactly one branch. `max_steps` bounds the work and `max_found`
    the quorums held; a non-zero `stop[0]` (set by another thread) ends it early, also as unfinished.
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
        if steps > max_steps or count > max_found or ((steps & 1023) == 0 and stop[0] != 0):
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


# -- one-word bitset kernels for components of at most 64 nodes -------------------------------------------------------
# Node sets are uint64 bit masks; `vmask[q]` is the bit mask of quorum set q's validators.


@njit(cache=True)
def _popcount(x):
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return (x * np.uint64(0x0101010101010101)) >> np.uint64(56)


@njit(cache=True)
def _satisfied64(mask, thresholds, vmask, child_ptr, child_idx, sat):
    for q in range(thresholds.shape[0]):
        count = np.int64(_popcount(mask & vmask[q]))
        for k in range(child_ptr[q], child_ptr[q + 1]):
            count += sat[child_idx[k]]
        sat[q] = 1 if count >= thresholds[q] else 0


@njit(cache=True)
def _closure64(mask, n, node_qset, thresholds, vmask, child_ptr, child_idx, sat):
    """The largest quorum inside the bit mask `mask`."""
    one = np.uint64(1)
    while True:
        _satisfied64(mask, thresholds, vmask, child_ptr, child_idx, sat)
        kept = mask
        for i in range(n):
            if (mask >> np.uint64(i)) & one and (node_qset[i] < 0 or sat[node_qset[i]] == 0):
                kept &= ~(one << np.uint64(i))
        if kept == mask:
            return mask
        mask = kept


@njit(cache=True)
def _all_satisfied64(mask, n, node_qset, sat):
    """Whether every node of `mask` has its quorum set satisfied (with `sat` computed for `mask`)."""
    one = np.uint64(1)
    for i in range(n):
        if (mask >> np.uint64(i)) & one and (node_qset[i] < 0 or sat[node_qset[i]] == 0):
            return False
    return True


@njit(cache=True)
def _branch64(selected, reach, n, node_qset, vmask, child_ptr, child_idx, sat, pending):
    """A node of `reach` outside `selected` that an unsatisfied selected node needs; else the lowest of `reach`.

    `sat` holds the quorum sets satisfied by `selected`.
    """
    one = np.uint64(1)
    open_nodes = reach & ~selected
    for i in range(n):
        if not (selected >> np.uint64(i)) & one or sat[node_qset[i]]:
            continue
        top = 0
        pending[top] = node_qset[i]
        top += 1
        while top > 0:
            top -= 1
            q = pending[top]
            candidates = vmask[q] & open_nodes
            if candidates:
                for v in range(n):
                    if (candidates >> np.uint64(v)) & one:
                        return v
            for k in range(child_ptr[q + 1] - 1, child_ptr[q] - 1, -1):
                if not sat[child_idx[k]]:
                    pending[top] = child_idx[k]
                    top += 1
    for v in range(n):
        if (open_nodes >> np.uint64(v)) & one:
            return v
    return -1


@njit(cache=True)
def _spend(spent, steps, held, max_steps, max_found, stop):
    """Count `steps` more steps and `held` more sets held in the counters the searches of one analysis share
    (threads may lose a count); whether the search must stop: over a budget, or `stop` raised."""
    spent[0] += steps
    spent[1] += held
    return spent[0] > max_steps or spent[1] > max_found or stop[0] != 0


@njit(cache=True, nogil=True)
def minimal_quorums64(
    roots, n, node_qset, thresholds, vmask, child_ptr, child_idx, max_steps, max_found, spent, stop, split
):
    """Minimal quorums of an n-node (n <= 64) FBAS below the search states `roots`, and whether the search finished.

    The same branch and bound as `minimal_quorums`, over bit masks, each state a row (selected, reach) with `reach`
    the largest quorum within the allowed nodes: including a node leaves it unchanged, excluding one shrinks it
    incrementally. The root state is (0, the largest quorum). `spent[0]` counts the steps of every search sharing the
    budget `max_steps`, and `spent[1]` the sets they hold, at most `max_found`. With `split` > 0 the search stops
    as soon as that many states wait on its stack and returns them too (for threads to share out); else the third
    result is empty.
    """
    one = np.uint64(1)
    sat = np.zeros(thresholds.shape[0], np.uint8)
    pending = np.empty(thresholds.shape[0], np.int64)
    stack = np.zeros((roots.shape[0] + 2 * n + 4, 2), np.uint64)  # selected, reach
    stack[: roots.shape[0]] = roots
    top = roots.shape[0]
    found = np.zeros(16, np.uint64)
    count = 0
    reported = 0
    steps = 0
    while top > 0:
        if split > 0 and top >= split:
            return found[:count], True, stack[:top].copy()
        steps += 1
        if (steps & 1023) == 0:
            if _spend(spent, 1024, count - reported, max_steps, max_found, stop):
                return found[:count], False, stack[:0].copy()
            reported = count
        top -= 1
        selected = stack[top, 0]
        reach = stack[top, 1]
        _satisfied64(selected, thresholds, vmask, child_ptr, child_idx, sat)
        if selected and _all_satisfied64(selected, n, node_qset, sat):
            minimal = True
            for i in range(n):
                bit = one << np.uint64(i)
                if selected & bit and _closure64(
                    selected & ~bit, n, node_qset, thresholds, vmask, child_ptr, child_idx, sat
                ):
                    minimal = False
                    break
            if minimal:
                found = _append64(found, count, selected)
                count += 1
            continue
        pick = _branch64(selected, reach, n, node_qset, vmask, child_ptr, child_idx, sat, pending)
        if pick < 0:
            continue
        bit = one << np.uint64(pick)
        smaller = _closure64(reach & ~bit, n, node_qset, thresholds, vmask, child_ptr, child_idx, sat)
        if (selected & ~smaller) == 0:
            stack[top, 0] = selected
            stack[top, 1] = smaller
            top += 1
        stack[top, 0] = selected | bit
        stack[top, 1] = reach
        top += 1
    return found[:count], True, stack[:0].copy()


@njit(cache=True)
def largest_quorum64(mask, n, node_qset, thresholds, vmask, child_ptr, child_idx):
    """The largest quorum inside the bit mask `mask` (0 if none)."""
    sat = np.zeros(thresholds.shape[0], np.uint8)
    return _closure64(mask, n, node_qset, thresholds, vmask, child_ptr, child_idx, sat)


@njit(cache=True)
def disjoint_quorum64(quorums, universe, n, node_qset, thresholds, vmask, child_ptr, child_idx):
    """The first of `quorums` that leaves a quorum among the other nodes of `universe`: (index, that quorum)."""
    sat = np.zeros(thresholds.shape[0], np.uint8)
    for k in range(quorums.shape[0]):
        rest = _closure64(universe & ~quorums[k], n, node_qset, thresholds, vmask, child_ptr, child_idx, sat)
        if rest:
            return k, rest
    return -1, np.uint64(0)


@njit(cache=True)
def self_quorums(n, node_qset, thresholds, val_ptr, val_idx, child_ptr, child_idx):
    """Which nodes are a quorum on their own (their quorum set is satisfied by the node alone)."""
    alone = np.zeros(n, np.uint8)
    sat = np.zeros(thresholds.shape[0], np.uint8)
    result = np.zeros(n, np.uint8)
    for i in range(n):
        if node_qset[i] < 0:
            continue
        alone[i] = 1
        satisfied(alone, thresholds, val_ptr, val_idx, child_ptr, child_idx, sat)
        result[i] = sat[node_qset[i]]
        alone[i] = 0
    return result


@njit(cache=True)
def _append64(found, count, value):
    """`found` with `value` stored at `count`, grown when full."""
    if count == found.shape[0]:
        grown = np.zeros(2 * count, np.uint64)
        grown[:count] = found
        found = grown
    found[count] = value
    return found


@njit(cache=True)
def _each_needed64(chosen, universe, n, node_qset, thresholds, vmask, child_ptr, child_idx, sat):
    """Whether every chosen node lies in some quorum inside `universe` that avoids the other chosen nodes (a node
    that does not can never be needed to block, whatever else is chosen)."""
    one = np.uint64(1)
    rest = chosen
    while rest:
        bit = rest & (~rest + one)
        rest &= ~bit
        reach = _closure64(universe & ~(chosen & ~bit), n, node_qset, thresholds, vmask, child_ptr, child_idx, sat)
        if (reach & bit) == 0:
            return False
    return True


@njit(cache=True)
def _branch_on64(stack, top, chosen, excluded, candidates, first):
    """Push one state per candidate node, each choosing it and excluding its elder siblings (rows: chosen,
    excluded, `first`); the stack grows when full. The stack and its new top."""
    one = np.uint64(1)
    before = np.uint64(0)
    while candidates:
        bit = candidates & (~candidates + one)
        candidates &= ~bit
        if top == stack.shape[0]:
            grown = np.zeros((2 * top, 3), np.uint64)
            grown[:top] = stack
            stack = grown
        stack[top, 0] = chosen | bit
        stack[top, 1] = excluded | before
        stack[top, 2] = first
        top += 1
        before |= bit
    return stack, top


@njit(cache=True)
def _fewest_choices(family, chosen, excluded):
    """One pass over the family for a state of the hitting-set search: -2 when the state is dead (a chosen node
    hits no set alone, so it can never be needed, or an unhit set has no node left to choose), else the unhit set
    with the fewest nodes left to choose (-1: none unhit)."""
    critical = np.uint64(0)
    best = -1
    fewest = 65
    for k in range(family.shape[0]):
        hit = family[k] & chosen
        if hit == 0:
            left = np.int64(_popcount(family[k] & ~excluded))
            if left == 0:
                return -2
            if left < fewest:
                best = k
                fewest = left
        elif (hit & (hit - np.uint64(1))) == 0:
            critical |= hit
    return best if critical == chosen else -2


@njit(cache=True, nogil=True)
def minimal_blocking_sets64(
    roots,
    family,
    n,
    node_qset,
    thresholds,
    vmask,
    child_ptr,
    child_idx,
    max_steps,
    max_found,
    spent,
    stop,
    scan_family,
    split,
):
    """Minimal blocking sets of the n-node (n <= 64) FBAS below the search states `roots`, as bit masks, and whether
    the search finished.

    `family` holds the minimal quorums to hit (those without a faulty node), smallest first; a state is a row
    (chosen, excluded, index of the first family set that may be unhit), the root (0, 0, 0); each branch excludes
    its elder siblings. A chosen node that hits no set alone can never be needed (so a complete set is minimal
    exactly when each of its nodes hits some set alone). Families of up to `scan_family` sets are scanned whole at
    each state (as MMCS does): that criticality test, and branching on the unhit set with the fewest nodes left
    to choose. Larger families are not scanned: a node's need is tested by a quorum closure (whether a quorum
    avoiding the other chosen nodes holds it), and the search branches on the first unhit set. `split` as in
    `minimal_quorums64`.
    """
    one = np.uint64(1)
    everyone = (one << np.uint64(n)) - one if n < 64 else ~np.uint64(0)
    sat = np.zeros(thresholds.shape[0], np.uint8)
    stack = np.zeros((roots.shape[0] + 4096, 3), np.uint64)
    stack[: roots.shape[0]] = roots
    top = roots.shape[0]
    found = np.zeros(16, np.uint64)
    count = 0
    reported = 0
    steps = 0
    while top > 0:
        if split > 0 and top >= split:
            return found[:count], True, stack[:top].copy()
        steps += 1
        if (steps & 1023) == 0:
            if _spend(spent, 1024, count - reported, max_steps, max_found, stop):
                return found[:count], False, stack[:0].copy()
            reported = count
        top -= 1
        chosen = stack[top, 0]
        excluded = stack[top, 1]
        first = np.int64(stack[top, 2])
        if family.shape[0] <= scan_family:
            unhit = _fewest_choices(family, chosen, excluded)
            if unhit == -2:
                continue
        else:
            if not _each_needed64(chosen, everyone, n, node_qset, thresholds, vmask, child_ptr, child_idx, sat):
                continue
            unhit = -1
            for k in range(first, family.shape[0]):  # sets before `first` were hit by an ancestor's choice
                if (family[k] & chosen) == 0:
                    unhit = k
                    break
        if unhit < 0:
            found = _append64(found, count, chosen)
            count += 1
            continue
        # the set at `unhit` is hit by each branch's choice
        stack, top = _branch_on64(stack, top, chosen, excluded, family[unhit] & ~excluded, np.uint64(unhit + 1))
    return found[:count], True, stack[:0].copy()


@njit(cache=True)
def _minimal_inside64(quorum, avoid_first, n, node_qset, thresholds, vmask, child_ptr, child_idx, sat):
    """A minimal quorum inside the quorum `quorum`, dropping the nodes of `avoid_first` before the others."""
    one = np.uint64(1)
    for phase in range(2):
        order = quorum & avoid_first if phase == 0 else quorum & ~avoid_first
        for i in range(n):
            bit = one << np.uint64(i)
            if order & bit and quorum & bit:
                smaller = _closure64(quorum & ~bit, n, node_qset, thresholds, vmask, child_ptr, child_idx, sat)
                if smaller:
                    quorum = smaller
    return quorum


@njit(cache=True, nogil=True)
def blocking_sets_by_closure64(
    roots, universe, n, node_qset, thresholds, vmask, child_ptr, child_idx, max_steps, max_found, spent, stop, split
):
    """Minimal blocking sets of the quorums inside the bit mask `universe`, found without the minimal quorums.

    A state is a row (chosen, excluded, unused), the root (0, 0, 0). If no quorum avoids the chosen nodes, they
    block; else one minimal quorum avoiding them (shrunk from the largest, keeping excluded nodes where it can, so
    that fewer branches remain) must be hit, and the search branches on its nodes that are not excluded, each branch
    excluding its elder siblings: every minimal blocking set lies on exactly one branch. Pruning and minimality as
    in `minimal_blocking_sets64`. Budget, `max_found` and `split` as in `minimal_quorums64`.
    """
    sat = np.zeros(thresholds.shape[0], np.uint8)
    stack = np.zeros((roots.shape[0] + 4096, 3), np.uint64)
    stack[: roots.shape[0]] = roots
    top = roots.shape[0]
    found = np.zeros(16, np.uint64)
    count = 0
    reported = 0
    steps = 0
    while top > 0:
        if split > 0 and top >= split:
            return found[:count], True, stack[:top].copy()
        steps += 1
        if (steps & 255) == 0:  # a step here costs up to n closures: check the budget more often
            if _spend(spent, 256, count - reported, max_steps, max_found, stop):
                return found[:count], False, stack[:0].copy()
            reported = count
        top -= 1
        chosen = stack[top, 0]
        excluded = stack[top, 1]
        if not _each_needed64(chosen, universe, n, node_qset, thresholds, vmask, child_ptr, child_idx, sat):
            continue
        standing = _closure64(universe & ~chosen, n, node_qset, thresholds, vmask, child_ptr, child_idx, sat)
        if standing == 0:
            found = _append64(found, count, chosen)
            count += 1
            continue
        quorum = _minimal_inside64(standing, ~excluded, n, node_qset, thresholds, vmask, child_ptr, child_idx, sat)
        stack, top = _branch_on64(stack, top, chosen, excluded, quorum & ~excluded, np.uint64(0))
    return found[:count], True, stack[:0].copy()
