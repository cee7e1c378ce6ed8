"""numba kernels of the behaviour features. Times are µs (int64); every statistic of an empty set is NaN.

Each kernel has a plain Python reference in tests/core/behaviour, held equal by property tests.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

# Keystrokes -------------------------------------------------------------------------------------------------------
PAUSE_US = 1_000_000
"""A gap between two key presses longer than this is a pause: it splits bursts and is kept out of flight times."""
N_KEY_BASE = 30  # fixed columns before the unigram and digraph slots (see keystroke.KEYSTROKE_BASE_FEATURES)
LETTER, DIGIT, SPACE, BACKSPACE, MODIFIER, PUNCTUATION = 0, 1, 2, 3, 4, 5


@njit(cache=True)
def pair_keystrokes(ts: np.ndarray, key: np.ndarray, press: np.ndarray, n_keys: int):
    """Match each press with the next release of its key: (key, down, up) in press order.

    A press while the key is already down (auto-repeat) is ignored; a release without a press is dropped.
    """
    pending = np.full(n_keys, -1, np.int64)
    out_key = np.empty(len(ts), np.int16)
    out_down = np.empty(len(ts), np.int64)
    out_up = np.empty(len(ts), np.int64)
    n = 0
    for i in range(len(ts)):
        k = key[i]
        if press[i]:
            if pending[k] < 0:
                pending[k] = ts[i]
        elif pending[k] >= 0:
            out_key[n] = k
            out_down[n] = pending[k]
            out_up[n] = ts[i]
            pending[k] = -1
            n += 1
    order = np.argsort(out_down[:n], kind="mergesort")
    return out_key[:n][order], out_down[:n][order], out_up[:n][order]


@njit(cache=True)
def _mean(values: np.ndarray, n: int) -> float:
    if n == 0:
        return np.nan
    return values[:n].sum() / n


@njit(cache=True)
def _std(values: np.ndarray, n: int) -> float:
    if n == 0:
        return np.nan
    mean = values[:n].sum() / n
    total = 0.0
    for i in range(n):
        total += (values[i] - mean) ** 2
    return math.sqrt(total / n)


@njit(cache=True)
def _median(values: np.ndarray, n: int) -> float:
    if n == 0:
        return np.nan
    return np.median(values[:n])


@njit(cache=True)
def _keystroke_window(key, cls, down, up, lo, hi, unigram_slot, digraph_slot, n_keys, row):
    """Features of keystrokes lo..hi-1 into `row` (see keystroke.KEYSTROKE_BASE_FEATURES for the layout)."""
    n = hi - lo
    m = max(n, 1)
    dwell = np.empty(m)
    pp = np.empty(m)
    rp = np.empty(m)
    class_sum = np.zeros(6)
    class_n = np.zeros(6)
    trans_sum = np.zeros(5)
    trans_n = np.zeros(5)
    n_uni = unigram_slot.max() + 1
    n_di = digraph_slot.max() + 1
    uni_sum = np.zeros(n_uni)
    uni_n = np.zeros(n_uni)
    di_sum = np.zeros(n_di)
    di_n = np.zeros(n_di)
    n_flight = 0
    n_overlap = 0
    n_pause = 0
    pause_total = 0.0
    for i in range(lo, hi):
        d = (up[i] - down[i]) / 1000.0
        dwell[i - lo] = d
        c = cls[i]
        if c <= PUNCTUATION:
            class_sum[c] += d
            class_n[c] += 1
        s = unigram_slot[key[i]]
        if s >= 0:
            uni_sum[s] += d
            uni_n[s] += 1
        if i + 1 < hi:
            gap = down[i + 1] - down[i]
            if gap > PAUSE_US:
                n_pause += 1
                pause_total += gap / 1e6
                continue
            f = gap / 1000.0
            pp[n_flight] = f
            rp[n_flight] = (down[i + 1] - up[i]) / 1000.0
            if down[i + 1] < up[i]:
                n_overlap += 1
            n_flight += 1
            c2 = cls[i + 1]
            t = -1
            if c == LETTER and c2 == LETTER:
                t = 0
            elif c == LETTER and c2 == SPACE:
                t = 1
            elif c == SPACE and c2 == LETTER:
                t = 2
            elif c2 == BACKSPACE:
                t = 3
            elif c == BACKSPACE:
                t = 4
            if t >= 0:
                trans_sum[t] += f
                trans_n[t] += 1
            s = digraph_slot[key[i] * n_keys + key[i + 1]]
            if s >= 0:
                di_sum[s] += f
                di_n[s] += 1
    row[:] = np.nan
    row[0] = n
    if n >= 2 and down[hi - 1] > down[lo]:
        row[1] = (n - 1) / ((down[hi - 1] - down[lo]) / 1e6)
    row[2] = _mean(dwell, n)
    row[3] = _std(dwell, n)
    row[4] = _median(dwell, n)
    row[5] = _mean(pp, n_flight)
    row[6] = _std(pp, n_flight)
    row[7] = _median(pp, n_flight)
    row[8] = _mean(rp, n_flight)
    row[9] = _std(rp, n_flight)
    row[10] = _median(rp, n_flight)
    if n_flight > 0:
        row[11] = n_overlap / n_flight
    for c in range(6):
        if class_n[c] > 0:
            row[12 + c] = class_sum[c] / class_n[c]
    for t in range(5):
        if trans_n[t] > 0:
            row[18 + t] = trans_sum[t] / trans_n[t]
    if n > 0:
        row[23] = class_n[BACKSPACE] / n
        row[24] = class_n[MODIFIER] / n
        row[25] = class_n[PUNCTUATION] / n
        row[26] = n_pause / n
        row[28] = n / (n_pause + 1)
    if n_pause > 0:
        row[27] = pause_total / n_pause
    if n_flight >= 2:
        row[29] = row[6] / row[5] if row[5] > 0 else np.nan
    for s in range(n_uni):
        if uni_n[s] > 0:
            row[N_KEY_BASE + s] = uni_sum[s] / uni_n[s]
    for s in range(n_di):
        if di_n[s] > 0:
            row[N_KEY_BASE + n_uni + s] = di_sum[s] / di_n[s]


@njit(cache=True, parallel=True)
def keystroke_features(key, cls, down, up, lo, hi, unigram_slot, digraph_slot, n_keys, n_features):
    """One row of keystroke features per window [lo[w], hi[w]) of press-ordered keystrokes."""
    out = np.empty((len(lo), n_features))
    for w in prange(len(lo)):
        _keystroke_window(key, cls, down, up, lo[w], hi[w], unigram_slot, digraph_slot, n_keys, out[w])
    return out


# Mouse ------------------------------------------------------------------------------------------------------------
MOVE, PRESS, RELEASE, SCROLL = 0, 1, 2, 3
LEFT_BUTTON, RIGHT_BUTTON = 1, 2
IDLE_US = 500_000
"""A gap between two pointer samples longer than this is idle time, not movement."""
DOUBLE_CLICK_US = 500_000
N_MOUSE = 38


@njit(cache=True)
def _wrap(angle: float) -> float:
    """An angle difference folded into (-π, π]."""
    while angle > math.pi:
        angle -= 2 * math.pi
    while angle <= -math.pi:
        angle += 2 * math.pi
    return angle


@njit(cache=True)
def _kinematics(ts, x, y, idx):
    """Kinematics of the pointer samples `idx` (indices into ts/x/y, in time order).

    Samples at most IDLE_US apart form a stroke; a sample at the same time as the previous one is skipped. Returns
    per segment (between consecutive samples of a stroke): dt (s), dx, dy, distance, speed, stroke id; per pair of
    adjacent segments: acceleration, angular change, angular velocity, curvature; per pair of adjacent accelerations:
    jerk; the idle time (s), the idle gap count, and the summed stroke displacement.
    """
    m = len(idx)
    size = max(m, 1)
    dt = np.empty(size)
    dx = np.empty(size)
    dy = np.empty(size)
    dist = np.empty(size)
    speed = np.empty(size)
    mid = np.empty(size)
    stroke = np.empty(size, np.int64)
    idle = 0.0
    n_idle = 0
    n_seg = 0
    sid = 0
    displacement = 0.0
    if m == 0:
        empty = np.empty(0)
        return empty, empty, empty, empty, empty, empty, empty, empty, empty, empty, empty, 0.0, 0, 0.0
    anchor = idx[0]
    first = idx[0]
    for j in range(1, m):
        b = idx[j]
        gap = ts[b] - ts[anchor]
        if gap > IDLE_US:
            idle += gap / 1e6
            n_idle += 1
            displacement += math.hypot(x[anchor] - x[first], y[anchor] - y[first])
            sid += 1
            anchor = b
            first = b
            continue
        if gap <= 0:
            continue
        dt[n_seg] = gap / 1e6
        dx[n_seg] = x[b] - x[anchor]
        dy[n_seg] = y[b] - y[anchor]
        dist[n_seg] = math.hypot(dx[n_seg], dy[n_seg])
        speed[n_seg] = dist[n_seg] / dt[n_seg]
        mid[n_seg] = (ts[anchor] + ts[b]) / 2e6
        stroke[n_seg] = sid
        n_seg += 1
        anchor = b
    displacement += math.hypot(x[anchor] - x[first], y[anchor] - y[first])
    acc = np.empty(size)
    acc_t = np.empty(size)
    acc_stroke = np.empty(size, np.int64)
    turn = np.empty(size)
    omega = np.empty(size)
    curv = np.empty(size)
    n_pair = 0
    for s in range(1, n_seg):
        if stroke[s] != stroke[s - 1]:
            continue
        span = mid[s] - mid[s - 1]
        acc[n_pair] = (speed[s] - speed[s - 1]) / span
        acc_t[n_pair] = (mid[s] + mid[s - 1]) / 2
        acc_stroke[n_pair] = stroke[s]
        change = 0.0
        if dist[s] > 0 and dist[s - 1] > 0:
            change = _wrap(math.atan2(dy[s], dx[s]) - math.atan2(dy[s - 1], dx[s - 1]))
        turn[n_pair] = change
        omega[n_pair] = change / span
        curv[n_pair] = change / dist[s] if dist[s] > 0 else 0.0
        n_pair += 1
    jerk = np.empty(size)
    n_jerk = 0
    for q in range(1, n_pair):
        if acc_stroke[q] == acc_stroke[q - 1]:
            jerk[n_jerk] = (acc[q] - acc[q - 1]) / (acc_t[q] - acc_t[q - 1])
            n_jerk += 1
    return (dt[:n_seg], dx[:n_seg], dy[:n_seg], dist[:n_seg], speed[:n_seg], acc[:n_pair], turn[:n_pair],
            omega[:n_pair], curv[:n_pair], jerk[:n_jerk], mid[:n_seg], idle, n_idle, displacement)  # fmt: skip


@njit(cache=True)
def _abs_mean(values: np.ndarray) -> float:
    if len(values) == 0:
        return np.nan
    return np.abs(values).mean()


@njit(cache=True)
def _abs_max(values: np.ndarray) -> float:
    if len(values) == 0:
        return np.nan
    return np.abs(values).max()


@njit(cache=True)
def _direction_bin(dx: float, dy: float) -> int:
    """Which of 8 equal 45° sectors, counter-clockwise from +x, the direction (dx, dy) falls in."""
    angle = math.atan2(dy, dx)
    if angle < 0:
        angle += 2 * math.pi
    return min(int(angle / (math.pi / 4)), 7)


@njit(cache=True)
def _mouse_window(ts, x, y, kind, button, scroll, lo, hi, span_s, row):
    """Features of mouse events lo..hi-1 into `row` (see mouse.MOUSE_FEATURES for the layout)."""
    row[:] = np.nan
    n_move = 0
    for i in range(lo, hi):
        if kind[i] == MOVE:
            n_move += 1
    idx = np.empty(n_move, np.int64)
    k = 0
    for i in range(lo, hi):
        if kind[i] == MOVE:
            idx[k] = i
            k += 1
    dt, dx, dy, dist, speed, acc, _, omega, curv, jerk, _, idle, n_idle, displacement = _kinematics(ts, x, y, idx)
    n_seg = len(dt)
    row[0] = _mean(speed, n_seg)
    row[1] = _std(speed, n_seg)
    row[2] = speed.max() if n_seg > 0 else np.nan
    row[3] = _median(speed, n_seg)
    if n_seg > 0:
        row[4] = (np.abs(dx) / dt).mean()
        row[5] = (np.abs(dy) / dt).mean()
    row[6] = _mean(acc, len(acc))
    row[7] = _std(acc, len(acc))
    row[8] = _abs_max(acc)
    row[9] = _abs_mean(jerk)
    row[10] = _std(jerk, len(jerk))
    row[11] = _abs_max(jerk)
    row[12] = _abs_mean(curv)
    row[13] = _std(curv, len(curv))
    row[14] = _abs_mean(omega)
    row[15] = _std(omega, len(omega))
    total = dist.sum()
    if total > 0:
        sectors = np.zeros(8)
        for s in range(n_seg):
            if dist[s] > 0:
                sectors[_direction_bin(dx[s], dy[s])] += dist[s]
        row[16:24] = sectors / total
        row[26] = displacement / total
    row[24] = total
    row[25] = _mean(dist, n_seg)
    row[27] = idle / span_s
    row[28] = n_idle
    clicks = 0
    right = 0
    doubles = 0
    last_left = -1
    pending = np.full(3, -1, np.int64)
    holds = np.empty(max(hi - lo, 1))
    n_hold = 0
    scrolls = 0
    scroll_total = 0.0
    scroll_up = 0
    for i in range(lo, hi):
        b = button[i]
        if kind[i] == PRESS and b in (LEFT_BUTTON, RIGHT_BUTTON):
            clicks += 1
            if b == RIGHT_BUTTON:
                right += 1
            elif last_left >= 0 and ts[i] - last_left <= DOUBLE_CLICK_US:
                doubles += 1
            if b == LEFT_BUTTON:
                last_left = ts[i]
            pending[b] = ts[i]
        elif kind[i] == RELEASE and b in (LEFT_BUTTON, RIGHT_BUTTON) and pending[b] >= 0:
            holds[n_hold] = (ts[i] - pending[b]) / 1000.0
            n_hold += 1
            pending[b] = -1
        elif kind[i] == SCROLL:
            scrolls += 1
            scroll_total += abs(scroll[i])
            if scroll[i] > 0:
                scroll_up += 1
    row[29] = clicks
    if clicks > 0:
        row[30] = right / clicks
    row[31] = _mean(holds, n_hold)
    row[32] = _std(holds, n_hold)
    row[33] = doubles
    row[34] = scrolls
    if scrolls > 0:
        row[35] = scroll_total / scrolls
        row[36] = scroll_up / scrolls
    row[37] = n_move / span_s


@njit(cache=True, parallel=True)
def mouse_window_features(ts, x, y, kind, button, scroll, lo, hi, span_s):
    """One row of N_MOUSE window features per window [lo[w], hi[w]) of time-ordered mouse events."""
    out = np.empty((len(lo), N_MOUSE))
    for w in prange(len(lo)):
        _mouse_window(ts, x, y, kind, button, scroll, lo[w], hi[w], span_s, out[w])
    return out


# Mouse actions ----------------------------------------------------------------------------------------------------
MOUSE_MOVE_ACTION, POINT_CLICK, DRAG_DROP = 0, 1, 2
ACTION_GAP_US = 2_000_000
"""A pause longer than this between pointer samples ends a mouse-move action."""
MIN_ACTION_POINTS = 4
DRAG_MIN_PX = 5.0
N_ACTION = 41


@njit(cache=True)
def segment_actions(ts, x, y, kind, button):
    """Split a time-ordered mouse stream into actions: (first, last event index inclusive, action type).

    A release ends a point-click (the pointer stayed within DRAG_MIN_PX of the press) or a drag-and-drop; a pause
    longer than ACTION_GAP_US or a scroll ends a mouse-move. Actions with fewer than MIN_ACTION_POINTS pointer samples
    are dropped.
    """
    n = len(ts)
    first = np.empty(n, np.int64)
    last = np.empty(n, np.int64)
    kinds = np.empty(n, np.int8)
    count = 0
    start = -1
    points = 0
    press_at = -1
    prev_ts = -1
    for i in range(n):
        k = kind[i]
        if k == SCROLL:
            if start >= 0 and press_at < 0 and points >= MIN_ACTION_POINTS:
                first[count], last[count], kinds[count] = start, i - 1, MOUSE_MOVE_ACTION
                count += 1
            if press_at < 0:
                start, points = -1, 0
            continue
        if start >= 0 and press_at < 0 and ts[i] - prev_ts > ACTION_GAP_US:
            if points >= MIN_ACTION_POINTS:
                first[count], last[count], kinds[count] = start, i - 1, MOUSE_MOVE_ACTION
                count += 1
            start, points = -1, 0
        if start < 0:
            start = i
        points += 1
        prev_ts = ts[i]
        if k == PRESS and press_at < 0 and button[i] in (LEFT_BUTTON, RIGHT_BUTTON):
            press_at = i
        elif k == RELEASE and press_at >= 0:
            moved = math.hypot(x[i] - x[press_at], y[i] - y[press_at]) > DRAG_MIN_PX
            if points >= MIN_ACTION_POINTS:
                first[count], last[count] = start, i
                kinds[count] = DRAG_DROP if moved else POINT_CLICK
                count += 1
            start, points, press_at = -1, 0, -1
    if start >= 0 and press_at < 0 and points >= MIN_ACTION_POINTS:
        first[count], last[count], kinds[count] = start, n - 1, MOUSE_MOVE_ACTION
        count += 1
    return first[:count], last[:count], kinds[:count]


@njit(cache=True)
def _stats4(values: np.ndarray, row: np.ndarray, at: int) -> None:
    """mean, std, min, max of `values` into row[at:at+4] (NaN when empty)."""
    n = len(values)
    if n == 0:
        return
    row[at] = values.mean()
    row[at + 1] = _std(values, n)
    row[at + 2] = values.min()
    row[at + 3] = values.max()


@njit(cache=True)
def _action(ts, x, y, kind, first, last, action_kind, row):
    """Features of one action (see mouse.ACTION_FEATURES for the layout)."""
    row[:] = np.nan
    n = 0
    for i in range(first, last + 1):
        if kind[i] != SCROLL:
            n += 1
    idx = np.empty(n, np.int64)
    k = 0
    for i in range(first, last + 1):
        if kind[i] != SCROLL:
            idx[k] = i
            k += 1
    dt, dx, dy, dist, speed, acc, turn, omega, curv, jerk, mid, _, _, _ = _kinematics(ts, x, y, idx)
    a, b = idx[0], idx[n - 1]
    row[0] = 1.0 if action_kind == MOUSE_MOVE_ACTION else 0.0
    row[1] = 1.0 if action_kind == POINT_CLICK else 0.0
    row[2] = 1.0 if action_kind == DRAG_DROP else 0.0
    duration = (ts[b] - ts[a]) / 1e6
    row[3] = duration
    length = dist.sum()
    row[4] = length
    ex, ey = x[b] - x[a], y[b] - y[a]
    end_to_end = math.hypot(ex, ey)
    row[5] = end_to_end
    row[6] = _direction_bin(ex, ey)
    row[7] = end_to_end / length if length > 0 else 1.0
    row[8] = n
    row[9] = np.abs(turn).sum()
    deviation = 0.0
    if end_to_end > 0:
        for i in idx:
            d = abs(ex * (y[i] - y[a]) - ey * (x[i] - x[a])) / end_to_end
            deviation = max(deviation, d)
    row[10] = deviation
    critical = 0
    for q in range(len(turn)):
        if abs(turn[q]) > math.pi / 4:
            critical += 1
    row[11] = critical
    if len(dt) > 0:
        _stats4(dx / dt, row, 12)
        _stats4(dy / dt, row, 16)
    _stats4(speed, row, 20)
    _stats4(acc, row, 24)
    _stats4(jerk, row, 28)
    _stats4(omega, row, 32)
    _stats4(curv, row, 36)
    if len(speed) > 0 and duration > 0:
        row[40] = (mid[np.argmax(speed)] - ts[a] / 1e6) / duration


@njit(cache=True, parallel=True)
def action_features(ts, x, y, kind, first, last, action_kind):
    """One row of N_ACTION features per action (first[i]..last[i] inclusive, type action_kind[i])."""
    out = np.empty((len(first), N_ACTION))
    for i in prange(len(first)):
        _action(ts, x, y, kind, first[i], last[i], action_kind[i], out[i])
    return out
