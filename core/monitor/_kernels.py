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
def _first_above(b: np.ndarray, lo: int, hi: int, v: float) -> int:
    """The first index in lo..hi−1 of sorted b whose value exceeds v (hi when there is none)."""
    while lo < hi:
        mid = (lo + hi) // 2
        if b[mid] <= v:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True)
def _replace_sorted(b: np.ndarray, n: int, old: float, new: float) -> None:
    """Replace one copy of `old` in sorted b[:n] by `new`, keeping b sorted: both places found by binary search,
    the values between them moved by one in a plain copy loop."""
    i = _first_at_least(b, n, old)
    if new >= old:
        k = _first_above(b, i + 1, n, new) - 1  # new goes last among the values not above it
        for j in range(i, k):
            b[j] = b[j + 1]
    else:
        k = _first_above(b, 0, i, new)
        for j in range(i, k, -1):
            b[j] = b[j - 1]
    b[k] = new


@njit(cache=True)
def _insert_sorted(b: np.ndarray, n: int, new: float) -> None:
    k = _first_above(b, 0, n, new)
    for j in range(n, k, -1):
        b[j] = b[j - 1]
    b[k] = new


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
    lo = _first_at_least(b, n, v)
    best = np.inf
    if lo < n:
        best = b[lo] - v
    if lo > 0 and v - b[lo - 1] < best:
        best = v - b[lo - 1]
    return best


@njit(cache=True)
def _first_at_least(keys: np.ndarray, n: int, v: float) -> int:
    """The first index of sorted keys[:n] whose key is at least v (n when there is none)."""
    lo, hi = 0, n
    while lo < hi:
        mid = (lo + hi) // 2
        if keys[mid] < v:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True)
def _closer_pairs(
    seconds: np.ndarray, firsts: np.ndarray, start: int, stop: int, step: int, first: float, second: float, best: float
) -> float:
    """The smallest squared distance from (first, second) to the pairs from `start` towards `stop` (by `step`), or
    `best` if none is closer; stops where the second values alone are at least `best` away."""
    i = start
    while i != stop:
        a = second - seconds[i]
        d = a * a
        if d >= best:
            break
        b = first - firsts[i]
        best = min(best, d + b * b)
        i += step
    return best


@njit(cache=True)
def _nearest_pair(seconds: np.ndarray, firsts: np.ndarray, n_pairs: int, first: float, second: float) -> float:
    """Euclidean distance from (first, second) to the nearest of the pairs kept sorted by their second value in
    seconds[:n_pairs] (firsts alongside); inf when there is none. Searches outwards from `second` and stops once the
    second values alone are farther than the best pair."""
    start = _first_at_least(seconds, n_pairs, second)
    best = _closer_pairs(seconds, firsts, start, n_pairs, 1, first, second, np.inf)
    best = _closer_pairs(seconds, firsts, start - 1, -1, -1, first, second, best)
    return math.sqrt(best) if best < np.inf else np.inf


@njit(cache=True)
def _replace_pair(
    seconds: np.ndarray, firsts: np.ndarray, n_pairs: int, old: tuple[float, float], new: tuple[float, float]
) -> None:
    """Replace one copy of the pair `old` (first, second) by `new` in the pairs sorted by second value, moving only
    the pairs between the two places."""
    i = _first_at_least(seconds, n_pairs, old[1])
    while firsts[i] != old[0]:
        i += 1
    if new[1] >= old[1]:
        k = _first_above(seconds, i + 1, n_pairs, new[1]) - 1
        for j in range(i, k):
            seconds[j] = seconds[j + 1]
            firsts[j] = firsts[j + 1]
    else:
        k = _first_above(seconds, 0, i, new[1])
        for j in range(i, k, -1):
            seconds[j] = seconds[j - 1]
            firsts[j] = firsts[j - 1]
    seconds[k] = new[1]
    firsts[k] = new[0]


@njit(cache=True)
def _insert_pair(seconds: np.ndarray, firsts: np.ndarray, n_pairs: int, first: float, second: float) -> None:
    """Insert (first, second) into the pairs sorted by second value (room for one more is there)."""
    k = _first_above(seconds, 0, n_pairs, second)
    for j in range(n_pairs, k, -1):
        seconds[j] = seconds[j - 1]
        firsts[j] = firsts[j - 1]
    seconds[k] = second
    firsts[k] = first


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
    combined = np.zeros(n)
    ordered = np.empty(history)
    ring = np.empty(history)
    pairs = np.empty((history, 2))  # in arrival order (the oldest leaves first)
    seconds = np.empty(history)  # the same pairs sorted by their second value, their first values alongside
    firsts = np.empty(history)
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
        distances[1] = np.inf if math.isnan(previous) else _nearest_pair(seconds, firsts, n_pairs, previous, v)
        distances[2] = _nearest_at_phase(x, t, period, days, slack) if days > 0 else np.inf
        c = 0.0
        for j in range(3):
            c = max(c, weights[j] * _relative(distances[j], peaks[j], seen[j], warmup))
            if distances[j] < np.inf:
                peaks[j] = max(peaks[j] * decay, distances[j])
                seen[j] += 1
        combined[t] = c
        # the pair (x[t-2], x[t-1]) becomes comparable from the next row on
        if t >= 2 and not math.isnan(x[t - 1]) and not math.isnan(x[t - 2]):
            if n_pairs == history:
                oldest = (pairs[pair_head, 0], pairs[pair_head, 1])
                _replace_pair(seconds, firsts, n_pairs, oldest, (x[t - 2], x[t - 1]))
            else:
                _insert_pair(seconds, firsts, n_pairs, x[t - 2], x[t - 1])
                n_pairs += 1
            pairs[pair_head, 0] = x[t - 2]
            pairs[pair_head, 1] = x[t - 1]
            pair_head = (pair_head + 1) % history
        count, head = _push(ordered, ring, count, head, v)
        previous = v
    return louder_than_recent(combined, quiet)


@njit(cache=True)
def change_surprise(x: np.ndarray, hazard: float, max_run: int, memory: float, warmup: int) -> np.ndarray:
    """Bayesian online change-point detection (Adams & MacKay, 2007) over a Normal–Gamma model of each run, with
    run lengths up to `max_run` (the mass of longer ones is dropped) and constant `hazard`; the score is how much
    more surprising the row is (−log of its predictive density, mixed over run lengths) than rows usually are (an
    EW mean with weight `memory` on the past). 0 where it is not more surprising and for the first max(warmup, 1) + 1
    rows.

    A new run's prior (κ = 1, α = 1) is centred on the latest value with the spread of recent steps (an EW mean of
    |Δx|), so the model follows any level and scale. A run of length r has κ = 1 + r and α = 1 + r/2, so the
    Student-t predictive's constants are computed once per r. NaN rows change nothing.
    """
    n = x.shape[0]
    out = np.zeros(n)
    size = max_run + 1
    log_run = np.full(size, -np.inf)
    mu = np.zeros(size)
    beta = np.ones(size)
    grown = np.empty(size)
    const = np.empty(size)  # log Γ((ν+1)/2) − log Γ(ν/2) − ½ log(νπ), ν = 2α
    spread = np.empty(size)  # (κ + 1)/(ακ): the predictive's squared scale is β times this
    for r in range(size):
        nu = 2.0 + r
        const[r] = math.lgamma(0.5 * (nu + 1.0)) - math.lgamma(0.5 * nu) - 0.5 * math.log(nu * math.pi)
        spread[r] = (2.0 + r) / ((1.0 + 0.5 * r) * (1.0 + r))
    log_h, log_stay = math.log(hazard), math.log1p(-hazard)
    step = 0.0
    usual = 0.0
    previous = np.nan
    seen = 0
    for t in range(n):
        v = x[t]
        if math.isnan(v):
            continue
        if seen == 0:
            log_run[0] = 0.0
            mu[0] = v
        else:
            floor = max(step, 1e-9 * (abs(v) + abs(previous)), 1e-150)
            beta[0] = max(floor * floor, (v - previous) * (v - previous)) if seen == 1 else floor * floor
            peak = -np.inf
            for r in range(size):
                if log_run[r] > -np.inf:
                    nu = 2.0 + r
                    scale2 = beta[r] * spread[r]
                    d = v - mu[r]
                    grown[r] = (
                        log_run[r]
                        + const[r]
                        - 0.5 * math.log(scale2)
                        - 0.5 * (nu + 1.0) * math.log1p(d * d / (nu * scale2))
                    )
                    peak = max(peak, grown[r])
                else:
                    grown[r] = -np.inf
            total = 0.0
            for r in range(size):
                if grown[r] > -np.inf:
                    total += math.exp(grown[r] - peak)
            log_evidence = peak + math.log(total)
            surprise = -log_evidence
            if seen > max(warmup, 1) and surprise > usual:  # the usual surprise needs one row first
                out[t] = surprise - usual
            usual = surprise if seen == 1 else memory * usual + (1.0 - memory) * surprise
            dropped = math.exp(grown[size - 1] - log_evidence)  # the longest run's share: it cannot grow
            log_kept = math.log(hazard + (1.0 - hazard) * (1.0 - dropped))
            for r in range(size - 1, 0, -1):  # each run grows by this row; its statistics take it in
                log_run[r] = grown[r - 1] + log_stay - log_evidence
                kappa = float(r)  # κ of the run before this row
                d = v - mu[r - 1]
                mu[r] = (kappa * mu[r - 1] + v) / (kappa + 1.0)
                beta[r] = beta[r - 1] + kappa * d * d / (2.0 * (kappa + 1.0))
            log_run[0] = log_h  # the changes from every run length: their mass sums to the hazard
            for r in range(size):  # renormalised over the runs kept
                log_run[r] -= log_kept
            mu[0] = v
            step = abs(v - previous) if seen == 1 else memory * step + (1.0 - memory) * abs(v - previous)
        previous = v
        seen += 1
    return out


@njit(cache=True)
def louder_than_recent(scores: np.ndarray, quiet: int) -> np.ndarray:
    """Each score kept where it exceeds every score of the previous `quiet` rows, else 0: a lasting change is
    reported once, when it starts. The previous rows' maximum comes from a monotone queue (O(1) a row)."""
    n = scores.shape[0]
    out = np.zeros(n)
    queue = np.empty(n, dtype=np.int64)  # rows of falling scores; the front is the window's maximum
    front, back = 0, 0
    for t in range(n):
        while front < back and queue[front] < t - quiet:
            front += 1
        c = scores[t]
        if c > 0.0 and (front == back or c > scores[queue[front]]):
            out[t] = c
        while front < back and scores[queue[back - 1]] <= c:
            back -= 1
        queue[back] = t
        back += 1
    return out
