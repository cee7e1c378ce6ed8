"""Map layers: how one capability puts points on another's map without importing it.

A capability that has located findings creates a view named `map_layer_<name>` with the columns `dataset`, `lat`,
`lon`, `label` and `time`; a map lists the views of that shape and draws the ones the analyst picks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from core.warehouse.sql import quote_identifier

if TYPE_CHECKING:
    from core.warehouse.connection import Warehouse

PREFIX = "map_layer_"
COLUMNS = ("dataset", "lat", "lon", "label", "time")
MAX_POINTS = 50_000


def map_layers(warehouse: Warehouse) -> list[str]:
    """The names (without the prefix) of the map-layer views in the warehouse."""
    views = warehouse.query(
        "SELECT view_name FROM duckdb_views() WHERE NOT internal AND starts_with(view_name, ?) ORDER BY 1", [PREFIX]
    )
    return [name.removeprefix(PREFIX) for name in views["view_name"]]


def map_layer(warehouse: Warehouse, name: str, dataset: str | None = None) -> pd.DataFrame:
    """A layer's located points (for one dataset when given), at most `MAX_POINTS`."""
    if name not in map_layers(warehouse):
        raise ValueError(f"unknown map layer {name!r}")
    where = "lat IS NOT NULL AND lon IS NOT NULL" + (" AND dataset = ?" if dataset is not None else "")
    return warehouse.query(
        f"SELECT {', '.join(COLUMNS)} FROM {quote_identifier(PREFIX + name)} WHERE {where} LIMIT {MAX_POINTS}",
        [dataset] if dataset is not None else None,
    )
