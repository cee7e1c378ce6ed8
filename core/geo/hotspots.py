"""Hot-spot statistics over H3 cells: Getis-Ord Gi* on k-ring neighbourhoods, with the ArcGIS confidence bins.

The study area is the set of cells that hold at least one event; a cell's neighbourhood is itself and the cells of
that set within k grid steps (binary weights, as ArcGIS's "fixed distance band" with self-inclusion, Gi*).
"""

from __future__ import annotations

import math

import h3ronpy
import numpy as np
import pandas as pd
import pyarrow as pa
from scipy import special

from core.geo import _kernels

CONFIDENCE_LEVELS = ((3, 0.01), (2, 0.05), (1, 0.10))  # bin, two-sided p threshold: 99 / 95 / 90 %
BIN_LABELS = {
    3: "Hot spot, 99 % confidence",
    2: "Hot spot, 95 % confidence",
    1: "Hot spot, 90 % confidence",
    0: "Not significant",
    -1: "Cold spot, 90 % confidence",
    -2: "Cold spot, 95 % confidence",
    -3: "Cold spot, 99 % confidence",
}
MAX_K = 10


def neighbourhoods(cells: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """CSR (indptr, indices) of each cell's k-ring among `cells` (sorted, unique uint64), the cell included."""
    if not 0 <= k <= MAX_K:
        raise ValueError(f"the neighbourhood size k must be from 0 to {MAX_K}, not {k}")
    if len(cells) == 0:
        return np.zeros(1, np.int64), np.zeros(0, np.int64)
    disks = pa.array(h3ronpy.grid_disk(cells, k))  # h3o (Rust, multi-threaded), checked against h3-py in tests
    offsets = np.asarray(disks.offsets).astype(np.int64)
    return _kernels.restrict_disks(cells, offsets, np.asarray(disks.values))


def two_sided_p(z: np.ndarray) -> np.ndarray:
    """Two-sided normal p-values of z-scores."""
    return special.erfc(np.abs(z) / math.sqrt(2.0))


def benjamini_hochberg_cutoff(p: np.ndarray, alpha: float) -> float:
    """The largest p-value declared significant at false-discovery rate `alpha` (0 if none)."""
    ordered = np.sort(p)
    passing = ordered <= alpha * np.arange(1, len(ordered) + 1) / max(len(ordered), 1)
    return float(ordered[np.flatnonzero(passing)[-1]]) if passing.any() else 0.0


def confidence_bins(z: np.ndarray, p: np.ndarray, *, fdr: bool = False) -> np.ndarray:
    """ArcGIS Gi_Bin: ±3/±2/±1 for 99/95/90 % confidence (sign of z), 0 otherwise; FDR-corrected if asked."""
    bins = np.zeros(len(z), np.int8)
    for level, alpha in reversed(CONFIDENCE_LEVELS):
        cutoff = benjamini_hochberg_cutoff(p, alpha) if fdr else alpha
        significant = p <= cutoff if fdr else p < cutoff
        bins[significant] = level
    return (bins * np.sign(z)).astype(np.int8)


def gi_star(cells: np.ndarray, values: np.ndarray, *, k: int = 1, fdr: bool = False) -> pd.DataFrame:
    """Gi* hot spots of `values` (one per cell): cell, value, neighbours, gi_z, gi_p, gi_bin.

    `cells` must be unique; they are sorted in the result.
    """
    cells = np.asarray(cells, dtype=np.uint64)
    values = np.asarray(values, dtype=np.float64)
    if cells.shape != values.shape:
        raise ValueError("one value per cell is needed")
    if len(cells) > 1 and not (cells[1:] > cells[:-1]).all():  # sorted already when they come from the warehouse
        order = np.argsort(cells, kind="stable")
        cells, values = cells[order], values[order]
    if len(cells) and (np.diff(cells) == 0).any():
        raise ValueError("cells must be unique: aggregate the events per cell first")
    indptr, indices = neighbourhoods(cells, k)
    z = _kernels.gi_star_z(indptr, indices, values)
    p = two_sided_p(z)
    return pd.DataFrame(
        {
            "cell": cells,
            "value": values,
            "neighbours": np.diff(indptr),
            "gi_z": z,
            "gi_p": p,
            "gi_bin": confidence_bins(z, p, fdr=fdr),
        }
    )
