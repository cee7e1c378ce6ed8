"""Plain Python references of the behaviour kernels (core/behaviour/_kernels.py), written from their definitions.

Signatures mirror the kernels' flat positional arrays.
"""
# ruff: noqa: PLR0917

from __future__ import annotations

import itertools
import math
import statistics

from core.behaviour import _kernels as k

NAN = float("nan")


def mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else NAN


def std(values: list[float]) -> float:
    return statistics.pstdev(values) if values else NAN


def median(values: list[float]) -> float:
    return statistics.median(values) if values else NAN


def pair_keystrokes(ts, key, press):
    down_at: dict[int, int] = {}
    pairs = []
    for t, code, is_press in zip(ts, key, press, strict=True):
        if is_press:
            down_at.setdefault(int(code), int(t))
        elif int(code) in down_at:
            pairs.append((down_at.pop(int(code)), int(code), int(t)))
    pairs.sort(key=lambda p: p[0])  # stable: equal press times keep release order
    return [p[1] for p in pairs], [p[0] for p in pairs], [p[2] for p in pairs]


def keystroke_window(key, cls, down, up, lo, hi, unigram_slot, digraph_slot, n_keys, n_features):
    row = [NAN] * n_features
    idx = list(range(lo, hi))
    n = len(idx)
    dwell = [(up[i] - down[i]) / 1000 for i in idx]
    flights = []  # (i, pp, rp)
    pauses = []
    for i in idx[:-1]:
        gap = down[i + 1] - down[i]
        if gap > k.PAUSE_US:
            pauses.append(gap / 1e6)
        else:
            flights.append((i, gap / 1000, (down[i + 1] - up[i]) / 1000))
    pp = [f[1] for f in flights]
    rp = [f[2] for f in flights]
    row[0] = n
    if n >= 2 and down[hi - 1] > down[lo]:
        row[1] = (n - 1) / ((down[hi - 1] - down[lo]) / 1e6)
    row[2:5] = [mean(dwell), std(dwell), median(dwell)]
    row[5:8] = [mean(pp), std(pp), median(pp)]
    row[8:11] = [mean(rp), std(rp), median(rp)]
    if flights:
        row[11] = sum(1 for i, _, _ in flights if down[i + 1] < up[i]) / len(flights)
    for c in range(6):
        row[12 + c] = mean([dwell[j] for j, i in enumerate(idx) if cls[i] == c])
    transitions = [(k.LETTER, k.LETTER), (k.LETTER, k.SPACE), (k.SPACE, k.LETTER)]
    for t, (a, b) in enumerate(transitions):
        row[18 + t] = mean([f for i, f, _ in flights if cls[i] == a and cls[i + 1] == b])
    row[21] = mean([f for i, f, _ in flights if cls[i + 1] == k.BACKSPACE])
    row[22] = mean([f for i, f, _ in flights if cls[i] == k.BACKSPACE and cls[i + 1] != k.BACKSPACE])
    if n:
        row[23] = sum(1 for i in idx if cls[i] == k.BACKSPACE) / n
        row[24] = sum(1 for i in idx if cls[i] == k.MODIFIER) / n
        row[25] = sum(1 for i in idx if cls[i] == k.PUNCTUATION) / n
        row[26] = len(pauses) / n
        row[28] = n / (len(pauses) + 1)
    if pauses:
        row[27] = mean(pauses)
    if len(pp) >= 2:
        row[29] = row[6] / row[5] if row[5] > 0 else NAN
    n_uni = max(unigram_slot) + 1
    for s in range(n_uni):
        row[k.N_KEY_BASE + s] = mean([dwell[j] for j, i in enumerate(idx) if unigram_slot[key[i]] == s])
    for s in range(max(digraph_slot) + 1):
        row[k.N_KEY_BASE + n_uni + s] = mean(
            [f for i, f, _ in flights if digraph_slot[key[i] * n_keys + key[i + 1]] == s]
        )
    return row


def kinematics(ts, x, y, idx):
    """Strokes of samples at most IDLE_US apart; same-time samples skipped; see _kernels._kinematics."""
    strokes: list[list[int]] = []
    idle, n_idle = 0.0, 0
    for j, i in enumerate(idx):
        if j == 0:
            strokes.append([i])
            continue
        anchor = strokes[-1][-1]
        gap = ts[i] - ts[anchor]
        if gap > k.IDLE_US:
            idle += gap / 1e6
            n_idle += 1
            strokes.append([i])
        elif gap > 0:
            strokes[-1].append(i)
    segs, pairs, jerks = [], [], []
    displacement = 0.0
    for stroke in strokes:
        displacement += math.hypot(x[stroke[-1]] - x[stroke[0]], y[stroke[-1]] - y[stroke[0]])
        s_segs = []
        for a, b in itertools.pairwise(stroke):
            dt = (ts[b] - ts[a]) / 1e6
            dx, dy = x[b] - x[a], y[b] - y[a]
            dist = math.hypot(dx, dy)
            s_segs.append({"dt": dt, "dx": dx, "dy": dy, "dist": dist, "v": dist / dt, "mid": (ts[a] + ts[b]) / 2e6})
        s_pairs = []
        for p, q in itertools.pairwise(s_segs):
            span = q["mid"] - p["mid"]
            turn = 0.0
            if p["dist"] > 0 and q["dist"] > 0:
                turn = math.remainder(math.atan2(q["dy"], q["dx"]) - math.atan2(p["dy"], p["dx"]), 2 * math.pi)
                if turn == -math.pi:
                    turn = math.pi
            s_pairs.append({"acc": (q["v"] - p["v"]) / span, "t": (p["mid"] + q["mid"]) / 2, "turn": turn,
                            "omega": turn / span, "curv": turn / q["dist"] if q["dist"] > 0 else 0.0})  # fmt: skip
        for p, q in itertools.pairwise(s_pairs):
            jerks.append((q["acc"] - p["acc"]) / (q["t"] - p["t"]))
        segs += s_segs
        pairs += s_pairs
    return segs, pairs, jerks, idle, n_idle, displacement


def _direction(dx, dy):
    angle = math.atan2(dy, dx) % (2 * math.pi)
    return min(int(angle / (math.pi / 4)), 7)


def mouse_window(ts, x, y, kind, button, scroll, lo, hi, span_s):
    row = [NAN] * k.N_MOUSE
    moves = [i for i in range(lo, hi) if kind[i] == k.MOVE]
    segs, pairs, jerks, idle, n_idle, displacement = kinematics(ts, x, y, moves)
    v = [s["v"] for s in segs]
    row[0:4] = [mean(v), std(v), max(v) if v else NAN, median(v)]
    if segs:
        row[4] = mean([abs(s["dx"]) / s["dt"] for s in segs])
        row[5] = mean([abs(s["dy"]) / s["dt"] for s in segs])
    acc = [p["acc"] for p in pairs]
    row[6:9] = [mean(acc), std(acc), max(map(abs, acc)) if acc else NAN]
    row[9:12] = [mean([abs(j) for j in jerks]), std(jerks), max(map(abs, jerks)) if jerks else NAN]
    curv = [p["curv"] for p in pairs]
    omega = [p["omega"] for p in pairs]
    row[12:16] = [mean([abs(c) for c in curv]), std(curv), mean([abs(o) for o in omega]), std(omega)]
    total = sum(s["dist"] for s in segs)
    if total > 0:
        for d in range(8):
            row[16 + d] = sum(s["dist"] for s in segs if s["dist"] > 0 and _direction(s["dx"], s["dy"]) == d) / total
        row[26] = displacement / total
    row[24] = total
    row[25] = mean([s["dist"] for s in segs])
    row[27] = idle / span_s
    row[28] = n_idle
    clicks = [i for i in range(lo, hi) if kind[i] == k.PRESS and button[i] in (k.LEFT_BUTTON, k.RIGHT_BUTTON)]
    row[29] = len(clicks)
    if clicks:
        row[30] = sum(1 for i in clicks if button[i] == k.RIGHT_BUTTON) / len(clicks)
    lefts = [i for i in clicks if button[i] == k.LEFT_BUTTON]
    row[33] = sum(1 for a, b in itertools.pairwise(lefts) if ts[b] - ts[a] <= k.DOUBLE_CLICK_US)
    holds, down = [], {}
    for i in range(lo, hi):
        if kind[i] == k.PRESS and button[i] in (k.LEFT_BUTTON, k.RIGHT_BUTTON):
            down[button[i]] = ts[i]
        elif kind[i] == k.RELEASE and button[i] in down:
            holds.append((ts[i] - down.pop(button[i])) / 1000)
    row[31:33] = [mean(holds), std(holds)]
    scrolls = [i for i in range(lo, hi) if kind[i] == k.SCROLL]
    row[34] = len(scrolls)
    if scrolls:
        row[35] = mean([abs(scroll[i]) for i in scrolls])
        row[36] = sum(1 for i in scrolls if scroll[i] > 0) / len(scrolls)
    row[37] = len(moves) / span_s
    return row


def segment_actions(ts, x, y, kind, button):
    actions = []
    current: list[int] = []  # event indices of the open action (pointer samples only)
    press = None
    for i in range(len(ts)):
        if kind[i] == k.SCROLL:
            if press is None:
                if len(current) >= k.MIN_ACTION_POINTS:
                    actions.append((current[0], i - 1, k.MOUSE_MOVE_ACTION))
                current = []
            continue
        if current and press is None and ts[i] - ts[current[-1]] > k.ACTION_GAP_US:
            if len(current) >= k.MIN_ACTION_POINTS:
                actions.append((current[0], i - 1, k.MOUSE_MOVE_ACTION))
            current = []
        current.append(i)
        if kind[i] == k.PRESS and press is None and button[i] in (k.LEFT_BUTTON, k.RIGHT_BUTTON):
            press = i
        elif kind[i] == k.RELEASE and press is not None:
            if len(current) >= k.MIN_ACTION_POINTS:
                moved = math.hypot(x[i] - x[press], y[i] - y[press]) > k.DRAG_MIN_PX
                actions.append((current[0], i, k.DRAG_DROP if moved else k.POINT_CLICK))
            current, press = [], None
    if current and press is None and len(current) >= k.MIN_ACTION_POINTS:
        actions.append((current[0], len(ts) - 1, k.MOUSE_MOVE_ACTION))
    return actions


def _stats4(values):
    return [mean(values), std(values), min(values), max(values)] if values else [NAN] * 4


def action(ts, x, y, kind, first, last, action_kind):
    idx = [i for i in range(first, last + 1) if kind[i] != k.SCROLL]
    segs, pairs, jerks, _, _, _ = kinematics(ts, x, y, idx)
    a, b = idx[0], idx[-1]
    duration = (ts[b] - ts[a]) / 1e6
    length = sum(s["dist"] for s in segs)
    ex, ey = x[b] - x[a], y[b] - y[a]
    end_to_end = math.hypot(ex, ey)
    deviation = 0.0
    if end_to_end > 0:
        deviation = max(abs(ex * (y[i] - y[a]) - ey * (x[i] - x[a])) / end_to_end for i in idx)
    row = [float(action_kind == t) for t in (k.MOUSE_MOVE_ACTION, k.POINT_CLICK, k.DRAG_DROP)]
    straightness = end_to_end / length if length > 0 else 1.0
    critical = sum(1 for p in pairs if abs(p["turn"]) > math.pi / 4)
    row += [duration, length, end_to_end, _direction(ex, ey), straightness, len(idx)]
    row += [sum(abs(p["turn"]) for p in pairs), deviation, critical]
    row += _stats4([s["dx"] / s["dt"] for s in segs]) if segs else [NAN] * 4
    row += _stats4([s["dy"] / s["dt"] for s in segs]) if segs else [NAN] * 4
    row += _stats4([s["v"] for s in segs])
    row += _stats4([p["acc"] for p in pairs])
    row += _stats4(jerks)
    row += _stats4([p["omega"] for p in pairs])
    row += _stats4([p["curv"] for p in pairs])
    if segs and duration > 0:
        fastest = max(range(len(segs)), key=lambda j: (segs[j]["v"], -j))
        row.append((segs[fastest]["mid"] - ts[a] / 1e6) / duration)
    else:
        row.append(NAN)
    return row
