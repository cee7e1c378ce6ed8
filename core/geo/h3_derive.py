"""Derive H3's base-cell tables from h3-py and write `core/geo/_h3_tables.py`.

    python -m core.geo.h3_derive

For every (face, resolution-0 ijk) that a point can reach, the base cell comes from h3-py, and the number of 60°
turns (and, for pentagons, whether the face is clockwise-offset) is the only choice that makes our digits equal
h3-py's for every sample point in that group, at every resolution. A choice that is not unique, or a group with two
base cells, is an error: the tables are then not determined by the samples.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import h3
import numpy as np

from core.geo import _kernels

TABLES_FILE = Path(__file__).with_name("_h3_tables.py")
ROTATIONS = range(6)


def sample_points(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Uniform points on the sphere plus points crowded round the twelve pentagon centres (icosahedron vertices)."""
    lat = np.degrees(np.arcsin(rng.uniform(-1.0, 1.0, n)))
    lng = rng.uniform(-180.0, 180.0, n)
    centres = np.array([h3.cell_to_latlng(c) for c in h3.get_pentagons(0)])
    pick = rng.integers(0, len(centres), n // 4)
    near_lat = np.clip(centres[pick, 0] + rng.normal(0.0, 4.0, pick.size), -90.0, 90.0)
    near_lng = (centres[pick, 1] + rng.normal(0.0, 4.0, pick.size) + 180.0) % 360.0 - 180.0
    return np.concatenate([lat, near_lat]), np.concatenate([lng, near_lng])


def derive(samples_per_resolution: int = 250_000, seed: int = 0) -> dict[str, np.ndarray]:
    """The four tables of `_h3_tables.py`, determined from sample points at every resolution 0–15."""
    rng = np.random.default_rng(seed)
    base_cell = np.full((20, 3, 3, 3), -1, np.int64)
    is_pentagon = np.zeros(122, np.bool_)
    for cell in h3.get_pentagons(0):
        is_pentagon[h3.get_base_cell_number(cell)] = True
    # candidate (rotation, cw_offset) pairs still consistent with every sample, per table entry
    candidates: dict[tuple[int, int, int, int], set[tuple[int, bool]]] = {}
    for res in range(16):
        lat, lng = sample_points(rng, samples_per_resolution)
        truth = np.array([h3.api.basic_int.latlng_to_cell(a, b, res) for a, b in zip(lat, lng, strict=True)], np.int64)
        faces = np.empty(lat.size, np.int64)
        ijk0 = np.empty((lat.size, 3), np.int64)
        digits = np.empty(lat.size, np.int64)
        _kernels.stages(lat, lng, res, faces, ijk0, digits)
        if (ijk0 > 2).any():
            raise ValueError(f"resolution {res}: a point walked off its face's base cells")
        keys = faces * 27 + ijk0[:, 0] * 9 + ijk0[:, 1] * 3 + ijk0[:, 2]
        for key in np.unique(keys):
            members = keys == key
            entry = (int(key // 27), int(key // 9 % 3), int(key // 3 % 3), int(key % 3))
            cells = np.unique((truth[members] >> 45) & 127)
            if cells.size != 1 or base_cell[entry] not in (-1, cells[0]):
                raise ValueError(f"table entry {entry} maps to base cells {cells.tolist()} and {base_cell[entry]}")
            base_cell[entry] = cells[0]
            if res == 0:
                continue
            pentagon = bool(is_pentagon[cells[0]])
            out = np.empty(int(members.sum()), np.int64)
            fits = set()
            for rotations, cw in itertools.product(ROTATIONS, (False, True) if pentagon else (False,)):
                _kernels.orient_each(digits[members], res, cells[0], rotations, pentagon, cw, out)
                if np.array_equal(out, truth[members]):
                    fits.add((rotations, cw))
            candidates[entry] = candidates.get(entry, fits) & fits
    return _choose(base_cell, is_pentagon, candidates)


def _choose(base_cell, is_pentagon, candidates) -> dict[str, np.ndarray]:
    rotation = np.zeros((20, 3, 3, 3), np.int64)
    cw_offset = np.zeros((122, 20), np.bool_)
    cw_votes: dict[tuple[int, int], set[bool]] = {}
    for entry, fits in candidates.items():
        cell = int(base_cell[entry])
        # five turns about a pentagon, each skipping the deleted k-axis, make a full turn: 0 and 5 are one choice
        rotations = {r % 5 if is_pentagon[cell] else r for r, _ in fits}
        if len(rotations) != 1:
            raise ValueError(f"table entry {entry}: rotations {sorted(rotations)} all fit the samples")
        rotation[entry] = rotations.pop()
        if is_pentagon[cell]:
            key = (cell, entry[0])
            cw_votes[key] = cw_votes.get(key, {cw for _, cw in fits}) & {cw for _, cw in fits}
    for (cell, face), votes in cw_votes.items():
        if not votes:
            raise ValueError(f"pentagon {cell} on face {face}: no orientation fits every sample")
        cw_offset[cell, face] = votes == {True}  # both fit: no point of this face starts on the k-axis
    return {
        "BASE_CELL": base_cell,
        "BASE_ROTATION": rotation,
        "IS_PENTAGON": is_pentagon,
        "PENTAGON_CW_OFFSET": cw_offset,
    }


def render(tables: dict[str, np.ndarray]) -> str:
    """The source of `_h3_tables.py`."""
    lines = [
        '"""H3 base-cell tables, generated by `python -m core.geo.h3_derive` (do not edit)."""',
        "",
        "import numpy as np",
        "",
        "# fmt: off",
    ]
    for name, array in tables.items():
        dtype = "np.bool_" if array.dtype == np.bool_ else "np.int64"
        values = array.astype(np.int64).ravel().tolist()
        rows = [", ".join(map(str, values[i : i + 9])) for i in range(0, len(values), 9)]
        body = ",\n    ".join(rows)
        lines.append(f"{name} = np.array([\n    {body},\n], {dtype}).reshape({array.shape})")
        lines.append("")
    return "\n".join([*lines, "# fmt: on", ""])


if __name__ == "__main__":
    TABLES_FILE.write_text(render(derive()))
    print(f"wrote {TABLES_FILE}")
