"""core.geo.clusters and core.geo.emerging: DBSCAN on real coordinates, Mann-Kendall against a plain reference,
the emerging-hot-spot categories."""

from __future__ import annotations

import math

import h3
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.geo import _kernels
from core.geo.clusters import NOISE, cluster_labels, haversine_km, summarise_clusters
from core.geo.emerging import categories, emerging_hot_spots


def reference_mann_kendall(series: list[float]) -> tuple[float, float]:
    n = len(series)
    s = sum((series[j] > series[i]) - (series[j] < series[i]) for i in range(n) for j in range(i + 1, n))
    if n < 3 or s == 0:
        return float(s), 0.0
    sd = math.sqrt(n * (n - 1) * (2 * n + 5) / 18)
    return float(s), (s - math.copysign(1, s)) / sd


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.integers(-5, 5).map(float), min_size=12, max_size=12), min_size=1, max_size=8))
def test_mann_kendall_kernel_equals_the_reference(rows):
    s, z = _kernels.mann_kendall(np.array(rows))
    for row, s_i, z_i in zip(rows, s, z, strict=True):
        ref_s, ref_z = reference_mann_kendall(row)
        assert s_i == ref_s
        assert z_i == pytest.approx(ref_z, abs=1e-12)


def test_categories_follow_their_definitions():
    hot = np.array(
        [
            [False] * 9 + [True],  # new
            [False] * 7 + [True] * 3,  # consecutive
            [True] * 9 + [False],  # historical
            [True] * 10,  # persistent (no trend given)
            [True] * 10,  # intensifying
            [True] * 10,  # diminishing
            [True, False] * 4 + [False, True],  # sporadic
            [False] * 10,  # none
        ]
    )
    trend_z = np.array([0.0, 1.0, 0.0, 0.5, 2.5, -2.5, 0.0, 0.0])
    trend_p = np.array([1.0, 0.3, 1.0, 0.6, 0.01, 0.01, 1.0, 1.0])
    assert categories(hot, trend_z, trend_p).tolist() == [
        "new", "consecutive", "historical", "persistent", "intensifying", "diminishing", "sporadic", "none",
    ]  # fmt: skip


def test_a_growing_hot_spot_is_intensifying():
    rng = np.random.default_rng(1)
    centre = h3.api.basic_int.latlng_to_cell(35.0, 139.0, 4)
    background = list(h3.api.basic_int.grid_disk(h3.api.basic_int.latlng_to_cell(0.0, 20.0, 4), 6))
    rows = []
    for week in range(12):
        for cell in background:
            rows.append((cell, week, int(rng.integers(1, 4))))
        for cell in h3.api.basic_int.grid_disk(centre, 1):
            rows.append((cell, week, 20 + 30 * week))
    buckets = pd.DataFrame(rows, columns=["cell", "bucket", "events"])
    result = emerging_hot_spots(buckets, k=1).set_index("cell")
    assert result.loc[np.uint64(centre), "category"] == "intensifying"
    assert (result.loc[[np.uint64(c) for c in background], "category"] == "none").mean() > 0.9


def test_too_few_buckets_are_refused():
    buckets = pd.DataFrame({"cell": [1] * 9, "bucket": range(9), "events": [3] * 9})
    with pytest.raises(ValueError, match="at least 10"):
        emerging_hot_spots(buckets)


def test_dbscan_groups_the_honeypot_sources_by_region(shared_data):
    frame = pd.read_csv(
        shared_data / "geo" / "aws_honeypot_marx_geo_2013-03_06.csv.gz",
        usecols=["latitude", "longitude", "proto", "country"],
    ).rename(columns={"latitude": "lat", "longitude": "lon"})
    labels = cluster_labels(frame["lat"].to_numpy(), frame["lon"].to_numpy(), eps_km=150, min_events=500)
    summary = summarise_clusters(frame, labels, {"top_countries": "country"})
    assert len(summary) >= 10
    assert (labels[frame["lat"].isna().to_numpy()] == NOISE).all()
    biggest = summary.iloc[0]
    members = frame[labels == biggest["cluster"]]
    assert biggest["events"] == len(members)
    distances = haversine_km(biggest["centroid_lat"], biggest["centroid_lon"], members["lat"], members["lon"])
    assert np.percentile(distances, 90) == pytest.approx(biggest["radius_km"], abs=0.2)
    assert summary["top_countries"].str.contains("China").any()


def test_haversine_known_distance():
    assert haversine_km(51.5074, -0.1278, 48.8566, 2.3522) == pytest.approx(343.5, abs=1.0)  # London-Paris
    with pytest.raises(ValueError):
        cluster_labels(np.zeros(1), np.zeros(1), eps_km=0)
