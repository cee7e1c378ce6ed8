"""numba kernels: H3 cell indexing (bit-exact with the H3 C library used by h3-py 4.x).

A point is projected gnomonically onto its nearest icosahedron face, quantised into that face's hexagonal ijk
coordinates at the target resolution, walked up the aperture-7 hierarchy to resolution 0 (recording one digit per
level), and the resolution-0 coordinates are looked up in the base-cell table, which also says how many 60° turns
bring the digits into the base cell's own orientation (pentagons skip the deleted k-axis sub-sequence).
H3 indexes are built in int64 (bit 63 of a cell index is always 0).

Speed: points go through in blocks, each stage a branch-free loop over the block that the compiler vectorises, with a
fast arithmetic (polynomial sine and cosine, no acos/atan2/tan) whose result is used only where it is certainly the
cell H3's own arithmetic gives; the few other points take H3's arithmetic.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

# Constants that define the H3 grid: the orientation of its icosahedron (H3 specification, Uber H3, Apache-2.0).
# They live here, not in another module, because numba's cache is keyed on this file: a changed constant must
# recompile. The derived base-cell tables (core/geo/_h3_tables.py) are passed in as arguments for the same reason.

# Face centres as unit vectors.
FACE_CENTER_POINT = np.array(
    [
        [0.2199307791404606, 0.6583691780274996, 0.7198475378926182],
        [-0.2139234834501421, 0.1478171829550703, 0.9656017935214205],
        [0.1092625278784797, -0.4811951572873210, 0.8697775121287253],
        [0.7428567301586791, -0.3593941678278028, 0.5648005936517033],
        [0.8112534709140969, 0.3448953237639384, 0.4721387736413930],
        [-0.1055498149613921, 0.9794457296411413, 0.1718874610009365],
        [-0.8075407579970092, 0.1533552485898818, 0.5695261994882688],
        [-0.2846148069787907, -0.8644080972654206, 0.4144792552473539],
        [0.7405621473854482, -0.6673299564565524, -0.0789837646326737],
        [0.8512303986474293, 0.4722343788582681, -0.2289137388687808],
        [-0.7405621473854481, 0.6673299564565524, 0.0789837646326737],
        [-0.8512303986474292, -0.4722343788582682, 0.2289137388687808],
        [0.1055498149613919, -0.9794457296411413, -0.1718874610009365],
        [0.8075407579970092, -0.1533552485898819, -0.5695261994882688],
        [0.2846148069787908, 0.8644080972654204, -0.4144792552473539],
        [-0.7428567301586791, 0.3593941678278027, -0.5648005936517033],
        [-0.8112534709140971, -0.3448953237639382, -0.4721387736413930],
        [-0.2199307791404607, -0.6583691780274996, -0.7198475378926182],
        [0.2139234834501420, -0.1478171829550704, -0.9656017935214205],
        [-0.1092625278784796, 0.4811951572873210, -0.8697775121287253],
    ]
)

# Azimuth (radians) from each face centre to its vertex 0, the direction of the Class II i-axis.
FACE_AXIS_AZIMUTH = np.array(
    [
        5.619958268523939882,
        5.760339081714187279,
        0.780213654393430055,
        0.430469363979999913,
        6.130269123335111400,
        2.692877706530642877,
        2.982963003477243874,
        3.532912002790141181,
        3.494305004259568154,
        3.003214169499538391,
        5.930472956509811562,
        0.138378484090254847,
        0.448714947059150361,
        0.158629650112549365,
        5.891865957979238535,
        2.711123289609793325,
        3.294508837434268316,
        3.804819692245439833,
        3.664438879055192436,
        2.361378999196363184,
    ]
)

TWO_PI = 6.28318530717958647692528676655900576839433
EPSILON = 1e-16
AP7_ROT_RADS = 0.333473172251832115336090755351601070065900389  # asin(sqrt(3/28))
INV_RES0_U_GNOMONIC = 2.61803398874989588842  # 1 / 0.38196601125010500003, res 0 unit to gnomonic unit
SQRT7 = 2.6457513110645905905016157536392604257102
RSIN60 = 1.1547005383792515290182975610039149112953
DEG_TO_RAD = math.pi / 180.0

SEVENTH = 1.0 / 7.0

ROTATE_CCW = np.array([0, 5, 3, 1, 6, 4, 2], np.int64)  # digit turned 60° counter-clockwise
ROTATE_CW = np.array([0, 3, 6, 2, 5, 1, 4], np.int64)
K_AXES_DIGIT = 1
MAX_FACE_COORD = 2
CELL_MODE = 1
# The 15 digits of an index are 3-bit groups in bits 0-44 (resolution 15 lowest): bit 0 of every group, and all bits.
DIGIT_LOW_BITS = sum(1 << (3 * group) for group in range(15))
DIGIT_BITS = DIGIT_LOW_BITS * 7

BLOCK = 256  # points per block: a block's scratch arrays stay in the L1 cache
# What a point of a block still needs after the vectorised stages.
DONE, PENTAGON, EXACT, REFUSED = 0, 1, 2, 3


@njit(inline="always")
def _positive_angle(rads):
    out = rads + TWO_PI if rads < 0.0 else rads
    if rads >= TWO_PI:
        out -= TWO_PI
    return out


@njit(inline="always")
def _skewed(x, y):
    """|x|, |y| and the point in the skewed axes where hexagon rows are unit steps (H3's order of operations)."""
    a1 = abs(x)
    a2 = abs(y)
    x2 = a2 * RSIN60
    return a1, a2, a1 + x2 / 2.0, x2


@njit(inline="always")
def _hex2d_axial(x, y):
    """The hexagon containing the 2-D point (x, y) of a face plane, as axial coordinates (i - k, j - k) held in
    floats: H3's _hex2dToCoordIJK, its nested comparisons turned into selects so that a loop of it vectorises."""
    _, _, x1, x2 = _skewed(x, y)
    m1 = math.floor(x1)
    m2 = math.floor(x2)
    r1 = x1 - m1
    r2 = x2 - m2
    i_low = m1 + 1.0 if ((1.0 - r1) <= r2) & (r2 < 2.0 * r1) else m1  # 1/3 <= r1 < 1/2
    i_high = m1 if ((2.0 * r1 - 1.0) < r2) & (r2 < (1.0 - r1)) else m1 + 1.0  # 1/2 <= r1 < 2/3
    i = m1 if r1 < 1.0 / 3.0 else (i_low if r1 < 0.5 else (i_high if r1 < 2.0 / 3.0 else m1 + 1.0))
    j_low = m2 if r2 < (1.0 + r1) / 2.0 else m2 + 1.0
    j_middle = m2 if r2 < 1.0 - r1 else m2 + 1.0
    j_high = m2 if r2 < r1 / 2.0 else m2 + 1.0
    j = j_low if r1 < 1.0 / 3.0 else (j_middle if r1 < 2.0 / 3.0 else j_high)
    i = j - i if x < 0.0 else i  # fold across the j axis
    i = i - j if y < 0.0 else i  # fold across the i axis (j >= 0 here)
    j = -j if y < 0.0 else j
    return i, j


@njit(inline="always")
def _axial_to_ijk(a, b):
    """Normalised ijk (smallest 0) of axial coordinates held in floats."""
    low = min(a, b, 0.0)
    return np.int64(a - low), np.int64(b - low), np.int64(-low)


@njit(inline="always")
def _normalized(x, y, z):
    norm = math.sqrt(x * x + y * y + z * z)
    scale = 1.0 / norm if norm > 0.0 else 0.0
    return x * scale, y * scale, z * scale


def _tangent_basis(centre: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """North (the pole projected onto the tangent plane at `centre`, normalised) and east (north x centre)."""
    cx, cy, cz = (float(v) for v in centre)
    north = _normalized.py_func(0.0 - cz * cx, 0.0 - cz * cy, 1.0 - cz * cz)
    nx, ny, nz = north
    return np.array(north), np.array([ny * cz - nz * cy, nz * cx - nx * cz, nx * cy - ny * cx])


FACE_NORTH, FACE_EAST = (np.array(axis) for axis in zip(*map(_tangent_basis, FACE_CENTER_POINT), strict=True))


# For the fast arithmetic: cosine and sine of each face's i-axis azimuth ([:, 1]: turned for Class III), and the
# gnomonic scale of each resolution.
AXIS_COS = np.array([[math.cos(a), math.cos(a - AP7_ROT_RADS)] for a in FACE_AXIS_AZIMUTH])
AXIS_SIN = np.array([[math.sin(a), math.sin(a - AP7_ROT_RADS)] for a in FACE_AXIS_AZIMUTH])
GNOMONIC_SCALE = np.array([INV_RES0_U_GNOMONIC * SQRT7**res for res in range(16)])
FAST_TOLERANCE = 1e-12


@njit(inline="always")
def _azimuth_from_face_centre(face, x, y, z):
    """Azimuth of the unit vector (x, y, z) seen from the centre of `face`, in the face centre's tangent plane."""
    cx = FACE_CENTER_POINT[face, 0]
    cy = FACE_CENTER_POINT[face, 1]
    cz = FACE_CENTER_POINT[face, 2]
    along = x * cx + y * cy + z * cz
    px, py, pz = _normalized(x - along * cx, y - along * cy, z - along * cz)
    east = px * FACE_EAST[face, 0] + py * FACE_EAST[face, 1] + pz * FACE_EAST[face, 2]
    north = px * FACE_NORTH[face, 0] + py * FACE_NORTH[face, 1] + pz * FACE_NORTH[face, 2]
    return math.atan2(east, north)


# Taylor coefficients of sine (x^1 ... x^17) and cosine (x^0 ... x^18): below 1e-19 of error on ±45°.
S1, S3, S5, S7, S9, S11, S13, S15, S17 = ((-1.0) ** n / math.factorial(2 * n + 1) for n in range(9))
C0, C2, C4, C6, C8, C10, C12, C14, C16, C18 = ((-1.0) ** n / math.factorial(2 * n) for n in range(10))


@njit(inline="always")
def _sincos_degrees(degrees):
    """(sin, cos) of an angle in degrees to about 1e-16, without branches: quadrant by exact subtraction,
    polynomials on ±45°."""
    quadrant = math.floor(degrees / 90.0 + 0.5)
    x = (degrees - 90.0 * quadrant) * DEG_TO_RAD
    x2 = x * x
    s = S17 * x2 + S15
    s = ((((((s * x2 + S13) * x2 + S11) * x2 + S9) * x2 + S7) * x2 + S5) * x2 + S3) * x2 + S1
    s *= x
    c = C18 * x2 + C16
    c = (((((((c * x2 + C14) * x2 + C12) * x2 + C10) * x2 + C8) * x2 + C6) * x2 + C4) * x2 + C2) * x2 + C0
    q = np.int64(quadrant) & 3  # sin, cos = (s, c), (c, -s), (-s, -c), (-c, s)
    sine = c if q & 1 else s
    cosine = s if q & 1 else c
    sine = -sine if q & 2 else sine
    cosine = -cosine if (q + 1) & 2 else cosine
    return sine, cosine


@njit(inline="always")
def _face_square_distance(f, x, y, z):
    """Squared distance from the unit vector (x, y, z) to the centre of face f, in H3's order of operations."""
    dx = FACE_CENTER_POINT[f, 0] - x
    dy = FACE_CENTER_POINT[f, 1] - y
    dz = FACE_CENTER_POINT[f, 2] - z
    return dx * dx + dy * dy + dz * dz


@njit(inline="always")
def _nearest_face(x, y, z):
    face = 0
    sqd = 5.0
    for f in range(20):
        d = _face_square_distance(f, x, y, z)
        if d < sqd:
            face = f
            sqd = d
    return face, sqd


@njit(inline="always")
def _hex2d_exact(x, y, z, face, sqd, res):
    """H3's own arithmetic: acos, the tangent-plane azimuth, tan, and sqrt(7) once per resolution."""
    r = math.acos(1.0 - sqd * 0.5)
    if r < EPSILON:
        return 0.0, 0.0
    azimuth = _azimuth_from_face_centre(face, x, y, z)
    theta = _positive_angle(FACE_AXIS_AZIMUTH[face] - _positive_angle(azimuth))
    if res & 1:
        theta = _positive_angle(theta - AP7_ROT_RADS)
    r = math.tan(r)
    r *= INV_RES0_U_GNOMONIC
    for _ in range(res):
        r *= SQRT7
    return r * math.cos(theta), r * math.sin(theta)


@njit(inline="always")
def _decision_margin(x, y):
    """How far (x, y) is from changing any decision `_hex2d_axial` takes (signs, integer parts, comparisons)."""
    a1, a2, x1, x2 = _skewed(x, y)
    r1 = x1 - math.floor(x1)
    r2 = x2 - math.floor(x2)
    margin = min(a1, a2, r1, 1.0 - r1, r2, 1.0 - r2)
    margin = min(margin, abs(r1 - 0.5), abs(r1 - 1.0 / 3.0), abs(r1 - 2.0 / 3.0))
    margin = min(margin, abs(r2 - (1.0 + r1) / 2.0), abs(r2 - (1.0 - r1)), abs(r2 - 2.0 * r1))
    return min(margin, abs(r2 - (2.0 * r1 - 1.0)), abs(r2 - r1 / 2.0))


@njit(inline="always")
def _hex2d_certified(x, y, z, face, gap, res):
    """The face-plane point of the unit vector (x, y, z) without acos, atan2, tan, cos and sin, and whether it
    certainly lies in the hexagon H3's own arithmetic finds. `gap`: how much farther (in squared distance) the
    second nearest face is.

    tan(acos(c)) = sin r / c with sin r = sqrt((1 - c) (1 + c)); the angle difference by the cosine and sine of the
    face's axis. The result agrees with `_hex2d_exact` to ~1e-15 relative; "certainly" asks for margins about a
    thousand times that (FAST_TOLERANCE) from every decision, including the choice of face. Not certain at the face
    centre, where the direction is undefined, nor for non-finite results.
    """
    sqd = _face_square_distance(face, x, y, z)
    c = 1.0 - sqd * 0.5  # the cosine H3 takes the arccosine of
    sin_r = math.sqrt((1.0 - c) * (1.0 + c))
    cx = FACE_CENTER_POINT[face, 0]
    cy = FACE_CENTER_POINT[face, 1]
    cz = FACE_CENTER_POINT[face, 2]
    along = x * cx + y * cy + z * cz
    px = x - along * cx
    py = y - along * cy
    pz = z - along * cz
    east = px * FACE_EAST[face, 0] + py * FACE_EAST[face, 1] + pz * FACE_EAST[face, 2]
    north = px * FACE_NORTH[face, 0] + py * FACE_NORTH[face, 1] + pz * FACE_NORTH[face, 2]
    length = math.sqrt(east * east + north * north)
    cos_az = north / length
    sin_az = east / length
    cos_a = AXIS_COS[face, res & 1]
    sin_a = AXIS_SIN[face, res & 1]
    scale = GNOMONIC_SCALE[res]
    r = sin_r / c * scale
    hx = r * (cos_a * cos_az + sin_a * sin_az)
    hy = r * (sin_a * cos_az - cos_a * sin_az)
    # The two arithmetics' x, y, z differ by ~4e-16, so c can differ by an ulp (1.1e-16) plus ~4e-16 sqrt(sqd);
    # acos turns that into dr = dc / sin r, and tan and the scale into dh = scale sec^2 r dr: large near a face
    # centre, where sin r is small. Allowed for sixteen times over.
    conditioning = 16.0 * scale * (2.2e-16 + 8e-16 * math.sqrt(sqd)) / (sin_r * c * c)
    tolerance = FAST_TOLERANCE * (abs(hx) + abs(hy) + 1.0) + conditioning
    certain = (gap > FAST_TOLERANCE) & (c < 1.0) & (_decision_margin(hx, hy) > tolerance)  # false for nan
    return hx, hy, certain


@njit(inline="always")
def _face_axial_exact(lat, lng, res):
    """Nearest face and the axial coordinates, on it, of the cell containing (lat, lng) radians: H3's arithmetic."""
    cos_lat = math.cos(lat)
    x = math.cos(lng) * cos_lat
    y = math.sin(lng) * cos_lat
    z = math.sin(lat)
    face, sqd = _nearest_face(x, y, z)
    hx, hy = _hex2d_exact(x, y, z, face, sqd, res)
    a, b = _hex2d_axial(hx, hy)
    return face, a, b


@njit(inline="always")
def _parent_step(a, b, odd):
    """One step up the aperture-7 hierarchy from axial (a, b), integers held in floats: the parent's axial
    coordinates and the child's digit (7 if the step is not a unit step).

    H3's _upAp7r (odd resolutions, Class III) and _upAp7. Its lround never meets a tie (7 is odd, so m / 7 is at
    least 1/14 from a half) and the coordinates stay far below 2^53, so floor(m / 7 + 0.5) in floats is exact.
    """
    if odd:
        p = math.floor((3.0 * a - b) * SEVENTH + 0.5)
        q = math.floor((a + 2.0 * b) * SEVENTH + 0.5)
        da = a - (2.0 * p + q)
        db = b - (3.0 * q - p)
    else:
        p = math.floor((2.0 * a + b) * SEVENTH + 0.5)
        q = math.floor((3.0 * b - a) * SEVENTH + 0.5)
        da = a - (3.0 * p - q)
        db = b - (p + 2.0 * q)
    # a unit step's digit has one bit per axis it is made of (i = 4, j = 2, k = 1), with da = i - k, db = j - k
    k = 1.0 if (da < 0.0) | (db < 0.0) else 0.0
    digit = np.int64(4.0 * (da + k) + 2.0 * (db + k) + k)
    step = (abs(da) <= 1.0) & (abs(db) <= 1.0) & (da * db >= 0.0)
    return p, q, digit if step else 7


@njit(inline="always")
def _digit_shift(r):
    return (15 - r) * 3


@njit(inline="always")
def _index_template(res):
    """Mode, resolution and the unused digits (7) of a cell index at `res`; digits 1..res and base cell 0."""
    h = (CELL_MODE << 59) | (res << 52)
    for r in range(res + 1, 16):
        h |= 7 << _digit_shift(r)
    return h


@njit(cache=True)
def digits_to_res0(a, b, res):
    """Walk axial (a, b) at `res` up to resolution 0: (index with mode, resolution and digits set; resolution-0
    i, j, k)."""
    h = _index_template(res)
    for r in range(res, 0, -1):
        a, b, digit = _parent_step(a, b, r & 1)
        h |= digit << _digit_shift(r)
    i, j, k = _axial_to_ijk(a, b)
    return h, i, j, k


@njit(inline="always")
def _digit(h, r):
    return (h >> _digit_shift(r)) & 7


@njit(inline="always")
def _set_digit(h, r, digit):
    shift = _digit_shift(r)
    return (h & ~(7 << shift)) | (digit << shift)


@njit(inline="always")
def _leading_digit(h, res):
    for r in range(1, res + 1):
        d = _digit(h, r)
        if d != 0:
            return d
    return 0


@njit(inline="always")
def _rotate(h, res, table):
    for r in range(1, res + 1):
        h = _set_digit(h, r, table[_digit(h, r)])
    return h


@njit(inline="always")
def _rotate_pentagon_ccw(h, res):
    found = False
    for r in range(1, res + 1):
        h = _set_digit(h, r, ROTATE_CCW[_digit(h, r)])
        if not found and _digit(h, r) != 0:
            found = True
            if _leading_digit(h, res) == K_AXES_DIGIT:
                h = _rotate(h, res, ROTATE_CCW)
    return h


@njit(inline="always")
def rotate_digits_ccw(h, turns):
    """Every digit of an index turned `turns` (0-5) times 60° counter-clockwise, all at once.

    A digit's bits are the axes its direction is made of (i = 4, j = 2, k = 1). One turn rotates the three bits
    left by one and complements them (1 -> 5 -> 4 -> 6 -> 2 -> 3 -> 1), so n turns rotate them left by n mod 3 and
    complement them when n is odd. 0 (the centre) and 7 (unused) do not turn.
    """
    d = h & DIGIT_BITS
    left1 = ((d << 1) & (DIGIT_LOW_BITS * 6)) | ((d >> 2) & DIGIT_LOW_BITS)
    left2 = ((d << 2) & (DIGIT_LOW_BITS * 4)) | ((d >> 1) & (DIGIT_LOW_BITS * 3))
    by3 = turns - 3 if turns >= 3 else turns
    turned = left1 if by3 == 1 else (left2 if by3 == 2 else d)
    turned = turned ^ DIGIT_BITS if turns & 1 else turned
    unequal = (d ^ (d >> 1)) & (DIGIT_LOW_BITS * 3)  # per digit: bit 0 != bit 1, bit 1 != bit 2
    moving = ((unequal | (unequal >> 1)) & DIGIT_LOW_BITS) * 7  # digits other than 0 and 7
    return (h & ~DIGIT_BITS) | (turned & moving) | (d & ~moving)


@njit(cache=True)
def orient(h, res, base_cell, rotations, pentagon, cw_offset):
    """Set the base cell and turn the digits into the base cell's orientation."""
    h |= base_cell << 45
    if not pentagon:
        return rotate_digits_ccw(h, rotations)
    if _leading_digit(h, res) == K_AXES_DIGIT:
        h = _rotate(h, res, ROTATE_CW if cw_offset else ROTATE_CCW)
    for _ in range(rotations):
        h = _rotate_pentagon_ccw(h, res)
    return h


@njit(inline="always")
def _base_key(face, i, j, k):
    """Index into the flattened [face, i, j, k] base-cell tables."""
    return face * 27 + i * 9 + j * 3 + k


@njit(cache=True)
def encode_exact(lat, lng, res, base_cell_of, rotation_of, is_pentagon, cw_offset):
    """H3 cell index of (lat, lng) degrees at `res` by H3's own arithmetic, or 0 if it cannot be encoded.

    The tables (from `_h3_tables`): `base_cell_of[key]` (-1 where no point lands) and `rotation_of[key]` (60° ccw
    turns into the base cell's orientation) flattened over [face, i, j, k], `is_pentagon[base cell]`,
    `cw_offset[base cell, face]`.
    """
    face, a, b = _face_axial_exact(lat * DEG_TO_RAD, lng * DEG_TO_RAD, res)
    h, i, j, k = digits_to_res0(a, b, res)
    if i > MAX_FACE_COORD or j > MAX_FACE_COORD or k > MAX_FACE_COORD:
        return 0
    key = _base_key(face, i, j, k)
    cell = base_cell_of[key]
    if cell < 0:
        return 0
    return orient(h, res, cell, rotation_of[key], is_pentagon[cell], cw_offset[cell, face])


@njit(error_model="numpy", cache=True)
def encode_block(lat_deg, lng_deg, res, out, base_cell_of, rotation_of, is_pentagon, cw_offset):
    """Cells of a block of points (degrees) into `out`, 0 for points that cannot be encoded; returns how many.

    Stage by stage over the whole block, each a branch-free loop the compiler vectorises: sine and cosine; the
    nearest face; the face-plane point and its hexagon, certified (`_hex2d_certified`); the digits; base cell and
    rotation. Points not certified go through `encode_exact`; points on pentagon base cells through `orient`.
    """
    m = lat_deg.shape[0]
    x = np.empty(m)
    y = np.empty(m)
    z = np.empty(m)
    best = np.full(m, -2.0)  # largest dot product with a face centre: the nearest face
    second = np.full(m, -2.0)
    face = np.zeros(m, np.int64)
    a = np.empty(m)
    b = np.empty(m)
    key = np.empty(m, np.int64)
    h = np.empty(m, np.int64)
    status = np.empty(m, np.int64)
    for n in range(m):
        lat = lat_deg[n]
        lng = lng_deg[n]
        valid = (lat >= -90.0) & (lat <= 90.0) & (lng >= -180.0) & (lng <= 180.0)  # false for nan
        sin_lat, cos_lat = _sincos_degrees(lat if valid else 0.0)
        sin_lng, cos_lng = _sincos_degrees(lng if valid else 0.0)
        x[n] = cos_lng * cos_lat
        y[n] = sin_lng * cos_lat
        z[n] = sin_lat
        status[n] = DONE if valid else REFUSED
    for f in range(20):
        cx = FACE_CENTER_POINT[f, 0]
        cy = FACE_CENTER_POINT[f, 1]
        cz = FACE_CENTER_POINT[f, 2]
        for n in range(m):
            dot = x[n] * cx + y[n] * cy + z[n] * cz
            nearest = best[n]
            runner_up = dot if dot < nearest else nearest
            second[n] = runner_up if runner_up > second[n] else second[n]
            face[n] = f if dot > nearest else face[n]
            best[n] = dot if dot > nearest else nearest
    for n in range(m):
        gap = 2.0 * (best[n] - second[n])  # squared distance = 2 - 2 dot
        hx, hy, certain = _hex2d_certified(x[n], y[n], z[n], face[n], gap, res)
        i, j = _hex2d_axial(hx if certain else 0.0, hy if certain else 0.0)
        a[n] = i
        b[n] = j
        status[n] = status[n] if certain | (status[n] == REFUSED) else EXACT
    template = _index_template(res)
    for n in range(m):
        h[n] = template
    for r in range(res, 0, -1):
        shift = _digit_shift(r)
        odd = r & 1
        for n in range(m):
            p, q, digit = _parent_step(a[n], b[n], odd)
            h[n] |= digit << shift
            a[n] = p
            b[n] = q
    for n in range(m):
        i, j, k = _axial_to_ijk(a[n], b[n])
        on_face = (i <= MAX_FACE_COORD) & (j <= MAX_FACE_COORD) & (k <= MAX_FACE_COORD)
        key[n] = _base_key(face[n], i, j, k) if on_face else 0
        cell = base_cell_of[key[n]]
        cell = cell if on_face else -1
        pentagon = is_pentagon[cell if cell >= 0 else 0]
        s = status[n]
        s = s if s != DONE else (EXACT if cell < 0 else (PENTAGON if pentagon else DONE))
        status[n] = s
        oriented = rotate_digits_ccw(h[n] | (cell << 45), rotation_of[key[n]])
        out[n] = oriented if s == DONE else 0
    failed = 0
    for n in range(m):
        s = status[n]
        if s == DONE:
            continue
        if s == PENTAGON:
            cell = base_cell_of[key[n]]
            cell_index = orient(h[n], res, cell, rotation_of[key[n]], True, cw_offset[cell, face[n]])
        elif s == EXACT:
            cell_index = encode_exact(lat_deg[n], lng_deg[n], res, base_cell_of, rotation_of, is_pentagon, cw_offset)
        else:
            cell_index = 0
        out[n] = cell_index
        failed += cell_index == 0
    return failed


@njit(parallel=True, error_model="numpy", cache=True)
def latlng_to_cells(lat_deg, lng_deg, res, out, base_cell_of, rotation_of, is_pentagon, cw_offset):
    """Fill `out` with the cells of points in degrees; invalid points (non-finite, out of range) get 0.

    Returns how many points got 0. Blocks of BLOCK points are shared out among the threads (`encode_block`).
    """
    points = lat_deg.shape[0]
    failed = 0
    for block in prange((points + BLOCK - 1) // BLOCK):
        start = block * BLOCK
        stop = min(start + BLOCK, points)
        failed += encode_block(
            lat_deg[start:stop],
            lng_deg[start:stop],
            res,
            out[start:stop],
            base_cell_of,
            rotation_of,
            is_pentagon,
            cw_offset,
        )
    return failed


@njit(parallel=True, cache=True)
def stages(lat_deg, lng_deg, res, faces, ijk0, digits):
    """For table derivation: each point's face, resolution-0 ijk and oriented-less digits (H3's arithmetic)."""
    for n in prange(lat_deg.shape[0]):
        face, a, b = _face_axial_exact(lat_deg[n] * DEG_TO_RAD, lng_deg[n] * DEG_TO_RAD, res)
        h, i, j, k = digits_to_res0(a, b, res)
        faces[n] = face
        ijk0[n, 0] = i
        ijk0[n, 1] = j
        ijk0[n, 2] = k
        digits[n] = h


@njit(cache=True)
def orient_each(digits, res, base_cell, rotations, pentagon, cw_offset, out):
    """`orient` over many points sharing a base cell (for table derivation)."""
    for n in range(digits.shape[0]):
        out[n] = orient(digits[n], res, base_cell, rotations, pentagon, cw_offset)


@njit(parallel=True, cache=True)
def gi_star_z(indptr, indices, values):
    """Getis-Ord Gi* z-scores with binary weights over neighbourhoods that include the cell itself.

    Cell i's neighbours are `indices[indptr[i]:indptr[i + 1]]`. z_i = (sum_j x_j - mean * W_i) /
    (s * sqrt((n * W_i - W_i^2) / (n - 1))) with W_i the neighbourhood size and s the population standard
    deviation of all values; 0 where that is undefined (fewer than 3 cells, no variance, everything a neighbour).
    """
    n = values.shape[0]
    z = np.zeros(n)
    if n < 3:
        return z
    total = 0.0
    squares = 0.0
    for i in range(n):
        total += values[i]
        squares += values[i] * values[i]
    mean = total / n
    variance = squares / n - mean * mean
    if variance <= 0.0:
        return z
    s = math.sqrt(variance)
    for i in prange(n):
        weight = indptr[i + 1] - indptr[i]
        spread = (n * weight - weight * weight) / (n - 1)
        if spread <= 0.0:
            continue
        local = 0.0
        for p in range(indptr[i], indptr[i + 1]):
            local += values[indices[p]]
        z[i] = (local - mean * weight) / (s * math.sqrt(spread))
    return z


@njit(parallel=True, cache=True)
def mann_kendall(series):
    """Mann-Kendall trend test of each row of `series` (cells x time): (S, z) with the no-ties variance.

    z = (S - sign(S)) / sqrt(n (n - 1) (2n + 5) / 18), 0 when S = 0 or n < 3.
    """
    rows, n = series.shape
    s_out = np.zeros(rows)
    z_out = np.zeros(rows)
    if n < 3:
        return s_out, z_out
    sd = math.sqrt(n * (n - 1) * (2 * n + 5) / 18.0)
    for r in prange(rows):
        s = 0.0
        for i in range(n - 1):
            for j in range(i + 1, n):
                d = series[r, j] - series[r, i]
                if d > 0:
                    s += 1.0
                elif d < 0:
                    s -= 1.0
        s_out[r] = s
        if s > 0:
            z_out[r] = (s - 1.0) / sd
        elif s < 0:
            z_out[r] = (s + 1.0) / sd
    return s_out, z_out


@njit(inline="always")
def _find_near(sorted_cells, cell, start):
    """Index of `cell` in `sorted_cells`, or -1: a galloping search outward from `start` (a cell's k-ring
    neighbours mostly share its parent cells, so they sit close to it in index order)."""
    n = sorted_cells.shape[0]
    start = np.int64(start)  # a prange index may be unsigned: mixed with signed it would turn float
    lo = start
    hi = start + 1
    step = 1
    if sorted_cells[start] < cell:
        while hi < n and sorted_cells[hi] < cell:
            lo = hi
            hi = min(n, hi + step)
            step *= 2
        lo += 1
    else:
        hi = start
        while lo > 0 and sorted_cells[lo - 1] >= cell:
            hi = lo
            lo = max(0, lo - step)
            step *= 2
    while lo < hi:  # first index in [lo, hi) whose cell is not below `cell`
        mid = (lo + hi) >> 1
        if sorted_cells[mid] < cell:
            lo = mid + 1
        else:
            hi = mid
    return lo if lo < n and sorted_cells[lo] == cell else -1


@njit(parallel=True, cache=True)
def restrict_disks(sorted_cells, offsets, disk_cells):
    """CSR (indptr, indices) of each cell's disk `disk_cells[offsets[i]:offsets[i + 1]]` kept to `sorted_cells`."""
    n = sorted_cells.shape[0]
    found = np.empty(disk_cells.shape[0], np.int64)
    counts = np.zeros(n + 1, np.int64)
    for i in prange(n):
        kept = 0
        for p in range(offsets[i], offsets[i + 1]):
            found[p] = _find_near(sorted_cells, disk_cells[p], i)
            if found[p] >= 0:
                kept += 1
        counts[i + 1] = kept
    indptr = np.cumsum(counts)
    indices = np.empty(indptr[n], np.int64)
    for i in prange(n):
        out = indptr[i]
        for p in range(offsets[i], offsets[i + 1]):
            if found[p] >= 0:
                indices[out] = found[p]
                out += 1
    return indptr, indices
