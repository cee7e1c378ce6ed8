"""Events with coordinates: which columns play which role, a severity rule, and the cell summary of a dataset."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from core.geo.h3index import index_points
from core.geo.store import EventStore
from core.warehouse import Warehouse

ROLE_NAMES = {  # per role, the column names recognised (case-insensitive), best first
    "lat": "lat|latitude|src_lat|y",
    "lon": "lon|lng|long|longitude|src_lon|src_lng|x",
    "time": "datetime|timestamp|time|ts|date|event_time|seen|first_seen|last_seen|when",
    "category": "proto|protocol|category|type|attack|event_type|service",
    "source": "src|srcstr|source|src_ip|source_ip|ip",
    "port": "dpt|dst_port|dest_port|port|destination_port",
}
# Severity 1-5 by the targeted service: database and remote-administration ports are what intruders want most.
SEVERITY_BY_PORT = {
    1433: 5, 1434: 5, 3306: 5, 5432: 5, 445: 5, 139: 5, 3389: 5,
    22: 4, 23: 4, 5900: 4, 135: 4, 2323: 4,
    21: 3, 25: 3, 8080: 3, 80: 2, 443: 2, 53: 2,
}  # fmt: skip
DEFAULT_SEVERITY = 3  # any other port
NO_PORT_SEVERITY = 1  # ICMP and other port-less probes


@dataclass(frozen=True)
class ColumnMapping:
    """Which dataset column holds each event field; only lat and lon are required."""

    lat: str
    lon: str
    time: str | None = None
    category: str | None = None
    source: str | None = None
    severity: str | None = None
    port: str | None = None

    def roles(self) -> dict[str, str]:
        """Role -> column for the roles that are mapped."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name)}


def detect_mapping(columns: list[str]) -> ColumnMapping | None:
    """Guess the column of each role from its name; None when no latitude/longitude pair is found."""
    lowered = {c.lower(): c for c in columns}
    found: dict[str, str] = {}
    for role, names in ROLE_NAMES.items():
        for name in names.split("|"):
            if name in lowered and lowered[name] not in found.values():
                found[role] = lowered[name]
                break
    if "lat" not in found or "lon" not in found:
        return None
    return ColumnMapping(**found)


def severity_from_ports(ports: pd.Series) -> np.ndarray:
    """Severity 1-5 from destination ports (see SEVERITY_BY_PORT); 1 where there is no port."""
    numeric = pd.to_numeric(ports, errors="coerce")
    return np.where(numeric.isna(), NO_PORT_SEVERITY, numeric.map(SEVERITY_BY_PORT).fillna(DEFAULT_SEVERITY))


@dataclass(frozen=True)
class CellSummary:
    """Per-cell aggregates of a dataset at one resolution, and what was left out."""

    cells: pd.DataFrame
    events: int
    not_located: int


def read_events(warehouse: Warehouse, dataset: str, mapping: ColumnMapping) -> pd.DataFrame:
    """The dataset's events with the mapped roles as columns; severity derived from ports when not mapped."""
    frame = EventStore(warehouse).event_columns(dataset, mapping.roles())
    if "port" in frame:
        ports = frame.pop("port")
        if "severity" not in frame:
            frame["severity"] = severity_from_ports(ports)
    return frame


def summarise_cells(
    warehouse: Warehouse,
    events: pd.DataFrame,
    res: int,
    *,
    bucket: str | None = None,
    origin: pd.Timestamp | None = None,
) -> CellSummary:
    """Index events into H3 cells at `res` and aggregate them per cell (and time bucket counted from `origin`)."""
    indexed = index_points(events["lat"].to_numpy(np.float64), events["lon"].to_numpy(np.float64), res)
    frame = events.drop(columns=["lat", "lon"]).assign(cell=indexed.cells)
    cells = EventStore(warehouse).aggregate_cells(frame, bucket=bucket, origin=origin)
    return CellSummary(cells, len(events), indexed.invalid)


def looks_swapped(lat: np.ndarray, lon: np.ndarray) -> bool:
    """True when latitudes fall outside ±90 but longitudes would fit there: the columns are probably swapped."""
    lat, lon = lat[np.isfinite(lat) & np.isfinite(lon)], lon[np.isfinite(lat) & np.isfinite(lon)]
    return bool(len(lat)) and (np.abs(lat) > 90).mean() > 0.05 and (np.abs(lon) <= 90).all()
