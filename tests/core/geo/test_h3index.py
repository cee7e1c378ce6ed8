"""core.geo.h3index: the numba H3 indexer against h3-py 4.x (the reference), bit for bit."""

from __future__ import annotations

import h3
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.geo import _h3_tables, _kernels, h3_derive
from core.geo.h3index import (
    BASE_CELL_OF_KEY,
    ROTATION_OF_KEY,
    cell_to_string,
    index_points,
    latlng_to_cells,
)

reference = h3.api.basic_int.latlng_to_cell
RESOLUTIONS = range(16)


def reference_cells(lat, lng, res: int) -> np.ndarray:
    return np.array([reference(a, b, res) for a, b in zip(lat.tolist(), lng.tolist(), strict=True)], np.uint64)


def uniform_sphere(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return np.degrees(np.arcsin(rng.uniform(-1.0, 1.0, n))), rng.uniform(-180.0, 180.0, n)


def edge_points() -> tuple[np.ndarray, np.ndarray]:
    """Centres and boundary vertices of random cells and of every pentagon, at every resolution (points where a
    last-bit difference changes the cell), plus poles, the antimeridian and signed zeros."""
    lat, lng = uniform_sphere(250, seed=11)
    points = []
    for res in RESOLUTIONS:
        cells = {h3.latlng_to_cell(a, b, res) for a, b in zip(lat, lng, strict=True)} | set(h3.get_pentagons(res))
        for cell in cells:
            points.append(h3.cell_to_latlng(cell))
            points.extend(h3.cell_to_boundary(cell))
    # near the 20 face centres H3's acos is ill-conditioned: vertices of the cells around each centre
    for centre in h3.get_res0_cells():
        for res in (5, 10, 15):
            middle = h3.latlng_to_cell(*h3.cell_to_latlng(centre), res)
            for cell in h3.grid_disk(middle, 4):
                points.extend(h3.cell_to_boundary(cell))
    for a in (90.0, -90.0, 89.99999999, -89.99999999, 0.0, -0.0, 1e-300, 45.0):
        for b in (180.0, -180.0, 179.99999999, -179.99999999, 0.0, -0.0, 1e-300, 90.0):
            points.append((a, b))
    array = np.array(points)
    return array[:, 0].copy(), array[:, 1].copy()


@pytest.mark.parametrize("res", RESOLUTIONS)
def test_uniform_points_match_h3py_bit_for_bit(res):
    lat, lng = uniform_sphere(40_000, seed=res)
    np.testing.assert_array_equal(latlng_to_cells(lat, lng, res), reference_cells(lat, lng, res))


def test_cell_centres_vertices_pentagons_poles_and_antimeridian_match_h3py():
    lat, lng = edge_points()
    assert lat.size > 25_000
    for res in RESOLUTIONS:
        ours = latlng_to_cells(lat, lng, res)
        mismatched = np.flatnonzero(ours != reference_cells(lat, lng, res))
        assert mismatched.size == 0, f"res {res}: first mismatch at {lat[mismatched[0]]}, {lng[mismatched[0]]}"


def test_exact_arithmetic_alone_matches_h3py():
    """The path every point not certified by the fast arithmetic takes, checked on its own, edge points included."""
    edge_lat, edge_lng = edge_points()
    uniform_lat, uniform_lng = uniform_sphere(3_000, seed=17)
    lat = np.concatenate([edge_lat, uniform_lat])
    lng = np.concatenate([edge_lng, uniform_lng])
    tables = (BASE_CELL_OF_KEY, ROTATION_OF_KEY, _h3_tables.IS_PENTAGON, _h3_tables.PENTAGON_CW_OFFSET)
    for res in (0, 1, 4, 9, 12, 15):
        ours = np.array([_kernels.encode_exact(a, b, res, *tables) for a, b in zip(lat, lng, strict=True)], np.uint64)
        mismatched = np.flatnonzero(ours != reference_cells(lat, lng, res))
        assert mismatched.size == 0, f"res {res}: first mismatch at {lat[mismatched[0]]}, {lng[mismatched[0]]}"


def reference_rotation(h: int, turns: int) -> int:
    """Each of the 15 digits of `h` looked up `turns` times in H3's one-turn table; 7 (unused) stays."""
    one_turn = [0, 5, 3, 1, 6, 4, 2, 7]
    for r in range(1, 16):
        shift = (15 - r) * 3
        digit = (h >> shift) & 7
        for _ in range(turns):
            digit = one_turn[digit]
        h = (h & ~(7 << shift)) | (digit << shift)
    return h


@settings(max_examples=500, deadline=None)
@given(st.integers(0, 2**63 - 1), st.integers(0, 5))
def test_all_digits_turned_at_once_match_the_digit_table(h, turns):
    assert _kernels.rotate_digits_ccw(h, turns) == reference_rotation(h, turns)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.floats(-90, 90), st.floats(-180, 180)), min_size=1, max_size=50),
    st.integers(0, 15),
)
def test_any_valid_point_matches_h3py(points, res):
    lat = np.array([p[0] for p in points])
    lng = np.array([p[1] for p in points])
    np.testing.assert_array_equal(latlng_to_cells(lat, lng, res), reference_cells(lat, lng, res))


def test_invalid_points_get_zero_and_are_counted():
    lat = np.array([np.nan, 10.0, 91.0, -90.5, np.inf, 10.0, 10.0])
    lng = np.array([0.0, np.nan, 0.0, 0.0, 0.0, 180.5, -np.inf])
    result = index_points(np.append(lat, 48.85), np.append(lng, 2.35), 5)
    assert result.invalid == 7
    assert result.cells[:7].tolist() == [0] * 7
    assert cell_to_string(result.cells[7]) == h3.latlng_to_cell(48.85, 2.35, 5)


def test_invalid_points_spread_over_many_blocks_get_zero_and_are_counted():
    lat, lng = uniform_sphere(5_000, seed=23)
    bad = np.random.default_rng(23).choice(lat.size, 300, replace=False)
    lat[bad[:150]] = np.nan
    lng[bad[150:]] = 180.25
    result = index_points(lat, lng, 8)
    assert result.invalid == 300
    good = np.setdiff1d(np.arange(lat.size), bad)
    assert not result.cells[bad].any()
    np.testing.assert_array_equal(result.cells[good], reference_cells(lat[good], lng[good], 8))


@pytest.mark.parametrize("res", [-1, 16, 2.0, "7", True, None])
def test_bad_resolution_is_refused(res):
    with pytest.raises(ValueError, match="resolution"):
        latlng_to_cells(np.zeros(1), np.zeros(1), res)


def test_mismatched_shapes_are_refused():
    with pytest.raises(ValueError, match="one length"):
        latlng_to_cells(np.zeros(3), np.zeros(2), 5)


def test_empty_input_gives_empty_output():
    result = index_points(np.empty(0), np.empty(0), 9)
    assert result.cells.dtype == np.uint64
    assert result.cells.size == 0
    assert result.invalid == 0


def test_committed_tables_are_what_the_samples_determine():
    derived = h3_derive.derive(samples_per_resolution=15_000, seed=5)
    reached = derived["BASE_CELL"] >= 0
    assert reached.sum() > 250
    np.testing.assert_array_equal(derived["BASE_CELL"][reached], _h3_tables.BASE_CELL[reached])
    np.testing.assert_array_equal(derived["BASE_ROTATION"][reached], _h3_tables.BASE_ROTATION[reached])
    np.testing.assert_array_equal(derived["IS_PENTAGON"], _h3_tables.IS_PENTAGON)
    np.testing.assert_array_equal(derived["PENTAGON_CW_OFFSET"], _h3_tables.PENTAGON_CW_OFFSET)
    assert derived["PENTAGON_CW_OFFSET"].sum() == 20  # two faces for each of the ten non-polar pentagons
