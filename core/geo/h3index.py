"""H3 cell indexing of point arrays: a parallel numba kernel, bit-exact with h3-py 4.x `latlng_to_cell` for every
point with latitude in [-90, 90] and longitude in [-180, 180]. Points outside (h3-py would wrap a longitude of 190,
we refuse it: in event data it is a broken row far more often than a 0–360 convention) get 0 and are counted."""

from __future__ import annotations

from dataclasses import dataclass

import h3
import numpy as np

from core.geo import _h3_tables as tables
from core.geo import _kernels

MAX_RESOLUTION = 15
# The [face, i, j, k] tables flattened, as the kernels index them.
BASE_CELL_OF_KEY = np.ascontiguousarray(tables.BASE_CELL.reshape(-1))
ROTATION_OF_KEY = np.ascontiguousarray(tables.BASE_ROTATION.reshape(-1))


@dataclass(frozen=True)
class IndexedPoints:
    """Cells of a point array (0 where a point could not be indexed) and how many such points there were."""

    cells: np.ndarray
    invalid: int


def _checked_resolution(res: int) -> int:
    if isinstance(res, bool) or not isinstance(res, int | np.integer) or not 0 <= res <= MAX_RESOLUTION:
        raise ValueError(f"H3 resolution must be an integer from 0 to {MAX_RESOLUTION}, not {res!r}")
    return int(res)


def index_points(lat, lng, res: int) -> IndexedPoints:
    """H3 cells (uint64) of points given in degrees; NaN, infinite or out-of-range points get 0 and are counted."""
    res = _checked_resolution(res)
    lat = np.ascontiguousarray(lat, dtype=np.float64)
    lng = np.ascontiguousarray(lng, dtype=np.float64)
    if lat.shape != lng.shape or lat.ndim != 1:
        raise ValueError(f"lat and lng must be 1-D arrays of one length, not {lat.shape} and {lng.shape}")
    cells = np.empty(lat.shape[0], np.uint64)
    invalid = _kernels.latlng_to_cells(
        lat, lng, res, cells, BASE_CELL_OF_KEY, ROTATION_OF_KEY, tables.IS_PENTAGON, tables.PENTAGON_CW_OFFSET
    )
    return IndexedPoints(cells, int(invalid))


def latlng_to_cells(lat, lng, res: int) -> np.ndarray:
    """H3 cells (uint64) of points given in degrees, 0 where a point is NaN, infinite or out of range."""
    return index_points(lat, lng, res).cells


def cell_to_string(cell: int) -> str:
    """The hexadecimal form of a cell (what pydeck and h3-py's string API use)."""
    return h3.int_to_str(int(cell))


def cell_centres(cells) -> np.ndarray:
    """(lat, lng) degrees of each cell's centre; for the few cells of a map, via h3-py."""
    return np.array([h3.cell_to_latlng(h3.int_to_str(int(c))) for c in cells], dtype=np.float64).reshape(-1, 2)
