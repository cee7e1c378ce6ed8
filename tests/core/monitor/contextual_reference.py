"""A plain Python contextual anomaly detector (the design of NAB's CAD OSE), the reference for
`_memory_kernels.contextual`.

Written from the published description with dicts and lists, one row at a time; the kernel must agree with it
exactly. Orders are defined as the kernel defines them: semi-contexts by id, a left semi-context's contexts in the
order they were made, active contexts by (activations, id).
"""

from __future__ import annotations

import math

SENSOR = 65536
NEURON = 2**31
BITS = 3
MAX_LEFT = 7
MAX_NEURONS = 15


class _Side:
    def __init__(self) -> None:
        self.ids: dict[tuple[int, ...], int] = {}
        self.facts: list[tuple[int, ...]] = []
        self.by_fact: dict[int, list[int]] = {}
        self.overlap: dict[int, int] = {}  # id -> facts shared with the last crossing (only ids with some)

    def get_or_add(self, facts: tuple[int, ...]) -> int:
        if facts not in self.ids:
            self.ids[facts] = len(self.facts)
            self.facts.append(facts)
            for fact in facts:
                self.by_fact.setdefault(fact, []).append(self.ids[facts])
        return self.ids[facts]

    def cross(self, facts: tuple[int, ...]) -> None:
        self.overlap = {}
        for fact in facts:
            for sid in self.by_fact.get(fact, []):
                self.overlap[sid] = self.overlap.get(sid, 0) + 1

    def shared(self, sid: int, facts: tuple[int, ...]) -> tuple[int, ...]:
        return tuple(f for f in self.facts[sid] if f in facts)


class ContextualReference:
    def __init__(self, rest: int, threshold: float) -> None:
        self.rest, self.threshold = rest, threshold
        self.left, self.right = _Side(), _Side()
        self.contexts: dict[tuple[int, int], int] = {}
        self.of_left: dict[int, list[int]] = {}  # left id -> its context ids, in the order made
        self.hits: list[float] = []
        self.size: list[float] = []
        self.active: list[int] = []
        self.zero: list[bool] = []
        self.pair: list[tuple[int, int]] = []
        self.left_facts: tuple[int, ...] = ()
        self.left_crossed_with: tuple[int, ...] = ()
        self.predicted: set[int] = set()
        self.raw: list[float] = [1.0]

    def _context(self, left: tuple[int, ...], right: tuple[int, ...]) -> tuple[int, bool]:
        lid, rid = self.left.get_or_add(left), self.right.get_or_add(right)
        if (lid, rid) in self.contexts:
            return self.contexts[(lid, rid)], False
        cid = len(self.pair)
        self.contexts[(lid, rid)] = cid
        self.of_left.setdefault(lid, []).append(cid)
        self.pair.append((lid, rid))
        self.hits.append(0.0)
        self.size.append(0.0)
        self.active.append(0)
        self.zero.append(False)
        return cid, True

    def _update(self, facts: tuple[int, ...], new_zero: bool, zero_id: int) -> tuple[list[int], int, list]:
        """Score the contexts of the fully matched left semi-contexts; the active ones, how many were selected,
        and the proposed narrower contexts."""
        active, selected, potential = [], 0, []
        for lid in sorted(self.left.overlap):
            l_overlap = self.left.overlap[lid]
            l_full = l_overlap == len(self.left.facts[lid])
            for cid in self.of_left.get(lid, []):
                if new_zero and cid == zero_id:
                    continue
                rid = self.pair[cid][1]
                r_overlap, r_size = self.right.overlap.get(rid, 0), len(self.right.facts[rid])
                if l_full:
                    selected += 1
                    self.size[cid] += r_size
                    self.hits[cid] += r_overlap
                    if 0 < r_overlap == r_size:
                        self.active[cid] += 1
                        active.append(cid)
                        continue
                if self.zero[cid] and new_zero and r_overlap > 0 and l_overlap <= MAX_LEFT:
                    potential.append((self.left.shared(lid, self.left_crossed_with), self.right.shared(rid, facts)))
        return active, selected, potential

    def _predict(self) -> set[int]:
        best, predicted = 0.0, set()
        for lid in sorted(self.left.overlap):
            if self.left.overlap[lid] != len(self.left.facts[lid]):
                continue
            for cid in self.of_left.get(lid, []):
                weight = self.hits[cid] / self.size[cid] if self.size[cid] > 0 else 0.0
                if weight > best:
                    best, predicted = weight, set(self.right.facts[self.pair[cid][1]])
                elif weight == best:
                    predicted |= set(self.right.facts[self.pair[cid][1]])
        return predicted

    def step(self, value: float, low: float, high: float) -> float:
        if math.isnan(value):
            return 0.0
        width = (high - low) / (2**BITS - 1) if high > low else 1.0
        q = (value - low) / width
        level = 0 if not q > 0 else (2**BITS - 1 if q >= 2**BITS - 1 else int(q))
        facts = tuple(SENSOR + 2 * b + ((level >> b) & 1) for b in range(BITS))
        surprised = any(f not in self.predicted for f in facts)
        pairs = set()
        new_zero, zero_id = False, -1
        if self.left_facts:
            zero_id, new_zero = self._context(self.left_facts, facts)
            pairs.add(zero_id)
            if not new_zero:
                self.zero[zero_id] = True
        self.right.cross(facts)
        active, selected, potential = self._update(facts, new_zero, zero_id)
        chosen = sorted(active, key=lambda c: (self.active[c], c))[-MAX_NEURONS:]
        added = 0
        for left, right in potential:
            cid, new = self._context(left, right)
            pairs.add(cid)
            added += new
        self.left_facts = tuple(sorted(set(facts) | {NEURON + c for c in chosen}))
        self.left.cross(self.left_facts)
        self.left_crossed_with = self.left_facts
        self.predicted = self._predict()
        share_active = len(active) / selected if selected else 0.0
        share_new = (added + 1) / len(pairs) if new_zero else 0.0
        raw = (1.0 - share_active + share_new) / 2.0 if surprised else 0.0
        quiet = max(self.raw[-self.rest :]) >= self.threshold if self.rest > 0 else False
        self.raw.append(raw)
        return 0.0 if quiet else raw


def contextual_reference(values, low, high, rest: int, threshold: float) -> list[float]:
    """Scores of every row (value, running bounds low/high) by the plain reference."""
    detector = ContextualReference(rest, threshold)
    return [detector.step(float(v), float(lo), float(hi)) for v, lo, hi in zip(values, low, high, strict=True)]
