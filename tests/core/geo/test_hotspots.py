"""core.geo.hotspots: the Gi* kernel against a plain reference and against esda on the real honeypot data."""

from __future__ import annotations

import math

import esda
import h3
import libpysal
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.geo import _kernels
from core.geo.h3index import latlng_to_cells
from core.geo.hotspots import benjamini_hochberg_cutoff, confidence_bins, gi_star, neighbourhoods


def reference_gi_star_z(neighbours: list[list[int]], values: list[float]) -> list[float]:
    """Getis-Ord Gi* with binary self-including weights, written out plainly."""
    n = len(values)
    mean = sum(values) / n
    s = math.sqrt(sum(v * v for v in values) / n - mean * mean) if n else 0.0
    out = []
    for members in neighbours:
        w = len(members)
        spread = (n * w - w * w) / (n - 1) if n > 1 else 0.0
        if n < 3 or s <= 0 or spread <= 0:
            out.append(0.0)
            continue
        out.append((sum(values[j] for j in members) - mean * w) / (s * math.sqrt(spread)))
    return out


@st.composite
def graphs(draw):
    n = draw(st.integers(1, 30))
    values = draw(st.lists(st.integers(0, 1000).map(float), min_size=n, max_size=n))
    neighbours = [sorted({i} | set(draw(st.lists(st.integers(0, n - 1), max_size=n)))) for i in range(n)]
    return neighbours, values


@settings(max_examples=200, deadline=None)
@given(graphs())
def test_kernel_equals_the_reference(graph):
    neighbours, values = graph
    indptr = np.cumsum([0] + [len(m) for m in neighbours])
    indices = np.array([j for m in neighbours for j in m], np.int64)
    z = _kernels.gi_star_z(indptr.astype(np.int64), indices, np.array(values))
    np.testing.assert_allclose(z, reference_gi_star_z(neighbours, values), rtol=1e-12, atol=1e-12)


@pytest.fixture(scope="module")
def honeypot_cells(shared_data):
    frame = pd.read_csv(
        shared_data / "geo" / "aws_honeypot_marx_geo_2013-03_06.csv.gz", usecols=["latitude", "longitude"]
    )
    cells = latlng_to_cells(frame["latitude"].to_numpy(), frame["longitude"].to_numpy(), 5)
    return np.unique(cells[cells != 0], return_counts=True)


def test_gi_star_matches_esda_on_the_honeypot_data(honeypot_cells):
    cells, counts = honeypot_cells
    ours = gi_star(cells, counts, k=2)
    indptr, indices = neighbourhoods(cells, 2)
    neighbours = {i: [int(j) for j in indices[indptr[i] : indptr[i + 1]] if j != i] for i in range(len(cells))}
    weights = libpysal.weights.W(neighbours, silence_warnings=True)
    reference = esda.G_Local(counts.astype(float), weights, transform="B", star=True, permutations=0)
    assert len(cells) > 3000
    assert np.abs(ours["gi_z"].to_numpy() - reference.Zs).max() < 1e-9
    assert (ours["gi_bin"] == 3).sum() > 10  # the honeypot data does have hot spots


def test_neighbourhoods_are_h3py_disks_restricted_to_present_cells(honeypot_cells):
    cells, _ = honeypot_cells
    indptr, indices = neighbourhoods(cells, 2)
    present = set(cells.tolist())
    for i in range(0, len(cells), 97):
        expected = sorted(c for c in h3.api.basic_int.grid_disk(int(cells[i]), 2) if c in present)
        assert sorted(cells[indices[indptr[i] : indptr[i + 1]]].tolist()) == expected


def test_bins_follow_the_arcgis_legend():
    z = np.array([3.0, -2.2, 1.7, 0.5, -3.5])
    p = np.array([0.004, 0.03, 0.09, 0.6, 0.0005])
    assert confidence_bins(z, p).tolist() == [3, -2, 1, 0, -3]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=60), st.sampled_from([0.01, 0.05, 0.1]))
def test_benjamini_hochberg_cutoff_is_the_step_up_rule(p_values, alpha):
    p = np.array(p_values)
    m = len(p)
    passing = [q for rank, q in enumerate(sorted(p), start=1) if q <= alpha * rank / m]
    assert benjamini_hochberg_cutoff(p, alpha) == (max(passing) if passing else 0.0)


def test_fdr_is_never_more_permissive_than_plain_p_values(honeypot_cells):
    cells, counts = honeypot_cells
    plain = gi_star(cells, counts, k=1)
    corrected = gi_star(cells, counts, k=1, fdr=True)
    assert (corrected["gi_bin"].abs() <= plain["gi_bin"].abs()).all()
    assert (corrected["gi_bin"] != 0).sum() < (plain["gi_bin"] != 0).sum()


def test_constant_values_have_no_hot_spots():
    cells = np.array(sorted(h3.api.basic_int.grid_disk(h3.api.basic_int.latlng_to_cell(10, 10, 6), 2)), np.uint64)
    spots = gi_star(cells, np.full(len(cells), 4.0))
    assert (spots["gi_z"] == 0).all()
    assert (spots["gi_bin"] == 0).all()


def test_bad_arguments_are_refused():
    cells = np.array([h3.api.basic_int.latlng_to_cell(10, 10, 6)] * 2, np.uint64)
    with pytest.raises(ValueError, match="unique"):
        gi_star(cells, np.ones(2))
    with pytest.raises(ValueError, match="k must be"):
        gi_star(cells[:1], np.ones(1), k=11)
    with pytest.raises(ValueError, match="one value per cell"):
        gi_star(cells[:1], np.ones(2))
