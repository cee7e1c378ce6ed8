"""The threat-map analysis of one dataset: cells with counts, Gi* hot spots and threat scores, clusters, timeline
and emerging hot spots, with the warnings an analyst needs before trusting the map."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from core.cases import publish
from core.errors import CtasError
from core.geo.clusters import cluster_labels, summarise_clusters
from core.geo.emerging import MIN_BUCKETS, emerging_hot_spots
from core.geo.events import ColumnMapping, looks_swapped, read_events, summarise_cells
from core.geo.h3index import MAX_RESOLUTION, cell_centres, cell_to_string
from core.geo.hotspots import BIN_LABELS, MAX_K, gi_star
from core.geo.score import threat_scores
from core.geo.signals import emerging_signals
from core.warehouse import Warehouse

GEOIP_FINE_RESOLUTION = 6  # GeoIP centroids do not support cells finer than this (about 36 km² and smaller)
STACKED_SHARE = 0.5  # "coordinates are centroids" when at least this share of events sits on a shared point


class ThreatMapError(CtasError, ValueError):
    """The data or the settings cannot give a threat map (the message says why, for the analyst)."""


@dataclass(frozen=True)
class ThreatMapSettings:
    """What the analyst chose: resolution, Gi* neighbourhood, FDR, time window, categories, clustering."""

    res: int = 3
    k: int = 1
    fdr: bool = False
    start: pd.Timestamp | None = None
    end: pd.Timestamp | None = None
    categories: tuple[str, ...] = ()
    bucket: str = "7 days"
    cluster_km: float = 150.0
    cluster_min_events: int = 100

    def __post_init__(self) -> None:
        if not 0 <= self.res <= MAX_RESOLUTION:
            raise ThreatMapError(f"The H3 resolution must be from 0 to {MAX_RESOLUTION}.")
        if not 0 <= self.k <= MAX_K:
            raise ThreatMapError(f"The Gi* neighbourhood must be from 0 to {MAX_K} rings.")


@dataclass(frozen=True)
class ThreatMap:
    """Everything the page draws and the report holds."""

    cells: pd.DataFrame  # cell, hex, events, severity, sources, ..., gi_z, gi_p, gi_bin, hot_spot, threat_score
    clusters: pd.DataFrame
    timeline: pd.DataFrame  # bucket, events
    emerging: pd.DataFrame  # empty when fewer than MIN_BUCKETS buckets
    events: int
    located: int
    warnings: list[str] = field(default_factory=list)


def filter_events(events: pd.DataFrame, settings: ThreatMapSettings) -> pd.DataFrame:
    """The events inside the chosen time window and categories (a window leaves out events without a time)."""
    keep = np.ones(len(events), bool)
    if "time" in events and settings.start is not None:
        keep &= (events["time"] >= settings.start).to_numpy()
    if "time" in events and settings.end is not None:
        keep &= (events["time"] <= settings.end).to_numpy()
    if "category" in events and settings.categories:
        keep &= events["category"].isin(settings.categories).to_numpy()
    return events[keep]


def _warnings(events: pd.DataFrame, settings: ThreatMapSettings) -> list[str]:
    lat, lon = events["lat"].to_numpy(np.float64), events["lon"].to_numpy(np.float64)
    out = []
    if looks_swapped(lat, lon):
        out.append("Many latitudes are beyond ±90° while the longitudes fit: are the two columns swapped?")
    located = np.isfinite(lat) & np.isfinite(lon)
    if settings.res >= GEOIP_FINE_RESOLUTION and located.sum():
        _, counts = np.unique(np.column_stack([lat[located], lon[located]]), axis=0, return_counts=True)
        if counts[counts > 1].sum() / located.sum() >= STACKED_SHARE:
            out.append(
                f"Most events share their exact coordinates with others, as GeoIP centroids do. They place a source "
                f"only to its city or country, so cells at resolution {settings.res} show the centroids, not "
                f"where attackers are: resolutions 2–5 suit this data."
            )
    return out


def analyse(warehouse: Warehouse, dataset: str, mapping: ColumnMapping, settings: ThreatMapSettings) -> ThreatMap:
    """Run the whole analysis; ThreatMapError when nothing can be mapped."""
    every = read_events(warehouse, dataset, mapping)
    events = filter_events(every, settings)
    if events.empty:
        raise ThreatMapError("No events match the chosen time window and categories.")
    warnings = _warnings(events, settings)
    if "time" in every and (settings.start is not None or settings.end is not None):
        untimed = int(filter_events(every, replace(settings, start=None, end=None))["time"].isna().sum())
        if untimed:
            warnings.append(f"{untimed:,} events have no readable time: the time window leaves them out.")
    summary = summarise_cells(warehouse, events, settings.res)
    cells = summary.cells
    if cells.empty:
        raise ThreatMapError(
            f"None of the {len(events):,} events has usable coordinates in columns '{mapping.lat}' and "
            f"'{mapping.lon}' (latitude −90…90, longitude −180…180)."
        )
    if summary.not_located:
        warnings.append(
            f"{summary.not_located:,} of {len(events):,} events have no usable coordinates and are left out."
        )
    spots = gi_star(
        cells["cell"].to_numpy(np.uint64), cells["events"].to_numpy(np.float64), k=settings.k, fdr=settings.fdr
    )
    cells = cells.merge(spots.drop(columns=["value"]), on="cell")
    cells["hot_spot"] = cells["gi_bin"].map(BIN_LABELS)
    cells["threat_score"] = threat_scores(cells)
    cells.insert(1, "hex", [cell_to_string(c) for c in cells["cell"]])
    centres = cell_centres(cells["cell"].to_numpy(np.uint64))
    cells["centre_lat"], cells["centre_lon"] = centres[:, 0], centres[:, 1]
    located = events[np.isfinite(events["lat"]) & np.isfinite(events["lon"])]
    labels = cluster_labels(
        located["lat"].to_numpy(), located["lon"].to_numpy(), eps_km=settings.cluster_km,
        min_events=settings.cluster_min_events,
    )  # fmt: skip
    describe = {k: v for k, v in {"top_categories": "category", "top_sources": "source"}.items() if v in located}
    clusters = summarise_clusters(located, labels, describe)
    timeline, emerging = _over_time(warehouse, events, settings)
    if not emerging.empty:
        last = pd.Timestamp(timeline["bucket"].max())
        found = emerging_signals(dataset, emerging, cells, res=settings.res, bucket=settings.bucket, last_bucket=last)
        publish(warehouse, found)
    return ThreatMap(cells, clusters, timeline, emerging, len(events), len(events) - summary.not_located, warnings)


def _over_time(warehouse: Warehouse, events: pd.DataFrame, settings: ThreatMapSettings):
    if "time" not in events or events["time"].isna().all():
        return pd.DataFrame(columns=["bucket", "events"]), pd.DataFrame()
    origin = settings.start if settings.start is not None else events["time"].min().floor("D")
    buckets = summarise_cells(warehouse, events, settings.res, bucket=settings.bucket, origin=origin).cells
    buckets = buckets.dropna(subset=["bucket"])  # events without a time
    if buckets.empty:
        return pd.DataFrame(columns=["bucket", "events"]), pd.DataFrame()
    width = pd.Timedelta(settings.bucket)
    timeline = buckets.groupby("bucket", as_index=False)["events"].sum()
    every_bucket = pd.date_range(timeline["bucket"].min(), timeline["bucket"].max(), freq=width)
    timeline = timeline.set_index("bucket").reindex(every_bucket, fill_value=0).rename_axis("bucket").reset_index()
    emerging = pd.DataFrame()
    if len(every_bucket) >= MIN_BUCKETS:
        emerging = emerging_hot_spots(buckets, k=settings.k, width=width)
        emerging.insert(1, "hex", [cell_to_string(c) for c in emerging["cell"]])
    return timeline, emerging
