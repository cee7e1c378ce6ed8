"""FBAS analyses over a compiled FBAS: quorums, minimal quorums, quorum intersection and top tier.

`compile_fbas` turns the model into flat arrays for the numba kernels. Two readings of a validator without a quorum
set (or named in a quorum set but absent from the file): "unsatisfiable" (the Rust scanner's: never in a quorum, the
default) and "unconstrained" (python-fbas's safer one: may sit in any quorum, though no quorum is made of such nodes
alone); every analysis follows the reading chosen at compile time. `stellarbeat_parity=True` applies the
stellarbeat scanner's preprocessing: nodes that are a quorum on their own are removed first (and listed).
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal

import networkx as nx
import numpy as np

from core.errors import CtasError
from core.fbas import _kernels
from core.fbas.bitsets import in_order, sorted_sets
from core.fbas.budget import UNLIMITED, Limit
from core.fbas.model import Fbas, QuorumSet
from core.fbas.symmetric import choices, shared_qset, threshold_choices, to_block, to_satisfy
from core.tasks import check

MissingQset = Literal["unsatisfiable", "unconstrained"]
FAMILY_SCAN = 2_048  # minimal quorums up to which the blocking search scans them all at each state (_kernels)
THREADS = max(1, min(4, os.cpu_count() or 1))  # searches share their branches out among this many threads
SPLIT_STATES = 64  # search states shared out among the threads


class SearchLimitError(CtasError, RuntimeError):
    """An enumeration ran out of its time, steps or room for sets; the message says how far it got."""


@dataclass(frozen=True)
class CompiledFbas:
    """Flat arrays of an FBAS for the kernels; node i is `keys[i]`."""

    keys: tuple[str, ...]
    node_qset: np.ndarray
    thresholds: np.ndarray
    val_ptr: np.ndarray
    val_idx: np.ndarray
    child_ptr: np.ndarray
    child_idx: np.ndarray
    removed: tuple[str, ...] = ()

    @property
    def arrays(self) -> tuple[np.ndarray, ...]:
        return (self.node_qset, self.thresholds, self.val_ptr, self.val_idx, self.child_ptr, self.child_idx)

    def mask(self, keys: set[str] | frozenset[str] | None = None) -> np.ndarray:
        """A node mask: all nodes, or the given ones (unknown keys are ignored)."""
        if keys is None:
            return np.ones(len(self.keys), np.uint8)
        index = {k: i for i, k in enumerate(self.keys)}
        mask = np.zeros(len(self.keys), np.uint8)
        for key in keys:
            if key in index:
                mask[index[key]] = 1
        return mask

    def keys_of(self, mask: np.ndarray) -> frozenset[str]:
        return frozenset(self.keys[i] for i in np.flatnonzero(mask))


def compile_fbas(
    fbas: Fbas, *, missing_qset: MissingQset = "unsatisfiable", stellarbeat_parity: bool = False
) -> CompiledFbas:
    """Flatten an FBAS for the kernels; with `stellarbeat_parity`, drop nodes that are a quorum on their own."""
    if missing_qset not in ("unsatisfiable", "unconstrained"):
        raise ValueError("missing_qset must be 'unsatisfiable' or 'unconstrained'")
    qsets = {key: node.qset for key, node in fbas.nodes.items()}
    for qset in list(qsets.values()):
        for member in qset.members() if qset else ():
            qsets.setdefault(member, None)  # named but absent: a node without a quorum set
    if missing_qset == "unconstrained":
        qsets = _unconstrained(qsets)
    removed: tuple[str, ...] = ()
    if stellarbeat_parity:
        whole = _flatten(qsets)
        flags = _kernels.self_quorums(len(whole.keys), *whole.arrays)
        alone = [k for k, flag in zip(whole.keys, flags, strict=True) if flag]
        removed = tuple(k for k in alone if k in fbas.nodes)
        qsets = {k: q for k, q in qsets.items() if k not in alone}
    flat = _flatten(qsets)
    return CompiledFbas(flat.keys, *flat.arrays, removed=removed)


def _unconstrained(qsets: dict[str, QuorumSet | None]) -> dict[str, QuorumSet | None]:
    """python-fbas's reading as ordinary quorum sets: a node without one may sit in any quorum, but no quorum is made
    of such nodes alone. Both hold exactly when that node's quorum set is "one of the nodes with a quorum set"."""
    anyone = QuorumSet(1, tuple(sorted(k for k, q in qsets.items() if q is not None)))
    return {key: anyone if qset is None else qset for key, qset in qsets.items()}


def _flatten(qsets: dict[str, QuorumSet | None]) -> CompiledFbas:
    keys = tuple(qsets)
    index = {k: i for i, k in enumerate(keys)}
    thresholds: list[int] = []
    validators: list[list[int]] = []
    children: list[list[int]] = []

    ids: dict[QuorumSet, int] = {}

    def add(qset: QuorumSet) -> int:
        """The id of `qset`; identical quorum sets (common: a top tier shares one) are stored once."""
        if qset in ids:
            return ids[qset]
        inner = [add(child) for child in qset.inner]
        thresholds.append(qset.threshold)
        validators.append([index[v] for v in qset.validators if v in index])
        children.append(inner)
        ids[qset] = len(thresholds) - 1
        return ids[qset]

    node_qset = np.full(len(keys), -1, np.int64)
    for i, key in enumerate(keys):
        qset = qsets[key]
        if qset is not None:
            node_qset[i] = add(qset)
    return CompiledFbas(
        keys,
        node_qset,
        np.asarray(thresholds, np.int64),
        np.cumsum([0] + [len(v) for v in validators], dtype=np.int64),
        np.asarray([v for vs in validators for v in vs], np.int64),
        np.cumsum([0] + [len(c) for c in children], dtype=np.int64),
        np.asarray([c for cs in children for c in cs], np.int64),
    )


def max_quorum(compiled: CompiledFbas, within: set[str] | frozenset[str] | None = None) -> frozenset[str]:
    """The largest quorum inside `within` (all nodes by default); empty if there is none."""
    return compiled.keys_of(_kernels.max_quorum(compiled.mask(within), *compiled.arrays))


def is_quorum(compiled: CompiledFbas, nodes: set[str] | frozenset[str]) -> bool:
    """Whether `nodes` is a non-empty quorum: every member's quorum set is satisfied by the members."""
    return bool(nodes) and max_quorum(compiled, nodes) == frozenset(nodes)


def minimal_quorums(compiled: CompiledFbas, *, limit: Limit = UNLIMITED, word_bits: int = 64) -> list[frozenset[str]]:
    """Every minimal quorum, smallest first (ties in key order).

    A minimal quorum is strongly connected in its members' trust graph (a sink component of it would already be a
    quorum), so it lies inside one strongly connected component of the whole trust graph: each component is searched
    on its own, restricted to its nodes; components of up to `word_bits` (64) nodes use one-word bit sets. Beyond
    `limit` (its deadline, steps or sets held), SearchLimitError.
    """
    found: list[frozenset[str]] = []
    spent = np.zeros(2, np.int64)  # steps and sets held, shared by every search below
    clusters = quorum_clusters(compiled)
    with limit.flag() as stop:
        for component in clusters:
            part = restrict(compiled, compiled.keys_of(component))
            symmetric = shared_qset(part) if len(part.keys) <= word_bits else None
            if symmetric is not None:  # the minimal quorums are the minimal ways to satisfy that one quorum set
                found.extend(sorted_sets(products(part, symmetric, to_satisfy, limit), part.keys))
                finished = True
            elif len(part.keys) <= word_bits:
                arrays = bit_arrays(part)
                everyone = np.uint64(2 ** len(part.keys) - 1)
                root = np.asarray([[0, _kernels.largest_quorum64(everyone, len(part.keys), *arrays)]], np.uint64)
                bits, finished = shared_search(
                    _kernels.minimal_quorums64,
                    root,
                    len(part.keys),
                    *arrays,
                    limit.steps,
                    limit.max_listed,
                    spent,
                    stop,
                )
                check()  # cancelled: stop before converting what was found
                room = limit.max_listed - len(found)
                finished = finished and len(bits) <= room
                found.extend(sorted_sets(bits[:room], part.keys))
            else:
                room = limit.max_listed - len(found)
                rows, finished = _kernels.minimal_quorums(part.mask(), *part.arrays, limit.steps, room, stop)
                check()
                finished = finished and len(rows) <= room
                found.extend(in_order([part.keys_of(row) for row in rows[:room]]))
            if not finished:
                raise SearchLimitError(stopped_message(limit, found, "minimal quorums"))
    return found if len(clusters) == 1 else in_order(found)  # one cluster's sets come in order


def stopped_message(limit: Limit, found: list | np.ndarray, what: str) -> str:
    """Why an enumeration of `what` stopped: the sets it may hold, its time or its steps."""
    if len(found) >= limit.max_listed:
        return f"Stopped: more than {limit.max_listed:,} {what}, more than CTAS holds in memory."
    return limit.why_stopped(f"{len(found):,} {what}")


def products(part: CompiledFbas, q: int, pick: Callable[[int, int], int], limit: Limit) -> np.ndarray:
    """`symmetric.threshold_choices`, refused (SearchLimitError) when there are more sets than `limit` allows."""
    total = choices(part, q, pick)
    cap = min(limit.steps, limit.max_listed)
    if total > cap:
        raise SearchLimitError(f"Stopped: {total:,} sets to list, more than the {cap:,} this analysis may hold.")
    return threshold_choices(part, q, pick)


def shared_search(kernel: Callable, root: np.ndarray, *args: object) -> tuple[np.ndarray, bool]:
    """Run a search kernel (`minimal_quorums64`, `minimal_blocking_sets64`) from the state `root` on THREADS
    threads: the shallowest waiting states are expanded one level at a time until SPLIT_STATES of them wait, then
    each is searched to the end by whichever thread is free (the kernels release the GIL). The kernels share one
    step budget through their `spent` argument. The results, and whether every part finished."""
    if THREADS == 1:
        found, finished, _ = kernel(root, *args, 0)
        return found, finished
    parts: list[np.ndarray] = []
    waiting = deque([root])
    while waiting and len(waiting) < SPLIT_STATES:
        found, finished, children = kernel(waiting.popleft(), *args, 2)  # stops once two states wait
        parts.append(found)
        if not finished:
            return np.concatenate(parts), False
        waiting.extend(children[i : i + 1] for i in range(len(children)))
    with ThreadPoolExecutor(THREADS) as pool:  # one task per state: a free thread takes the next
        done = list(pool.map(lambda state: kernel(state, *args, 0), waiting))
    return np.concatenate([*parts, *(part[0] for part in done)]), all(part[1] for part in done)


def restrict(compiled: CompiledFbas, nodes: frozenset[str]) -> CompiledFbas:
    """The FBAS seen from inside `nodes`: their quorum sets, with members outside `nodes` dropped.

    Equivalent for every question about sets of these nodes, since an outside member is never in such a set.
    """
    keys = tuple(k for k in compiled.keys if k in nodes)
    old_index = {k: i for i, k in enumerate(compiled.keys)}
    new_index = {old_index[k]: i for i, k in enumerate(keys)}
    members = _qset_children(compiled)
    order: list[int] = []

    def visit(q: int) -> None:  # post-order, children first, as the kernels expect
        for child in members[q]:
            visit(child)
        order.append(q)

    roots = [int(compiled.node_qset[old_index[k]]) for k in keys]
    for root in dict.fromkeys(r for r in roots if r >= 0):
        visit(root)
    renumber = {old: new for new, old in enumerate(dict.fromkeys(order))}
    kept = list(renumber)
    validators = [
        [new_index[v] for v in compiled.val_idx[compiled.val_ptr[q] : compiled.val_ptr[q + 1]] if v in new_index]
        for q in kept
    ]
    children = [[renumber[c] for c in members[q]] for q in kept]
    return CompiledFbas(
        keys,
        np.asarray([renumber[r] if r >= 0 else -1 for r in roots], np.int64),
        compiled.thresholds[kept] if kept else np.zeros(0, np.int64),
        np.cumsum([0] + [len(v) for v in validators], dtype=np.int64),
        np.asarray([v for vs in validators for v in vs], np.int64),
        np.cumsum([0] + [len(c) for c in children], dtype=np.int64),
        np.asarray([c for cs in children for c in cs], np.int64),
        compiled.removed,
    )


def _qset_children(compiled: CompiledFbas) -> list[list[int]]:
    return [
        compiled.child_idx[compiled.child_ptr[q] : compiled.child_ptr[q + 1]].tolist()
        for q in range(len(compiled.thresholds))
    ]


def bit_arrays(part: CompiledFbas) -> tuple[np.ndarray, ...]:
    """The kernel arrays with each quorum set's validators as one uint64 bit mask."""
    vmask = np.zeros(len(part.thresholds), np.uint64)
    for q in range(len(part.thresholds)):
        for v in part.val_idx[part.val_ptr[q] : part.val_ptr[q + 1]]:
            vmask[q] |= np.uint64(1) << np.uint64(v)
    return part.node_qset, part.thresholds, vmask, part.child_ptr, part.child_idx


def trust_components(compiled: CompiledFbas) -> list[np.ndarray]:
    """Strongly connected components (as masks) of the trust graph among nodes that can be in a quorum."""
    universe = _kernels.max_quorum(compiled.mask(), *compiled.arrays)
    graph = nx.DiGraph()
    members = _qset_members(compiled)
    for i in np.flatnonzero(universe):
        graph.add_node(int(i))
        graph.add_edges_from((int(i), j) for j in members[compiled.node_qset[i]] if universe[j])
    components = []
    for nodes in nx.strongly_connected_components(graph):
        mask = np.zeros(len(compiled.keys), np.uint8)
        mask[list(nodes)] = 1
        components.append(mask)
    return components


def _qset_members(compiled: CompiledFbas) -> list[set[int]]:
    """For each flattened quorum set, every node it names at any depth (children come first in the arrays)."""
    members: list[set[int]] = []
    for q in range(len(compiled.thresholds)):
        found = set(compiled.val_idx[compiled.val_ptr[q] : compiled.val_ptr[q + 1]].tolist())
        for child in compiled.child_idx[compiled.child_ptr[q] : compiled.child_ptr[q + 1]]:
            found |= members[child]
        members.append(found)
    return members


@dataclass(frozen=True)
class IntersectionResult:
    """Whether every two quorums intersect; if not, two disjoint minimal quorums as the witness."""

    intersects: bool
    witness: tuple[frozenset[str], frozenset[str]] | None = None


def quorum_intersection(compiled: CompiledFbas, minimal: list[frozenset[str]] | None = None) -> IntersectionResult:
    """Check quorum intersection: no minimal quorum leaves room for a quorum among the other nodes.

    As in the stellarbeat scanner, an FBAS with no quorum at all does not have quorum intersection.
    """
    minimal = minimal_quorums(compiled) if minimal is None else minimal
    if not minimal:
        return IntersectionResult(False)
    # Any quorum disjoint from a minimal quorum holds a minimal quorum of its own, inside one trust component.
    holders = quorum_clusters(compiled)
    if len(holders) > 1:
        return disjoint_witness(compiled, holders)
    part = restrict(compiled, compiled.keys_of(holders[0]))
    if len(part.keys) > 64:
        everyone = compiled.mask()
        for quorum in minimal:
            rest = _kernels.max_quorum(everyone & (1 - compiled.mask(quorum)), *compiled.arrays)
            if rest.any():
                return IntersectionResult(False, (quorum, _shrink(compiled, rest)))
        return IntersectionResult(True)
    bit = {k: 1 << i for i, k in enumerate(part.keys)}
    bits = np.asarray([sum(map(bit.__getitem__, q)) for q in minimal], np.uint64)
    index, rest = _kernels.disjoint_quorum64(
        bits, np.uint64(2 ** len(part.keys) - 1), len(part.keys), *bit_arrays(part)
    )
    if index < 0:
        return IntersectionResult(True)
    other = frozenset(part.keys[i] for i in range(len(part.keys)) if int(rest) >> i & 1)
    return IntersectionResult(False, (minimal[index], _shrink(compiled, compiled.mask(other))))


def disjoint_witness(compiled: CompiledFbas, holders: list[np.ndarray]) -> IntersectionResult:
    """No intersection: the first two of `holders` (disjoint node masks that each hold a quorum, such as two trust
    components) give the witness, a minimal quorum inside each."""
    first, second = (_kernels.max_quorum(c, *compiled.arrays) for c in holders[:2])
    return IntersectionResult(False, (_shrink(compiled, first), _shrink(compiled, second)))


def _shrink(compiled: CompiledFbas, quorum: np.ndarray) -> frozenset[str]:
    return compiled.keys_of(minimal_quorum_inside(compiled, quorum))


def minimal_quorum_inside(compiled: CompiledFbas, quorum: np.ndarray, order: np.ndarray | None = None) -> np.ndarray:
    """A minimal quorum inside a quorum: drop nodes (in `order`, default by index) while a quorum remains."""
    current = quorum.copy()
    for i in np.flatnonzero(quorum) if order is None else order:
        if current[i]:
            trial = current.copy()
            trial[i] = 0
            smaller = _kernels.max_quorum(trial, *compiled.arrays)
            if smaller.any():
                current = smaller
    return current


def quorum_clusters(compiled: CompiledFbas) -> list[np.ndarray]:
    """The trust components that hold a quorum (consensus clusters); every minimal quorum lies in one of them."""
    return [c for c in trust_components(compiled) if _kernels.max_quorum(c, *compiled.arrays).any()]


def top_tier(minimal: list[frozenset[str]]) -> frozenset[str]:
    """The top tier: every node that is in some minimal quorum."""
    return frozenset().union(*minimal) if minimal else frozenset()


def minimal_blocking_sets(
    compiled: CompiledFbas,
    minimal: list[frozenset[str]],
    faulty: frozenset[str] = frozenset(),
    *,
    limit: Limit = UNLIMITED,
    family_scan: int = FAMILY_SCAN,
) -> list[frozenset[str]]:
    """Every minimal set of nodes whose failure halts the network (it meets every quorum), smallest first.

    A set meets every quorum when it meets every minimal quorum: these are minimal hitting sets. With `faulty`
    nodes already down (stellarbeat: the non-validating ones), they are the minimal sets of further nodes to fail:
    the hitting sets of the minimal quorums without a faulty node, never naming a faulty node. If every quorum
    already holds a faulty node, the network is blocked and the empty set is the one blocking set.
    """
    if not minimal:
        return []
    family_sets = [q for q in minimal if not q & faulty]
    if not family_sets:
        return [frozenset()]
    tier = top_tier(family_sets)
    if len(tier) > 64:
        return _hitting_sets_reference(family_sets, limit)
    part = restrict(compiled, tier)  # every quorum avoiding the faulty nodes holds one inside the tier
    symmetric = shared_qset(part) if len(family_sets) == len(minimal) else None
    if symmetric is not None and choices(part, symmetric, to_satisfy) == len(minimal):
        # `minimal` is every way to satisfy the one quorum set: to meet them all is to block it
        return sorted_sets(products(part, symmetric, to_block, limit), part.keys)
    bit = {k: 1 << i for i, k in enumerate(part.keys)}
    masks = {sum(map(bit.__getitem__, q)) for q in family_sets}
    family = np.asarray(sorted(masks, key=lambda m: (m.bit_count(), m)), np.uint64)
    with limit.flag() as stop:
        found, finished = shared_search(
            _kernels.minimal_blocking_sets64,
            np.zeros((1, 3), np.uint64),
            family,
            len(part.keys),
            *bit_arrays(part),
            limit.steps,
            limit.max_listed,
            np.zeros(2, np.int64),
            stop,
            family_scan,
        )
    check()
    if not finished or len(found) > limit.max_listed:
        raise SearchLimitError(stopped_message(limit, found, "minimal blocking sets"))
    return sorted_sets(found, part.keys)


def _hitting_sets_reference(family: list[frozenset[str]], limit: Limit = UNLIMITED) -> list[frozenset[str]]:
    """Minimal hitting sets by plain set operations (for top tiers beyond 64 nodes), within `limit`'s time."""
    results: set[frozenset[str]] = set()

    def grow(chosen: frozenset[str], excluded: frozenset[str]) -> None:
        check()
        if limit.expired() or len(results) > limit.max_listed:
            raise SearchLimitError(stopped_message(limit, list(results), "minimal blocking sets"))
        unhit = next((s for s in family if not s & chosen), None)
        if unhit is None:
            if all(any(s & chosen == {c} for s in family) for c in chosen):
                results.add(chosen)
            return
        before: set[str] = set()
        for node in sorted(unhit - excluded):
            grow(chosen | {node}, excluded | before)
            before.add(node)

    grow(frozenset(), frozenset())
    return in_order(list(results))


def merge_sets(sets: list[frozenset[str]], group_of: Callable[[str], str]) -> list[frozenset[str]]:
    """Node sets as sets of groups, keeping only the minimal ones (the scanner's merged results)."""
    nodes = frozenset().union(*sets) if sets else frozenset()
    groups = {k: group_of(k) for k in nodes}
    if all(k == g for k, g in groups.items()):  # every node its own group: nothing to merge
        return sets
    if len(set(groups.values())) == len(groups):  # one node per group: a relabelling keeps sets minimal
        return sorted((frozenset(map(groups.__getitem__, s)) for s in sets), key=lambda s: (len(s), sorted(s)))
    merged = sorted({frozenset(map(groups.__getitem__, s)) for s in sets}, key=lambda s: (len(s), sorted(s)))
    kept: list[frozenset[str]] = []
    for candidate in merged:  # smallest first: a set is kept unless a smaller kept set lies inside it
        if not any(k < candidate for k in kept if len(k) < len(candidate)):
            kept.append(candidate)
    return kept


def symmetric_top_tier(
    fbas: Fbas, top: frozenset[str], removed: tuple[str, ...] | frozenset[str] = ()
) -> QuorumSet | None:
    """The quorum set every top-tier node shares, if they all share one; else None.

    As the scanner sees them, quorum sets leave out members that are not in the file or were `removed` by the
    stellarbeat-parity preprocessing (thresholds kept). As in SCP, a node's quorum set counts the node itself: a set
    that does not name its owner is compared as if the owner were added (threshold + 1), so "7 of the 9 others"
    reads as "8 of all 10".
    """
    shared = None
    known = frozenset(fbas.nodes) - frozenset(removed)
    for key in sorted(top):
        qset = fbas.nodes[key].qset if key in fbas.nodes else None
        if qset is None:
            return None
        qset = _within(qset, known)
        if key not in qset.members():
            qset = QuorumSet(qset.threshold + 1, (key, *qset.validators), qset.inner)
        qset = canonical(qset)
        if shared is None:
            shared = qset
        elif qset != shared:
            return None
    return shared


def merge_qset(qset: QuorumSet, group_of: Callable[[str], str]) -> QuorumSet:
    """A quorum set over groups (organizations, countries, ...): every validator becomes its group, and an inner set
    whose validators all belong to one group (an organization's own set) becomes that group."""
    validators = [group_of(v) for v in qset.validators]
    inner = []
    for child in qset.inner:
        merged = merge_qset(child, group_of)
        if not merged.inner and len(set(merged.validators)) == 1 and merged.threshold >= 1:
            validators.append(merged.validators[0])
        else:
            inner.append(merged)
    return canonical(QuorumSet(qset.threshold, tuple(validators), tuple(inner)))


def canonical(qset: QuorumSet) -> QuorumSet:
    """The quorum set with validators and inner sets in a fixed order, so equal sets compare equal."""
    inner = sorted((canonical(c) for c in qset.inner), key=repr)
    return QuorumSet(qset.threshold, tuple(sorted(qset.validators)), tuple(inner))


def _within(qset: QuorumSet, nodes: frozenset[str]) -> QuorumSet:
    inner = tuple(_within(c, nodes) for c in qset.inner)
    return QuorumSet(qset.threshold, tuple(v for v in qset.validators if v in nodes), inner)
