"""A plain Python ARTime (Hampton's adaptive resonance detector, NAB's leader), the reference for
`_memory_kernels.artime`.

Written from the published design with lists, one row at a time; the kernel must agree with it exactly.
"""

from __future__ import annotations

import math

WINDOW = 8
WINDOWS_PER_PROBATION = 13
LEVELS = 80
CHOMP = 0.075
INITIAL_RHO = 0.8
MASK = 12  # rows of the downsampled series after an anomaly (WINDOW * 1.5)


def _haar(d: list[float]) -> list[float]:
    """Full periodic Haar transform of 8 values: [a3, d3, d2 (2), d1 (4)], details (first − second)/√2."""
    out = [0.0] * len(d)
    approx = list(d)
    n = len(d)
    while n > 1:
        half = n // 2
        nxt = [(approx[2 * k] + approx[2 * k + 1]) / math.sqrt(2.0) for k in range(half)]
        out[half:n] = [(approx[2 * k] - approx[2 * k + 1]) / math.sqrt(2.0) for k in range(half)]
        approx = nxt
        n = half
    out[0] = approx[0]
    return out


def _scaled(v: list[float]) -> list[float]:
    low = min(v)
    shifted = [a - low for a in v]
    top = max(shifted)
    return [a / top for a in shifted] if top != 0 else shifted


class Art:
    """The compact dual-vigilance fuzzy ART: complement-coded inputs, match = (|x∧w|/|w|)³ · energy², fast commit."""

    def __init__(self, rho: float) -> None:
        self.weights: list[list[float]] = []
        self.labels: list[int] = []
        self.clusters = 0
        self.rho_lb = self.rho_ub = rho
        self.similarity: list[float] = []
        self.energy: list[float] = []

    def train(self, f: list[float], learning: bool = True) -> int:
        x = list(f) + [1.0 - a for a in f]
        if not self.weights:
            self.weights, self.labels, self.clusters = [[1.0] * len(x)], [1], 1
            self.similarity.append(0.0)
            self.energy.append(0.0)
            return 1
        e = len(x) // 2 - 1
        matches, energies, commits = [], [], []
        for w in self.weights:
            m = [min(a, b) for a, b in zip(x, w, strict=True)]
            size = sum(w) or 0.001
            energy = (m[e] + m[-1]) / (w[e] + w[-1]) if w[e] + w[-1] > 0 else 0.0  # m ≤ w: no energy to match
            share = sum(m) / size
            matches.append(share * share * share * energy * energy)
            energies.append(energy)
            commits.append(m)
        order = sorted(range(len(matches)), key=lambda j: -matches[j])  # stable: ties keep the lower index first
        best, best_energy, mismatch, label = 0.0, 0.0, True, -1
        for j in order:
            if matches[j] > best:
                best, best_energy = matches[j], energies[j]
            if not learning:
                continue
            if matches[j] >= self.rho_ub:
                self.weights[j] = commits[j]
                if matches[j] >= best:
                    label = self.labels[j]
                mismatch = False
            elif matches[j] >= self.rho_lb and mismatch:
                if matches[j] >= best:
                    label = self.labels[j]
                self.labels.append(label)
                self.weights.append(x)
                mismatch = False
                break
            else:
                break
        self.similarity.append(best)
        self.energy.append(best_energy)
        if mismatch and learning:
            self.clusters += 1
            self.labels.append(self.clusters)
            self.weights.append(x)
            return -1
        return label


def _cosine(a: list[float], b: list[float]) -> float:
    na, nb = math.sqrt(sum(v * v for v in a)), math.sqrt(sum(v * v for v in b))  # sums from 0.0, left to right
    if na == 0.0:
        return 1.0 - nb
    if nb == 0.0:
        return 1.0 - na
    return sum(p * q for p, q in zip(a, b, strict=True)) / (na * nb)


def initial_rho(columns: list[list[float]], trend: int) -> float:
    n = len(columns)
    sums = []
    for j in range(n):
        total = 1.0  # the column with itself, then the others in order
        for i in range(n):
            if i != j:
                total += _cosine(columns[i], columns[j])
        sums.append(total)
    art = Art(INITIAL_RHO)
    for j in sorted(range(n), key=lambda k: sums[k]):
        art.train(columns[j])
    tail = art.similarity[trend // 2 - 1 :]
    return sum(tail) / len(tail)


class ArtimeReference:
    def __init__(self, probation: int) -> None:
        probation -= probation % 2
        self.step = max(1, probation // (WINDOW * WINDOWS_PER_PROBATION))
        self.trend = probation // self.step
        self.i = 1
        self.ds_window = [0.0] * self.step
        self.dsi = 1
        self.average = 0.0
        self.bins = [0] * (LEVELS + 1)
        self.median, self.below, self.above = 0, 0, 0
        self.f_window = [0.0] * WINDOW
        self.stored: list[list[float]] = []
        self.art = Art(0.0)
        self.last_anomaly_i, self.last_anomaly_sim, self.last_rho_i = 0, 0.0, 0
        self.mask_after_cat, self.no_new = False, 0
        self.history: list[float] = []
        self.sim_window = [1.0] * (self.trend // 2 + 1)
        self.diff_window = [0.0] * (self.trend + 1)
        self.sim_total, self.sim_count = 0.0, 0

    def step_row(self, v: float, low: float, high: float) -> float:
        if math.isnan(v):
            return 0.0
        self.ds_window = [*self.ds_window[1:], v]
        score = 0.0
        if self.i % self.step == 0:
            score = self._downsampled(low, high)
        self.i += 1
        return score

    def _level(self, low: float, high: float) -> float:
        window = self.ds_window
        mean, top, bottom = sum(window) / len(window), max(window), min(window)
        if self.dsi == 1:
            self.average = mean
        self.average = (self.average + mean) / 2
        ds = bottom if abs(top - self.average) < abs(bottom - self.average) else top
        if abs(ds - mean) < 0.1 * mean:
            ds = mean
        ds -= low
        if high - low != 0:
            ds /= high - low
        q = ds * LEVELS
        level = 0 if not q > 0 else (LEVELS if q >= LEVELS else round(q))  # round half to even, as Julia's round
        ds = level / LEVELS
        self.bins[level] += 1
        half = self.dsi // 2
        if self.dsi == 1:
            self.median = level
        if self.median > level:
            self.below += 1
        elif self.median < level:
            self.above += 1
        if half < self.above:
            self.below += self.bins[self.median]
            self.median += 1
            while self.bins[self.median] == 0:
                self.median += 1
            self.above -= self.bins[self.median]
        elif half < self.below:
            self.above += self.bins[self.median]
            self.median -= 1
            while self.bins[self.median] == 0:
                self.median -= 1
            self.below -= self.bins[self.median]
        median = self.median / LEVELS
        return median if abs(ds - median) < CHOMP else ds

    def _downsampled(self, low: float, high: float) -> float:
        ds = self._level(low, high)
        self.f_window = [*self.f_window[1:], ds]
        features = [0.0] * (2 * WINDOW)
        if self.dsi >= WINDOW:
            features = _scaled(_haar(_scaled(self.f_window))) + list(self.f_window)
        score = 0.0
        if self.dsi <= self.trend:
            self.stored.append(features)
            if self.dsi == self.trend:
                rho = initial_rho(self.stored[WINDOW - 1 :], self.trend)
                self.art.rho_lb = self.art.rho_ub = rho
                for k, f in enumerate(self.stored, start=1):
                    self._detect(f, k)
        else:
            score = self._detect(features, self.dsi)
        self.dsi += 1
        return score

    def _detect(self, f: list[float], i: int) -> float:
        art = self.art
        after_anomaly = i - self.last_anomaly_i == MASK
        for_trend = i - self.last_rho_i >= self.trend // 2
        masked = i - self.last_anomaly_i <= MASK
        if i > self.trend + MASK and self.mask_after_cat and self.no_new >= MASK:
            self.mask_after_cat = False
        if i < WINDOW:
            art.train(f, learning=False)
            cat = -1
        else:
            cat = art.train(f)
        self.no_new = 0 if cat == -1 else self.no_new + 1
        sim, energy = art.similarity[i - 1], art.energy[i - 1]
        self.sim_total += sim
        self.sim_count += 1
        self.sim_window = [*self.sim_window[1:], sim]
        self.diff_window = [*self.diff_window[1:], art.rho_ub - sim]
        if i - self.last_anomaly_i < MASK and self.history and sim < self.history[-1]:
            self.history[-1] = sim
        below = sim < self.last_anomaly_sim * (0.9 if masked else 0.7)
        score = 0.0
        if i > self.trend and cat == -1 and (not (self.mask_after_cat or masked) or below):
            score = _confidence(sim, energy, art.rho_lb, art.rho_ub)
            self.history.append(sim)
            self.last_anomaly_sim, self.last_anomaly_i = sim, i
        self.mask_after_cat = cat == -1 or self.mask_after_cat
        if i > self.trend and (after_anomaly or for_trend):
            ub = min(0.97, self.sim_total / self.sim_count)
            lb = art.rho_lb
            lowest = min(self.sim_window)
            if lb <= lowest:
                lb += (lowest - lb) * 0.19
            else:
                kept = [min(0.37, d) for d in self.diff_window if d > 0.05] if i > 2 * self.trend else []
                lb -= max(0.01, sum(kept) / len(kept) if kept else 0.0) / 2
                if self.history:
                    lb = max(sum(self.history) / len(self.history), lb)
            art.rho_lb, art.rho_ub = min(ub, lb), ub
            self.last_rho_i = i
            self.mask_after_cat = True
        return score


def _confidence(sim: float, energy: float, rho_lb: float, rho_ub: float) -> float:
    sim = min(0.999, sim)
    ub = ((1 - sim) - (1 - rho_ub)) / (1 - sim)
    lb = ((1 - sim) - (1 - rho_lb)) / (1 - sim)
    return min(1.0, ub * 0.35 + lb * 0.65 + (1.0 - energy) * 1.5)


def artime_reference(values, low, high, probation: int) -> list[float]:
    """Scores of every row (value, bounds low/high) by the plain reference."""
    detector = ArtimeReference(probation)
    return [detector.step_row(float(v), float(lo), float(hi)) for v, lo, hi in zip(values, low, high, strict=True)]
