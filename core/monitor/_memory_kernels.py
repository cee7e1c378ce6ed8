"""numba kernels of the detectors that learn a memory of patterns: the contextual detector (CAD OSE's design) and
ARTime (adaptive resonance). Each score at row i uses rows ≤ i only; NaN rows score 0 and change no state.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, types
from numba.typed import Dict

# The contextual detector (the design of NAB's CAD OSE). Facts are dense ints: the 2·BITS value facts first (2b + bit
# b of the value's level), then one fact per context (2·BITS + its id) that was active the row before. A side's
# semi-contexts are rows of `sc` (SC_* columns) with their facts in `pool`; `index` links each fact's semi-contexts
# (FOLLOW, OWNER) from `head`; `count` holds the used lengths of pool, sc and index. Arrays grow by doubling.
CONTEXT_BITS = 3
CONTEXT_MAX_LEFT = 7  # a partly matched left semi-context proposes a new context only from at most this many facts
CONTEXT_MAX_NEURONS = 15  # the most active contexts that join the next row's left facts
SC_START, SC_SIZE, SC_OVERLAP, SC_FIRST, SC_LAST = 0, 1, 2, 3, 4  # FIRST/LAST: a left semi-context's contexts
C_RIGHT, C_NEXT, C_ACTIVATIONS, C_ZERO, C_COUNTED = 0, 1, 2, 3, 4  # a context's ints; its floats are hits, size
_FNV_OFFSET = np.uint64(14695981039346656037)
_FNV_PRIME = np.uint64(1099511628211)


@njit(cache=True)
def _level(v: float, low: float, high: float, levels: int) -> int:
    """The level (0..levels, truncated) of v in [low, high], in float until clamped: huge values cannot overflow."""
    width = (high - low) / levels if high > low else 1.0
    q = (v - low) / width
    if not q > 0.0:  # also NaN (an infinite range)
        return 0
    return levels if q >= levels else int(q)


@njit(cache=True)
def _room1(a: np.ndarray, need: int, fill: int) -> np.ndarray:
    """`a`, or a copy with room for `need` entries (capacity doubled, new entries `fill`)."""
    if need <= a.shape[0]:
        return a
    b = np.full(max(need, 2 * a.shape[0]), fill, dtype=a.dtype)
    b[: a.shape[0]] = a
    return b


@njit(cache=True)
def _room2(a: np.ndarray, need: int) -> np.ndarray:
    """`a`, or a copy with room for `need` rows (capacity doubled)."""
    if need <= a.shape[0]:
        return a
    b = np.zeros((max(need, 2 * a.shape[0]), a.shape[1]), dtype=a.dtype)
    b[: a.shape[0]] = a
    return b


@njit(cache=True)
def _facts_hash(facts: np.ndarray, n: int) -> int:
    """FNV-1a over the facts, in unsigned arithmetic (signed overflow is undefined in LLVM); below 2^62."""
    h = _FNV_OFFSET
    for i in range(n):
        h = (h ^ np.uint64(facts[i])) * _FNV_PRIME
    return np.int64(h >> np.uint64(2))


@njit(cache=True)
def _semi_context(pool, sc, index, head, count, table, facts: np.ndarray, n: int) -> int:
    """The id of the semi-context with these sorted facts, made and indexed by each fact if new (the caller made
    room for n more facts, one semi-context, and heads up to the largest fact)."""
    key = _facts_hash(facts, n)
    while key in table:  # open addressing: a different fact set under the same key moves on to key + 1
        sid = table[key]
        if sc[sid, SC_SIZE] == n:
            s = sc[sid, SC_START]
            same = True
            for i in range(n):
                if pool[s + i] != facts[i]:
                    same = False
                    break
            if same:
                return sid
        key += 1
    sid = count[1]
    table[key] = sid
    sc[sid, SC_START] = count[0]
    sc[sid, SC_SIZE] = n
    sc[sid, SC_OVERLAP] = 0
    sc[sid, SC_FIRST] = -1
    sc[sid, SC_LAST] = -1
    for i in range(n):
        f = facts[i]
        pool[count[0] + i] = f
        e = count[2] + i
        index[e, 0] = head[f]
        index[e, 1] = sid
        head[f] = e
    count[0] += n
    count[1] += 1
    count[2] += n
    return sid


@njit(cache=True)
def _cross(sc, index, head, crossed: np.ndarray, n_sc: int, facts: np.ndarray, n: int) -> np.ndarray:
    """Count each semi-context's facts among `facts` (after clearing the last crossing); the ids with any, sorted."""
    for sid in crossed:
        sc[sid, SC_OVERLAP] = 0
    touched = np.empty(n_sc, dtype=np.int64)
    k = 0
    for i in range(n):
        e = head[facts[i]]
        while e >= 0:
            sid = index[e, 1]
            if sc[sid, SC_OVERLAP] == 0:
                touched[k] = sid
                k += 1
            sc[sid, SC_OVERLAP] += 1
            e = index[e, 0]
    return np.sort(touched[:k])


@njit(cache=True)
def _shared(pool, sc, sid: int, facts: np.ndarray, n: int, out: np.ndarray) -> int:
    """The semi-context's facts that are among sorted `facts`, into `out`; their count."""
    k = 0
    j = 0
    s = sc[sid, SC_START]
    for i in range(sc[sid, SC_SIZE]):
        f = pool[s + i]
        while j < n and facts[j] < f:
            j += 1
        if j < n and facts[j] == f:
            out[k] = f
            k += 1
    return k


@njit(cache=True)
def _context(pairs, ints, floats, n_contexts: int, left_sc, lid: int, rid: int) -> tuple[int, bool]:
    """The id of the context (left lid, right rid), made and appended to lid's list if new (the caller made room
    for one more); whether it is new."""
    key = lid * 4294967296 + rid
    if key in pairs:
        return pairs[key], False
    cid = n_contexts
    pairs[key] = cid
    ints[cid, C_RIGHT] = rid
    ints[cid, C_NEXT] = -1
    ints[cid, C_ACTIVATIONS] = 0
    ints[cid, C_ZERO] = 0
    ints[cid, C_COUNTED] = 0
    floats[cid, 0] = 0.0
    floats[cid, 1] = 0.0
    if left_sc[lid, SC_FIRST] < 0:
        left_sc[lid, SC_FIRST] = cid
    else:
        ints[left_sc[lid, SC_LAST], C_NEXT] = cid
    left_sc[lid, SC_LAST] = cid
    return cid, True


@njit(cache=True)
def contextual(x: np.ndarray, low: np.ndarray, high: np.ndarray, rest: int, threshold: float) -> np.ndarray:
    """The contextual detector's score of each row (the design of NAB's CAD OSE, Smirnov 2016).

    A value is `CONTEXT_BITS` facts (the bits of its level among 2^bits levels of [low, high] at that row). A
    context joins a left semi-context (the facts of the row before: its value facts and the contexts then active)
    to a right one (value facts that followed); each row crosses both sides with the facts at hand, learns a
    context from the previous row to this one, and proposes narrower ones from partly matched contexts. The score
    of a value the memory did not predict is (1 − share of the fully matched contexts that came true + share of the
    proposed contexts that are new) / 2. After a score ≥ `threshold` (in (0, 1]), the next `rest` rows score 0 (so do
    the first `rest`). NaN rows score 0 and change nothing.
    """
    n = x.shape[0]
    out = np.zeros(n)
    levels = 2**CONTEXT_BITS - 1
    value_facts = 2 * CONTEXT_BITS
    widest = value_facts + CONTEXT_MAX_NEURONS  # the most facts a left semi-context has
    l_pool, r_pool = np.empty(1024, dtype=np.int64), np.empty(64, dtype=np.int64)
    l_sc, r_sc = np.zeros((256, 5), dtype=np.int64), np.zeros((32, 5), dtype=np.int64)
    l_index, r_index = np.zeros((1024, 2), dtype=np.int64), np.zeros((64, 2), dtype=np.int64)
    l_head, r_head = np.full(256, -1, dtype=np.int64), np.full(value_facts, -1, dtype=np.int64)
    l_count, r_count = np.zeros(3, dtype=np.int64), np.zeros(3, dtype=np.int64)
    l_table = Dict.empty(key_type=types.int64, value_type=types.int64)
    r_table = Dict.empty(key_type=types.int64, value_type=types.int64)
    l_crossed = np.empty(0, dtype=np.int64)
    r_crossed = np.empty(0, dtype=np.int64)
    pairs = Dict.empty(key_type=types.int64, value_type=types.int64)
    ints, floats = np.zeros((256, 5), dtype=np.int64), np.zeros((256, 2))
    n_contexts = 0

    left = np.empty(widest, dtype=np.int64)
    n_left = 0
    facts = np.empty(CONTEXT_BITS, dtype=np.int64)
    predicted = np.zeros(value_facts, dtype=np.bool_)
    left_shared = np.empty(widest, dtype=np.int64)
    right_shared = np.empty(CONTEXT_BITS, dtype=np.int64)
    last_loud = 0  # the history starts loud (threshold ≤ 1): the first `rest` rows rest
    seen = 0
    for t in range(n):
        v = x[t]
        if math.isnan(v):
            continue
        level = _level(v, low[t], high[t], levels)
        surprised = False
        for b in range(CONTEXT_BITS):
            facts[b] = 2 * b + ((level >> b) & 1)
            surprised = surprised or not predicted[facts[b]]
        new_zero, zero_id, proposed = False, -1, 0
        if n_left > 0:
            l_pool = _room1(l_pool, l_count[0] + n_left, 0)
            l_sc, l_index = _room2(l_sc, l_count[1] + 1), _room2(l_index, l_count[2] + n_left)
            r_pool = _room1(r_pool, r_count[0] + CONTEXT_BITS, 0)
            r_sc, r_index = _room2(r_sc, r_count[1] + 1), _room2(r_index, r_count[2] + CONTEXT_BITS)
            ints, floats = _room2(ints, n_contexts + 1), _room2(floats, n_contexts + 1)
            lid = _semi_context(l_pool, l_sc, l_index, l_head, l_count, l_table, left, n_left)
            rid = _semi_context(r_pool, r_sc, r_index, r_head, r_count, r_table, facts, CONTEXT_BITS)
            zero_id, new_zero = _context(pairs, ints, floats, n_contexts, l_sc, lid, rid)
            n_contexts += new_zero
            ints[zero_id, C_COUNTED] = t + 1
            proposed = 1
            if not new_zero:
                ints[zero_id, C_ZERO] = 1
        r_crossed = _cross(r_sc, r_index, r_head, r_crossed, r_count[1], facts, CONTEXT_BITS)
        active = np.empty(n_contexts, dtype=np.int64)
        n_active = 0
        selected = 0
        proposals = np.empty(2 * n_contexts, dtype=np.int64)  # left id, right id, left id, ...
        n_proposals = 0
        for lid in l_crossed:
            l_over = l_sc[lid, SC_OVERLAP]
            l_full = l_over == l_sc[lid, SC_SIZE]
            cid = l_sc[lid, SC_FIRST]
            while cid >= 0:
                if not (new_zero and cid == zero_id):
                    rid = ints[cid, C_RIGHT]
                    r_over = r_sc[rid, SC_OVERLAP]
                    r_size = r_sc[rid, SC_SIZE]
                    came_true = False
                    if l_full:
                        selected += 1
                        floats[cid, 1] += r_size
                        if r_over > 0:
                            floats[cid, 0] += r_over
                            if r_over == r_size:
                                ints[cid, C_ACTIVATIONS] += 1
                                active[n_active] = cid
                                n_active += 1
                                came_true = True
                    if not came_true and ints[cid, C_ZERO] and new_zero and r_over > 0 and l_over <= CONTEXT_MAX_LEFT:
                        proposals[n_proposals] = lid
                        proposals[n_proposals + 1] = rid
                        n_proposals += 2
                cid = ints[cid, C_NEXT]
        # the most active contexts (by activations, then id) become facts of the next row's left side
        chosen = active[:n_active]
        if n_active > 0:
            keys = np.empty(n_active, dtype=np.int64)
            for i in range(n_active):
                keys[i] = ints[chosen[i], C_ACTIVATIONS] * (n_contexts + 1) + chosen[i]
            chosen = chosen[np.argsort(keys)][-CONTEXT_MAX_NEURONS:]
        added = 0
        n_new = n_proposals // 2
        l_pool = _room1(l_pool, l_count[0] + n_new * CONTEXT_MAX_LEFT, 0)
        l_sc, l_index = _room2(l_sc, l_count[1] + n_new), _room2(l_index, l_count[2] + n_new * CONTEXT_MAX_LEFT)
        r_pool = _room1(r_pool, r_count[0] + n_new * CONTEXT_BITS, 0)
        r_sc, r_index = _room2(r_sc, r_count[1] + n_new), _room2(r_index, r_count[2] + n_new * CONTEXT_BITS)
        ints, floats = _room2(ints, n_contexts + n_new), _room2(floats, n_contexts + n_new)
        for p in range(0, n_proposals, 2):
            k_left = _shared(l_pool, l_sc, proposals[p], left, n_left, left_shared)
            k_right = _shared(r_pool, r_sc, proposals[p + 1], facts, CONTEXT_BITS, right_shared)
            lid = _semi_context(l_pool, l_sc, l_index, l_head, l_count, l_table, left_shared, k_left)
            rid = _semi_context(r_pool, r_sc, r_index, r_head, r_count, r_table, right_shared, k_right)
            cid, new = _context(pairs, ints, floats, n_contexts, l_sc, lid, rid)
            n_contexts += new
            added += new
            if ints[cid, C_COUNTED] != t + 1:
                ints[cid, C_COUNTED] = t + 1
                proposed += 1
        neurons = np.sort(chosen)
        n_left = CONTEXT_BITS + neurons.shape[0]
        left[:CONTEXT_BITS] = facts
        left[CONTEXT_BITS:n_left] = neurons + value_facts
        l_head = _room1(l_head, value_facts + n_contexts, -1)
        l_crossed = _cross(l_sc, l_index, l_head, l_crossed, l_count[1], left, n_left)
        best = 0.0
        predicted[:] = False
        for lid in l_crossed:
            if l_sc[lid, SC_OVERLAP] != l_sc[lid, SC_SIZE]:
                continue
            cid = l_sc[lid, SC_FIRST]
            while cid >= 0:
                weight = floats[cid, 0] / floats[cid, 1] if floats[cid, 1] > 0 else 0.0
                if weight >= best:
                    if weight > best:
                        best = weight
                        predicted[:] = False
                    rid = ints[cid, C_RIGHT]
                    s = r_sc[rid, SC_START]
                    for i in range(r_sc[rid, SC_SIZE]):
                        predicted[r_pool[s + i]] = True
                cid = ints[cid, C_NEXT]
        share_active = n_active / selected if selected > 0 else 0.0
        share_new = (added + 1) / proposed if new_zero else 0.0
        raw = (1.0 - share_active + share_new) / 2.0 if surprised else 0.0
        seen += 1
        if not (rest > 0 and last_loud >= seen - rest):
            out[t] = raw
        if raw >= threshold:
            last_loud = seen
    return out


# ARTime (Hampton, NAB's leader): a dual-vigilance fuzzy ART over windows of a downsampled, quantised series.
ART_WINDOW = 8  # downsampled values a feature window holds
ART_WINDOWS_PER_PROBATION = 13
ART_LEVELS = 80
ART_CHOMP = 0.075  # a level this close to the running median is the median
ART_INITIAL_RHO = 0.8
ART_MASK = 12  # downsampled rows after an anomaly (1.5 windows)
ART_DIM = 2 * ART_WINDOW  # features: the window's scaled Haar transform, then the window


@njit(cache=True)
def _scale01(v: np.ndarray) -> np.ndarray:
    """v shifted to start at 0 and divided by its range (left at 0 when constant)."""
    shifted = v - v.min()
    top = shifted.max()
    return shifted / top if top != 0 else shifted


@njit(cache=True)
def _haar(d: np.ndarray) -> np.ndarray:
    """Full periodic Haar transform of a power-of-two window: [a, d_coarsest, ..., d_finest], details (first −
    second)/√2."""
    out = np.empty_like(d)
    approx = d.copy()
    n = d.shape[0]
    root2 = math.sqrt(2.0)
    while n > 1:
        half = n // 2
        nxt = np.empty(half)
        for k in range(half):
            nxt[k] = (approx[2 * k] + approx[2 * k + 1]) / root2
            out[half + k] = (approx[2 * k] - approx[2 * k + 1]) / root2
        approx = nxt
        n = half
    out[0] = approx[0]
    return out


@njit(cache=True)
def _art_train(weights, labels, state, rho, f: np.ndarray, learning: bool) -> tuple[int, float, float]:
    """One input through the compact dual-vigilance fuzzy ART (categories weights[:state[0]], their cluster labels,
    state = [categories, clusters], rho = [lower, upper] vigilance). Returns (cluster label, −1 for a new cluster
    or no learning; the best match; its energy match). The caller made room for one more category."""
    dim = f.shape[0]
    x = np.empty(2 * dim)
    x[:dim] = f
    x[dim:] = 1.0 - f
    if state[0] == 0:
        weights[0, :] = 1.0
        labels[0] = 1
        state[0], state[1] = 1, 1
        return 1, 0.0, 0.0
    count = state[0]
    e = dim - 1
    matches = np.empty(count)
    energies = np.empty(count)
    for j in range(count):
        total, size = 0.0, 0.0
        for k in range(2 * dim):
            total += min(x[k], weights[j, k])
            size += weights[j, k]
        if size == 0:
            size = 0.001
        w_energy = weights[j, e] + weights[j, 2 * dim - 1]
        matched = min(x[e], weights[j, e]) + min(x[2 * dim - 1], weights[j, 2 * dim - 1])
        energy = matched / w_energy if w_energy > 0 else 0.0  # matched ≤ w_energy: no energy to match
        share = total / size
        matches[j] = share * share * share * energy * energy
        energies[j] = energy
    order = np.argsort(-matches, kind="mergesort")  # stable: ties keep the lower index first
    best, best_energy, mismatch, label = 0.0, 0.0, True, -1
    for j in order:
        if matches[j] > best:
            best, best_energy = matches[j], energies[j]
        if not learning:
            continue
        if matches[j] >= rho[1]:
            for k in range(2 * dim):
                weights[j, k] = min(x[k], weights[j, k])
            if matches[j] >= best:
                label = labels[j]
            mismatch = False
        elif matches[j] >= rho[0] and mismatch:
            if matches[j] >= best:
                label = labels[j]
            labels[count] = label
            weights[count, :] = x
            state[0] += 1
            mismatch = False
            break
        else:
            break
    if mismatch and learning:
        state[1] += 1
        labels[count] = state[1]
        weights[count, :] = x
        state[0] += 1
        return -1, best, best_energy
    return label, best, best_energy


@njit(cache=True)
def _initial_rho(columns: np.ndarray, trend: int) -> float:
    """The mean best match over the second half of a fresh ART (vigilance 0.8) trained on the columns, least typical
    (by summed cosine similarity) first."""
    n, dim = columns.shape
    norms = np.zeros(n)
    for i in range(n):
        for k in range(dim):
            norms[i] += columns[i, k] * columns[i, k]
        norms[i] = math.sqrt(norms[i])
    sums = np.ones(n)
    for j in range(n):
        for i in range(n):
            if i == j:
                continue
            if norms[i] == 0.0:
                s = 1.0 - norms[j]
            elif norms[j] == 0.0:
                s = 1.0 - norms[i]
            else:
                dot = 0.0
                for k in range(dim):
                    dot += columns[i, k] * columns[j, k]
                s = dot / (norms[i] * norms[j])
            sums[j] += s
    weights = np.zeros((n + 1, 2 * columns.shape[1]))
    labels = np.zeros(n + 1, dtype=np.int64)
    state = np.zeros(2, dtype=np.int64)
    rho = np.array([ART_INITIAL_RHO, ART_INITIAL_RHO])
    similarity = np.empty(n)
    for k, j in enumerate(np.argsort(sums, kind="mergesort")):
        similarity[k] = _art_train(weights, labels, state, rho, columns[j], True)[1]
    return similarity[trend // 2 - 1 :].mean()


@njit(cache=True)
def artime(x: np.ndarray, low: np.ndarray, high: np.ndarray, probation: int) -> np.ndarray:
    """ARTime's score of each row (the design of Hampton's ARTime, NAB's leader).

    Every `step` rows (step = probation // 104) the last `step` values become one: the bigger spike away from a
    running average, or their mean, scaled into [low, high] at that row, quantised to 80 levels and snapped to the
    running median when close. A window of 8 such values gives 16 features (its scaled Haar transform and the
    window). The first probation // step of them set the vigilance and train a dual-vigilance fuzzy ART; after that,
    a window no category resonates with starts a new cluster and scores by how far it falls below the vigilance and
    how little of its newest value the nearest category explains, unless it follows an anomaly too closely. The
    vigilance follows the recent matches. Rows between downsampled ones score 0, as do NaN rows (which change
    nothing). `probation` is at least 32 rows (its initial vigilance needs a dozen windows).
    """
    n = x.shape[0]
    out = np.zeros(n)
    probation -= probation % 2
    step = max(1, probation // (ART_WINDOW * ART_WINDOWS_PER_PROBATION))
    trend = probation // step
    weights = np.zeros((64, 2 * ART_DIM))  # categories, grown by doubling
    labels = np.zeros(64, dtype=np.int64)
    art = np.zeros(2, dtype=np.int64)
    rho = np.zeros(2)
    stored = np.zeros((trend + 1, ART_DIM))
    ds_window = np.zeros(step)
    f_window = np.zeros(ART_WINDOW)
    bins = np.zeros(ART_LEVELS + 1, dtype=np.int64)
    median, below, above = 0, 0, 0
    average = 0.0
    sim_window = np.ones(trend // 2 + 1)
    diff_window = np.zeros(trend + 1)
    history = np.zeros(64)  # the match of each anomaly, grown by doubling
    n_history = 0
    last_anomaly_i, last_anomaly_sim, last_rho_i = 0, 0.0, 0
    mask_after_cat, no_new = False, 0
    sim_total = 0.0
    i, dsi = 1, 1
    features = np.zeros(ART_DIM)
    for t in range(n):
        v = x[t]
        if math.isnan(v):
            continue
        ds_window[:-1] = ds_window[1:]
        ds_window[-1] = v
        if i % step == 0:
            mean, top, bottom = ds_window.mean(), ds_window.max(), ds_window.min()
            if dsi == 1:
                average = mean
            average = (average + mean) / 2
            ds = bottom if abs(top - average) < abs(bottom - average) else top
            if abs(ds - mean) < 0.1 * mean:
                ds = mean
            ds -= low[t]
            if high[t] - low[t] != 0:
                ds /= high[t] - low[t]
            q = ds * ART_LEVELS
            level = 0 if not q > 0.0 else (ART_LEVELS if q >= ART_LEVELS else int(np.rint(q)))  # half to even
            ds = level / ART_LEVELS
            bins[level] += 1
            if dsi == 1:
                median = level
            if median > level:
                below += 1
            elif median < level:
                above += 1
            if dsi // 2 < above:
                below += bins[median]
                median += 1
                while bins[median] == 0:
                    median += 1
                above -= bins[median]
            elif dsi // 2 < below:
                above += bins[median]
                median -= 1
                while bins[median] == 0:
                    median -= 1
                below -= bins[median]
            if abs(ds - median / ART_LEVELS) < ART_CHOMP:
                ds = median / ART_LEVELS
            f_window[:-1] = f_window[1:]
            f_window[-1] = ds
            features[:] = 0.0
            if dsi >= ART_WINDOW:
                features[:ART_WINDOW] = _scale01(_haar(_scale01(f_window)))
                features[ART_WINDOW:] = f_window
            first, last = dsi, dsi  # the downsampled rows to run through the ART now
            if dsi <= trend:
                stored[dsi] = features
                if dsi == trend:
                    rho[0] = rho[1] = _initial_rho(stored[ART_WINDOW : trend + 1], trend)
                    first = 1
                else:
                    first = last + 1  # nothing yet: the probation is still being stored
            for k in range(first, last + 1):
                f = stored[k] if dsi <= trend else features
                after_anomaly = k - last_anomaly_i == ART_MASK
                for_trend = k - last_rho_i >= trend // 2
                masked = k - last_anomaly_i <= ART_MASK
                if k > trend + ART_MASK and mask_after_cat and no_new >= ART_MASK:
                    mask_after_cat = False
                weights, labels = _room2(weights, art[0] + 1), _room1(labels, art[0] + 1, 0)
                cat, sim, energy = _art_train(weights, labels, art, rho, f, k >= ART_WINDOW)
                if k < ART_WINDOW:
                    cat = -1
                no_new = 0 if cat == -1 else no_new + 1
                sim_total += sim
                sim_window[:-1] = sim_window[1:]
                sim_window[-1] = sim
                diff_window[:-1] = diff_window[1:]
                diff_window[-1] = rho[1] - sim
                if k - last_anomaly_i < ART_MASK and n_history > 0 and sim < history[n_history - 1]:
                    history[n_history - 1] = sim
                below_last = sim < last_anomaly_sim * (0.9 if masked else 0.7)
                if k > trend and cat == -1 and (not (mask_after_cat or masked) or below_last):
                    out[t] = _art_confidence(sim, energy, rho[0], rho[1])
                    history = _room1(history, n_history + 1, 0)
                    history[n_history] = sim
                    n_history += 1
                    last_anomaly_sim, last_anomaly_i = sim, k
                mask_after_cat = cat == -1 or mask_after_cat
                if k > trend and (after_anomaly or for_trend):
                    ub = min(0.97, sim_total / k)
                    lb = rho[0]
                    lowest = sim_window.min()
                    if lb <= lowest:
                        lb += (lowest - lb) * 0.19
                    else:
                        kept, count = 0.0, 0
                        if k > 2 * trend:
                            for d in diff_window:
                                if d > 0.05:
                                    kept += min(0.37, d)
                                    count += 1
                        lb -= max(0.01, kept / count if count > 0 else 0.0) / 2
                        if n_history > 0:
                            lb = max(history[:n_history].sum() / n_history, lb)
                    rho[0], rho[1] = min(ub, lb), ub
                    last_rho_i = k
                    mask_after_cat = True
            dsi += 1
        i += 1
    return out


@njit(cache=True)
def _art_confidence(sim: float, energy: float, rho_lb: float, rho_ub: float) -> float:
    """How far a new cluster's best match falls below both vigilances, plus how little of the newest value the
    nearest category explains; at most 1."""
    sim = min(0.999, sim)
    ub = ((1 - sim) - (1 - rho_ub)) / (1 - sim)
    lb = ((1 - sim) - (1 - rho_lb)) / (1 - sim)
    return min(1.0, ub * 0.35 + lb * 0.65 + (1.0 - energy) * 1.5)
