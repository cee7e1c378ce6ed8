"""numba kernels of the streaming anomaly detectors: each score at row i uses rows ≤ i only.

Missing values (NaN) get score 0 and leave every state unchanged.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

MAD_TO_SIGMA = 1.4826
SMALLEST_SCALE = 2.2250738585072014e-308  # the smallest normal double: floor x a subnormal range underflows to 0


@njit(cache=True)
def _kth_deviation(b: np.ndarray, n: int, centre: float, k: int) -> float:
    """The k-th smallest (0-based) of |b[j] − centre| over sorted b[:n], where b[:n//2] ≤ centre ≤ b[n//2:]."""
    p = n // 2
    lo = max(0, k + 1 - (n - p))
    hi = min(k + 1, p)
    while lo < hi:  # take i deviations from the left half (centre − b[p−1−i], rising) and k+1−i from the right
        i = (lo + hi) // 2
        j = k + 1 - i
        if centre - b[p - 1 - i] < b[p + j - 1] - centre:
            lo = i + 1
        else:
            hi = i
    i = lo
    j = k + 1 - i
    best = -1.0
    if i > 0:
        best = centre - b[p - i]
    if j > 0 and b[p + j - 1] - centre > best:
        best = b[p + j - 1] - centre
    return best


@njit(cache=True)
def _replace_sorted(b: np.ndarray, n: int, old: float, new: float) -> None:
    """Replace one copy of `old` in sorted b[:n] by `new`, keeping b sorted (one shift between the two places)."""
    lo, hi = 0, n - 1
    while lo < hi:  # first index with b[index] >= old
        mid = (lo + hi) // 2
        if b[mid] < old:
            lo = mid + 1
        else:
            hi = mid
    i = lo
    if new >= old:
        while i + 1 < n and b[i + 1] < new:
            b[i] = b[i + 1]
            i += 1
    else:
        while i > 0 and b[i - 1] > new:
            b[i] = b[i - 1]
            i -= 1
    b[i] = new


@njit(cache=True)
def _insert_sorted(b: np.ndarray, n: int, new: float) -> None:
    i = n
    while i > 0 and b[i - 1] > new:
        b[i] = b[i - 1]
        i -= 1
    b[i] = new


@njit(cache=True)
def _push(ordered: np.ndarray, ring: np.ndarray, count: int, head: int, v: float) -> tuple[int, int]:
    """Add v to a sliding window kept twice: sorted in `ordered[:count]` and in arrival order in the ring buffer
    `ring` (its length is the window); the oldest value leaves once the window is full. Returns (count, head)."""
    if count == ring.shape[0]:
        _replace_sorted(ordered, count, ring[head], v)
    else:
        _insert_sorted(ordered, count, v)
        count += 1
    ring[head] = v
    return count, (head + 1) % ring.shape[0]


@njit(cache=True)
def robust_z(x: np.ndarray, window: int, floor: float) -> np.ndarray:
    """|x − median| / (1.4826·MAD) over the last `window` valid values before each row.

    The scale is at least `floor` times the window's range (or, for a flat window, of its level's magnitude, or 1),
    so a change in a flat series scores high but finite; it never falls below SMALLEST_SCALE (a window whose range
    is subnormal would otherwise divide by zero). 0 until there are three values.
    """
    n = x.shape[0]
    z = np.zeros(n)
    ordered = np.empty(window)
    ring = np.empty(window)
    count = 0
    head = 0
    for i in range(n):
        v = x[i]
        if math.isnan(v):
            continue
        if count >= 3:
            centre = 0.5 * (ordered[(count - 1) // 2] + ordered[count // 2])
            mad = _kth_deviation(ordered, count, centre, count // 2)
            if count % 2 == 0:
                mad = 0.5 * (mad + _kth_deviation(ordered, count, centre, count // 2 - 1))
            spread = ordered[count - 1] - ordered[0]
            if spread <= 0.0:
                spread = abs(centre) if centre != 0.0 else 1.0
            z[i] = abs(v - centre) / max(MAD_TO_SIGMA * mad, floor * spread, SMALLEST_SCALE)
        count, head = _push(ordered, ring, count, head, v)
    return z


@njit(cache=True)
def seasonal_z(x: np.ndarray, period: int, alpha: float, beta: float) -> np.ndarray:
    """|residual| / EW residual deviation, residual = x − (level + the phase's seasonal offset), Holt–Winters style.

    The level follows an EWMA (`alpha`), each phase of the period keeps an EW offset (`beta`); scores start after
    two periods.
    """
    n = x.shape[0]
    z = np.zeros(n)
    offset = np.zeros(period)
    level = 0.0
    var = 0.0
    seen = 0
    for i in range(n):
        v = x[i]
        if math.isnan(v):
            continue
        phase = i % period
        if seen == 0:
            level = v
        expected = level + offset[phase]
        r = v - expected
        if seen >= 2 * period:
            z[i] = abs(r) / math.sqrt(var + 1e-12 * (1.0 + level * level))
        if seen >= period:
            var = (1.0 - alpha) * (var + alpha * r * r)
        level += alpha * (v - offset[phase] - level)
        if seen >= period:
            offset[phase] += beta * (v - level - offset[phase])
        else:
            offset[phase] = v - level
        seen += 1
    return z


@njit(cache=True)
def _nearest_in_sorted(b: np.ndarray, n: int, v: float) -> float:
    """Distance from v to the nearest of sorted b[:n] (inf when n is 0)."""
    lo, hi = 0, n
    while lo < hi:
        mid = (lo + hi) // 2
        if b[mid] < v:
            lo = mid + 1
        else:
            hi = mid
    best = np.inf
    if lo < n:
        best = b[lo] - v
    if lo > 0 and v - b[lo - 1] < best:
        best = v - b[lo - 1]
    return best


@njit(cache=True)
def _nearest_pair(pairs: np.ndarray, n_pairs: int, first: float, second: float) -> float:
    """Euclidean distance from (first, second) to the nearest of pairs[:n_pairs] (inf when there is none)."""
    best = np.inf
    for s in range(n_pairs):
        a = second - pairs[s, 1]
        d = a * a
        if d < best:
            b = first - pairs[s, 0]
            best = min(best, d + b * b)
    return math.sqrt(best) if best < np.inf else np.inf


@njit(cache=True)
def _louder_than_recent(values: np.ndarray, t: int, rows: int) -> bool:
    """Whether values[t] exceeds each of the `rows` values before it."""
    for s in range(max(0, t - rows), t):
        if values[s] >= values[t]:
            return False
    return True


@njit(cache=True)
def _nearest_at_phase(x: np.ndarray, t: int, period: int, days: int, slack: int) -> float:
    """Distance from x[t] to the nearest value within `slack` rows of the same phase 1 to `days` periods earlier."""
    best = np.inf
    for d in range(1, days + 1):
        for s in range(t - d * period - slack, t - d * period + slack + 1):
            if 0 <= s < t:
                e = abs(x[t] - x[s])
                best = min(best, e)  # NaN rows compare false and are skipped
    return best


@njit(cache=True)
def _relative(distance: float, peak: float, seen: int, warmup: int) -> float:
    if seen >= warmup and distance < np.inf and peak > 0.0:
        return distance / peak
    return 0.0


@njit(cache=True)
def novelty(
    x: np.ndarray,
    history: int,
    weights: np.ndarray,
    period: int,
    days: int,
    slack: int,
    decay: float,
    warmup: int,
    quiet: int,
) -> np.ndarray:
    """How new each value is; 0 where nothing new happens.

    Three distances: from the value to the nearest of the last `history` values; from the (previous, current) pair
    to the nearest of the last `history` pairs; from the value to the nearest value at the same phase (± `slack`
    rows) 1 to `days` periods of `period` rows back. Each is divided by the largest such distance seen before
    (decaying by `decay` a row; from its `warmup`-th finite distance on) and weighted by `weights` (value, pair,
    phase); the novelty is the largest. It is kept only where it exceeds every novelty of the previous `quiet` rows
    (elsewhere 0), so a lasting change is reported when it starts. Rows with NaN get 0, change no state and end a
    pair.
    """
    n = x.shape[0]
    out = np.zeros(n)
    combined = np.zeros(n)
    ordered = np.empty(history)
    ring = np.empty(history)
    pairs = np.empty((history, 2))
    count = 0
    head = 0
    n_pairs = 0
    pair_head = 0
    peaks = np.zeros(3)
    seen = np.zeros(3, dtype=np.int64)
    distances = np.empty(3)
    previous = np.nan
    for t in range(n):
        v = x[t]
        if math.isnan(v):
            previous = np.nan
            continue
        distances[0] = _nearest_in_sorted(ordered, count, v)
        distances[1] = np.inf if math.isnan(previous) else _nearest_pair(pairs, n_pairs, previous, v)
        distances[2] = _nearest_at_phase(x, t, period, days, slack) if days > 0 else np.inf
        c = 0.0
        for j in range(3):
            c = max(c, weights[j] * _relative(distances[j], peaks[j], seen[j], warmup))
            if distances[j] < np.inf:
                peaks[j] = max(peaks[j] * decay, distances[j])
                seen[j] += 1
        combined[t] = c
        if c > 0.0 and _louder_than_recent(combined, t, quiet):
            out[t] = c
        # the pair (x[t-2], x[t-1]) becomes comparable from the next row on
        if t >= 2 and not math.isnan(x[t - 1]) and not math.isnan(x[t - 2]):
            pairs[pair_head, 0] = x[t - 2]
            pairs[pair_head, 1] = x[t - 1]
            pair_head = (pair_head + 1) % history
            n_pairs = min(n_pairs + 1, history)
        count, head = _push(ordered, ring, count, head, v)
        previous = v
    return out
