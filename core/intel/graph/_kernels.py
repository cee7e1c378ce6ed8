"""numba kernels of the correlation graph: adjacency in both directions and a bounded breadth-first search.

Each has a plain Python reference in tests/core/intel/test_graph.py, held equal by hypothesis.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def adjacency(src: np.ndarray, dst: np.ndarray, nodes: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Undirected CSR: for node v, `neighbour[indptr[v]:indptr[v+1]]` and the edges `via` which they are reached,
    in edge order."""
    indptr = np.zeros(nodes + 1, np.int64)
    for e in range(src.size):
        indptr[src[e] + 1] += 1
        indptr[dst[e] + 1] += 1
    for v in range(nodes):
        indptr[v + 1] += indptr[v]
    fill = indptr[:-1].copy()
    neighbour = np.empty(2 * src.size, np.int64)
    via = np.empty(2 * src.size, np.int64)
    for e in range(src.size):
        a, b = src[e], dst[e]
        neighbour[fill[a]] = b
        via[fill[a]] = e
        fill[a] += 1
        neighbour[fill[b]] = a
        via[fill[b]] = e
        fill[b] += 1
    return indptr, neighbour, via


@njit(cache=True)
def nearest_targets(
    indptr: np.ndarray,
    neighbour: np.ndarray,
    via: np.ndarray,
    edge_on: np.ndarray,
    kind: np.ndarray,
    expand: np.ndarray,
    quota: np.ndarray,
    start: int,
    max_depth: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Breadth-first from `start` over enabled edges: the targets met, nearest first, and each reached node's
    parent edge (-1 where not reached). A node of kind k is a target while `quota[k]` targets of that kind are still
    wanted; it is expanded only when `expand[k]` (the start always is). Stops once every quota is met or at
    `max_depth` steps."""
    parent = np.full(indptr.size - 1, -1, np.int64)
    depth = np.full(indptr.size - 1, -1, np.int64)
    wanted = quota.copy()
    left = wanted.sum()
    queue = np.empty(indptr.size - 1, np.int64)
    targets = np.empty(left, np.int64)
    found = 0
    head, tail = 0, 1
    queue[0] = start
    depth[start] = 0
    while head < tail and left > 0:
        v = queue[head]
        head += 1
        if depth[v] >= max_depth or (v != start and not expand[kind[v]]):
            continue
        for j in range(indptr[v], indptr[v + 1]):
            u = neighbour[j]
            if depth[u] >= 0 or not edge_on[via[j]]:
                continue
            depth[u] = depth[v] + 1
            parent[u] = via[j]
            queue[tail] = u
            tail += 1
            if wanted[kind[u]] > 0:
                wanted[kind[u]] -= 1
                left -= 1
                targets[found] = u
                found += 1
                if left == 0:
                    break
    return targets[:found], parent
