"""Clusters of events: DBSCAN with the haversine distance, and a summary of each cluster."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.cluster import DBSCAN

EARTH_RADIUS_KM = 6371.0088
NOISE = -1


def haversine_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distance in km between points in degrees (broadcasting)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


def cluster_labels(lat: np.ndarray, lon: np.ndarray, *, eps_km: float = 100.0, min_events: int = 50) -> np.ndarray:
    """DBSCAN label of each event (-1: noise; NaN coordinates are noise).

    Events at identical coordinates (GeoIP centroids stack) are clustered once, weighted by their count.
    """
    if eps_km <= 0 or min_events < 1:
        raise ValueError("the cluster radius must be positive and the minimum size at least 1 event")
    labels = np.full(len(lat), NOISE, np.int64)
    located = np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
    if not located.any():
        return labels
    points, inverse, counts = np.unique(
        np.column_stack([lat[located], lon[located]]), axis=0, return_inverse=True, return_counts=True
    )
    model = DBSCAN(eps=eps_km / EARTH_RADIUS_KM, min_samples=min_events, metric="haversine", algorithm="ball_tree")
    unique_labels = model.fit(np.radians(points), sample_weight=counts).labels_
    labels[located] = unique_labels[inverse.ravel()]
    return labels


def _top(values: pd.Series, n: int = 3) -> str:
    counts = values.dropna().astype(str).value_counts().head(n)
    return ", ".join(f"{v} ({c})" for v, c in counts.items())


def summarise_clusters(
    events: pd.DataFrame, labels: np.ndarray, describe: dict[str, str] | None = None
) -> pd.DataFrame:
    """Per cluster: centroid, radius (km, 90th percentile of distances to the centroid), events, and the top values
    of each column in `describe` (output name -> column of `events`), largest cluster first."""
    describe = describe or {}
    rows = []
    for label in sorted(set(labels.tolist()) - {NOISE}):
        members = events[labels == label]
        lat, lon = np.radians(members["lat"].to_numpy()), np.radians(members["lon"].to_numpy())
        x, y, z = (np.cos(lat) * np.cos(lon)).mean(), (np.cos(lat) * np.sin(lon)).mean(), np.sin(lat).mean()
        c_lat, c_lon = np.degrees(np.arctan2(z, np.hypot(x, y))), np.degrees(np.arctan2(y, x))
        distances = haversine_km(c_lat, c_lon, members["lat"].to_numpy(), members["lon"].to_numpy())
        row = {"cluster": label, "events": len(members), "centroid_lat": round(float(c_lat), 4)}
        row |= {"centroid_lon": round(float(c_lon), 4), "radius_km": round(float(np.percentile(distances, 90)), 1)}
        row |= {name: _top(members[column]) for name, column in describe.items() if column in members}
        rows.append(row)
    frame = pd.DataFrame(rows, columns=["cluster", "events", "centroid_lat", "centroid_lon", "radius_km", *describe])
    return frame.sort_values("events", ascending=False, ignore_index=True)
