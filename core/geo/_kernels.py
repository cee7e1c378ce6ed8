"""numba kernels: H3 cell indexing (bit-exact with the H3 C library used by h3-py 4.x).

A point is projected gnomonically onto its nearest icosahedron face, quantised into that face's hexagonal ijk
coordinates at the target resolution, walked up the aperture-7 hierarchy to resolution 0 (recording one digit per
level), and the resolution-0 coordinates are looked up in the base-cell table, which also says how many 60° turns
bring the digits into the base cell's own orientation (pentagons skip the deleted k-axis sub-sequence).
H3 indexes are built in int64 (bit 63 of a cell index is always 0).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

# Constants that define the H3 grid: the orientation of its icosahedron (H3 specification, Uber H3, Apache-2.0).
# They live here, not in another module, because numba's cache is keyed on this file: a changed constant must
# recompile. The derived base-cell tables (core/geo/_h3_tables.py) are passed in as arguments for the same reason.

# Face centres in latitude/longitude radians and as unit vectors.
FACE_CENTER_GEO = np.array(
    [
        [0.803582649718989942, 1.248397419617396099],
        [1.307747883455638156, 2.536945009877921159],
        [1.054751253523952054, -1.347517358900396623],
        [0.600191595538186799, -0.450603909469755746],
        [0.491715428198773866, 0.401988202911306943],
        [0.172745327415618701, 1.678146885280433686],
        [0.605929321571350690, 2.953923329812411617],
        [0.427370518328979641, -1.888876200336285401],
        [-0.079066118549212831, -0.733429513380867741],
        [-0.230961644455383637, 0.506495587332349035],
        [0.079066118549212831, 2.408163140208925497],
        [0.230961644455383637, -2.635097066257444203],
        [-0.172745327415618701, -1.463445768309359553],
        [-0.605929321571350690, -0.187669323777381622],
        [-0.427370518328979641, 1.252716453253507838],
        [-0.600191595538186799, 2.690988744120037492],
        [-0.491715428198773866, -2.739604450678486295],
        [-0.803582649718989942, -1.893195233972397139],
        [-1.307747883455638156, -0.604647643711872080],
        [-1.054751253523952054, 1.794075294689396615],
    ]
)

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

ROTATE_CCW = np.array([0, 5, 3, 1, 6, 4, 2], np.int64)  # digit turned 60° counter-clockwise
ROTATE_CW = np.array([0, 3, 6, 2, 5, 1, 4], np.int64)
ROTATE_CCW_TIMES = np.empty((6, 7), np.int64)  # [n, digit]: the digit turned n times 60° counter-clockwise
ROTATE_CCW_TIMES[0] = np.arange(7)
for _n in range(1, 6):
    ROTATE_CCW_TIMES[_n] = ROTATE_CCW[ROTATE_CCW_TIMES[_n - 1]]
# [da + 1, db + 1]: the digit of an axial unit step (da, db) = (i - k, j - k); 7 where no digit is that step
AXIAL_DIGIT = np.array([[1, 3, 7], [5, 0, 2], [7, 4, 6]], np.int64)
K_AXES_DIGIT = 1
MAX_FACE_COORD = 2
H3_INIT = 35184372088831  # all 15 digits set to 7 (unused)
CELL_MODE = 1


@njit(inline="always")
def _positive_angle(rads):
    out = rads + TWO_PI if rads < 0.0 else rads
    if rads >= TWO_PI:
        out -= TWO_PI
    return out


@njit(inline="always")
def _normalize(i, j, k):
    if i < 0:
        j -= i
        k -= i
        i = 0
    if j < 0:
        i -= j
        k -= j
        j = 0
    if k < 0:
        i -= k
        j -= k
        k = 0
    smallest = min(i, j, k)
    if smallest > 0:
        i -= smallest
        j -= smallest
        k -= smallest
    return i, j, k


@njit(inline="always")
def _round_seventh(m):
    """lround(m / 7) for an integer m (never a tie: 7 is odd)."""
    return (2 * m + 7) // 14


@njit(inline="always")
def _skewed(x, y):
    """|x|, |y| and the point in the skewed axes where hexagon rows are unit steps (H3's order of operations)."""
    a1 = abs(x)
    a2 = abs(y)
    x2 = a2 * RSIN60
    return a1, a2, a1 + x2 / 2.0, x2


@njit(inline="always")
def _hex2d_to_ijk(x, y):
    """The hexagon containing the 2-D point (x, y) of a face plane, in normalised ijk coordinates."""
    _, _, x1, x2 = _skewed(x, y)
    m1 = int(x1)
    m2 = int(x2)
    r1 = x1 - m1
    r2 = x2 - m2
    if r1 < 0.5:
        if r1 < 1.0 / 3.0:
            i = m1
            j = m2 if r2 < (1.0 + r1) / 2.0 else m2 + 1
        else:
            j = m2 if r2 < 1.0 - r1 else m2 + 1
            i = m1 + 1 if (1.0 - r1) <= r2 < 2.0 * r1 else m1
    elif r1 < 2.0 / 3.0:
        j = m2 if r2 < 1.0 - r1 else m2 + 1
        i = m1 if (2.0 * r1 - 1.0) < r2 < (1.0 - r1) else m1 + 1
    else:
        i = m1 + 1
        j = m2 if r2 < r1 / 2.0 else m2 + 1
    if x < 0.0:  # fold across the j axis (i' = j - i for both parities of j)
        i = j - i
    if y < 0.0:  # fold across the i axis
        i = i - (2 * j + 1) // 2
        j = -j
    return _normalize(i, j, 0)


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


SIN_TERMS = np.array([(-1.0) ** n / math.factorial(2 * n + 1) for n in range(9)])  # x^1 ... x^17
COS_TERMS = np.array([(-1.0) ** n / math.factorial(2 * n) for n in range(10)])  # x^0 ... x^18


@njit(inline="always")
def _sincos_degrees(degrees):
    """(sin, cos) of an angle in degrees to about 1e-16: quadrant by exact subtraction, Taylor series on ±45°."""
    quadrant = math.floor(degrees / 90.0 + 0.5)
    x = (degrees - 90.0 * quadrant) * DEG_TO_RAD
    x2 = x * x
    s = SIN_TERMS[8]
    for n in range(7, -1, -1):
        s = s * x2 + SIN_TERMS[n]
    s *= x
    c = COS_TERMS[9]
    for n in range(8, -1, -1):
        c = c * x2 + COS_TERMS[n]
    q = int(quadrant) & 3
    if q == 0:
        return s, c
    if q == 1:
        return c, -s
    if q == 2:
        return -s, -c
    return -c, s


FACE_BUCKET_DEGREES = 1.0  # candidate faces are listed per 1° x 1° bucket of latitude and longitude
MAX_CANDIDATES = 6


@njit(inline="always")
def _face_square_distance(f, x, y, z):
    """Squared distance from the unit vector (x, y, z) to the centre of face f, in H3's order of operations."""
    dx = FACE_CENTER_POINT[f, 0] - x
    dy = FACE_CENTER_POINT[f, 1] - y
    dz = FACE_CENTER_POINT[f, 2] - z
    return dx * dx + dy * dy + dz * dz


@njit(parallel=True, cache=True)
def candidate_faces(bucket_degrees, samples, slack):
    """Per bucket [lat + 90, lng + 180] of `bucket_degrees`: the faces that can be nearest or within `slack` (in
    squared distance) of nearest anywhere in it, ascending, -1 padded. Found on a `samples` x `samples` grid; `slack`
    must exceed how much the squared-distance gaps can change between neighbouring samples."""
    rows = round(180.0 / bucket_degrees)
    cols = round(360.0 / bucket_degrees)
    out = np.full((rows, cols, MAX_CANDIDATES), -1, np.int8)
    for row in prange(rows):
        d = np.empty(20)
        for col in range(cols):
            keep = np.zeros(20, np.bool_)
            for a in range(samples):
                lat = math.radians(-90.0 + (row + a / (samples - 1)) * bucket_degrees)
                for b in range(samples):
                    lng = math.radians(-180.0 + (col + b / (samples - 1)) * bucket_degrees)
                    x = math.cos(lng) * math.cos(lat)
                    y = math.sin(lng) * math.cos(lat)
                    z = math.sin(lat)
                    for f in range(20):
                        d[f] = _face_square_distance(f, x, y, z)
                    nearest = d.min()
                    for f in range(20):
                        if d[f] - nearest <= slack:
                            keep[f] = True
            n = 0
            for f in range(20):
                if keep[f]:
                    out[row, col, n] = f  # more than MAX_CANDIDATES cannot happen: at most 5 faces meet
                    n += 1
    return out


# Sampled every 1/4 bucket, a squared-distance gap moves by at most 8 x (half a sample diagonal in radians), 0.0247.
FACE_CANDIDATES = candidate_faces(FACE_BUCKET_DEGREES, 5, 0.03)


@njit(inline="always")
def _nearest_two_faces(x, y, z, candidates):
    """Among `candidates` (ascending, -1 padded): the nearest face, its squared distance, and how much farther the
    second nearest is."""
    face = 0
    best = 5.0
    second = 5.0
    for slot in range(MAX_CANDIDATES):
        f = candidates[slot]
        if f < 0:
            break
        d = _face_square_distance(f, x, y, z)
        if d < best:
            second = best
            face = f
            best = d
        elif d < second:
            second = d
    return face, best, second - best


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
def _hex2d_fast(x, y, z, face, c, sin_r, res):
    """The same point without acos, atan2, tan, cos and sin: tan(acos(c)) = sin r / c with sin r = sqrt((1 - c)
    (1 + c)), and the angle difference by the cosine and sine of the face's axis. `c` = 1 - sqd / 2 < 1 (not the
    face centre). Agrees with `_hex2d_exact` to ~1e-15 relative; (nan, nan) where the direction is undefined."""
    tan_r = sin_r / c
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
    if length == 0.0:
        return np.nan, np.nan
    cos_az = north / length
    sin_az = east / length
    cos_a = AXIS_COS[face, res & 1]
    sin_a = AXIS_SIN[face, res & 1]
    r = tan_r * GNOMONIC_SCALE[res]
    return r * (cos_a * cos_az + sin_a * sin_az), r * (sin_a * cos_az - cos_a * sin_az)


@njit(inline="always")
def _decision_margin(x, y):
    """How far (x, y) is from changing any decision `_hex2d_to_ijk` takes (signs, integer parts, comparisons)."""
    a1, a2, x1, x2 = _skewed(x, y)
    r1 = x1 - math.floor(x1)
    r2 = x2 - math.floor(x2)
    margin = min(a1, a2, r1, 1.0 - r1, r2, 1.0 - r2)
    margin = min(margin, abs(r1 - 0.5), abs(r1 - 1.0 / 3.0), abs(r1 - 2.0 / 3.0))
    margin = min(margin, abs(r2 - (1.0 + r1) / 2.0), abs(r2 - (1.0 - r1)), abs(r2 - 2.0 * r1))
    return min(margin, abs(r2 - (2.0 * r1 - 1.0)), abs(r2 - r1 / 2.0))


@njit(inline="always")
def _face_ijk_exact(lat, lng, res):
    cos_lat = math.cos(lat)
    x = math.cos(lng) * cos_lat
    y = math.sin(lng) * cos_lat
    z = math.sin(lat)
    face, sqd = _nearest_face(x, y, z)
    hx, hy = _hex2d_exact(x, y, z, face, sqd, res)
    i, j, k = _hex2d_to_ijk(hx, hy)
    return face, i, j, k


@njit(cache=True)
def face_ijk(lat_deg, lng_deg, res):
    """Nearest face and the ijk coordinates, on that face, of the cell containing (lat, lng) degrees.

    Fast arithmetic (polynomial sine and cosine, no acos/atan2/tan) where the point is clearly inside one cell and
    clearly nearest one face; H3's own arithmetic everywhere else. "Clearly": margins about a thousand times the
    largest difference between the two arithmetics (see FAST_TOLERANCE).
    """
    sin_lat, cos_lat = _sincos_degrees(lat_deg)
    sin_lng, cos_lng = _sincos_degrees(lng_deg)
    x = cos_lng * cos_lat
    y = sin_lng * cos_lat
    z = sin_lat
    row = min(int((lat_deg + 90.0) / FACE_BUCKET_DEGREES), FACE_CANDIDATES.shape[0] - 1)
    col = min(int((lng_deg + 180.0) / FACE_BUCKET_DEGREES), FACE_CANDIDATES.shape[1] - 1)
    face, sqd, gap = _nearest_two_faces(x, y, z, FACE_CANDIDATES[row, col])
    c = 1.0 - sqd * 0.5  # the cosine H3 takes the arccosine of
    if gap > FAST_TOLERANCE and c < 1.0:  # at the very face centre H3's own arithmetic decides
        sin_r = math.sqrt((1.0 - c) * (1.0 + c))
        hx, hy = _hex2d_fast(x, y, z, face, c, sin_r, res)
        # The two arithmetics' x, y, z differ by ~4e-16, so c = 1 - sqd / 2 can differ by an ulp (1.1e-16) plus
        # ~4e-16 sqrt(sqd); acos turns that into dr = dc / sin r, and tan and the scale into dh = scale sec^2 r dr:
        # large near a face centre, where sin r is small. Allowed for sixteen times over.
        conditioning = 16.0 * GNOMONIC_SCALE[res] * (2.2e-16 + 8e-16 * math.sqrt(sqd)) / (sin_r * c * c)
        tolerance = FAST_TOLERANCE * (abs(hx) + abs(hy) + 1.0) + conditioning
        if _decision_margin(hx, hy) > tolerance:  # false for nan too
            i, j, k = _hex2d_to_ijk(hx, hy)
            return face, i, j, k
    return _face_ijk_exact(lat_deg * DEG_TO_RAD, lng_deg * DEG_TO_RAD, res)


@njit(inline="always")
def _digit(h, r):
    return (h >> ((15 - r) * 3)) & 7


@njit(inline="always")
def _set_digit(h, r, digit):
    shift = (15 - r) * 3
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


@njit(cache=True)
def digits_to_res0(i, j, k, res):
    """Walk ijk up to resolution 0: (index with mode, resolution and digits set; resolution-0 i, j, k).

    Works in axial coordinates (a, b) = (i - k, j - k), which normalisation leaves unchanged.
    """
    h = H3_INIT | (CELL_MODE << 59) | (res << 52)
    a = i - k
    b = j - k
    for r in range(res, 0, -1):
        if r & 1:  # Class III child of a counter-clockwise aperture-7 parent
            p = _round_seventh(3 * a - b)
            q = _round_seventh(a + 2 * b)
            da = a - (2 * p + q)
            db = b - (3 * q - p)
        else:
            p = _round_seventh(2 * a + b)
            q = _round_seventh(3 * b - a)
            da = a - (3 * p - q)
            db = b - (p + 2 * q)
        digit = AXIAL_DIGIT[da + 1, db + 1] if -1 <= da <= 1 and -1 <= db <= 1 else 7
        h = _set_digit(h, r, digit)
        a = p
        b = q
    i, j, k = _normalize(a, b, 0)
    return h, i, j, k


@njit(cache=True)
def orient(h, res, base_cell, rotations, pentagon, cw_offset):
    """Set the base cell and turn the digits into the base cell's orientation."""
    h |= base_cell << 45
    if pentagon:
        if _leading_digit(h, res) == K_AXES_DIGIT:
            h = _rotate(h, res, ROTATE_CW if cw_offset else ROTATE_CCW)
        for _ in range(rotations):
            h = _rotate_pentagon_ccw(h, res)
    elif rotations:
        h = _rotate(h, res, ROTATE_CCW_TIMES[rotations])
    return h


@njit(cache=True)
def encode(lat, lng, res, base_cell_of, rotation_of, is_pentagon, cw_offset):
    """H3 cell index of (lat, lng) degrees at `res`, or 0 if it cannot be encoded.

    The tables (from `_h3_tables`): `base_cell_of[face, i, j, k]` (-1 where no point lands), `rotation_of[face, i,
    j, k]` (60° ccw turns into the base cell's orientation), `is_pentagon[base cell]`, `cw_offset[base cell, face]`.
    """
    face, i, j, k = face_ijk(lat, lng, res)
    h, i, j, k = digits_to_res0(i, j, k, res)
    if i > MAX_FACE_COORD or j > MAX_FACE_COORD or k > MAX_FACE_COORD:
        return 0
    base_cell = base_cell_of[face, i, j, k]
    if base_cell < 0:
        return 0
    return orient(h, res, base_cell, rotation_of[face, i, j, k], is_pentagon[base_cell], cw_offset[base_cell, face])


@njit(parallel=True, cache=True)
def latlng_to_cells(lat_deg, lng_deg, res, out, base_cell_of, rotation_of, is_pentagon, cw_offset):
    """Fill `out` with the cells of points in degrees; invalid points (non-finite, out of range) get 0.

    Returns how many points got 0.
    """
    invalid = 0
    for n in prange(lat_deg.shape[0]):
        lat = lat_deg[n]
        lng = lng_deg[n]
        if not (-90.0 <= lat <= 90.0 and -180.0 <= lng <= 180.0):  # also false for NaN
            out[n] = 0
            invalid += 1
            continue
        h = encode(lat, lng, res, base_cell_of, rotation_of, is_pentagon, cw_offset)
        out[n] = np.uint64(h)
        if h == 0:
            invalid += 1
    return invalid


@njit(parallel=True, cache=True)
def stages(lat_deg, lng_deg, res, faces, ijk0, digits):
    """For table derivation: each point's face, resolution-0 ijk and oriented-less digits."""
    for n in prange(lat_deg.shape[0]):
        face, i, j, k = face_ijk(lat_deg[n], lng_deg[n], res)
        h, i, j, k = digits_to_res0(i, j, k, res)
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
