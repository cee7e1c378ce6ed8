"""The threat map's signals for investigations: each emerging hot spot (new, consecutive or intensifying in the
latest time buckets), about its H3 cell."""

from __future__ import annotations

import pandas as pd

from core.cases import Entity, Signal, built, link

EMERGING = {"new": "medium", "consecutive": "medium", "intensifying": "high"}


def emerging_signals(
    dataset: str, emerging: pd.DataFrame, cells: pd.DataFrame, *, res: int, bucket: str, last_bucket: pd.Timestamp
) -> list[Signal]:
    """Signals for the emerging cells of one analysis (`cells`: cell and events over the whole window)."""
    if emerging.empty:
        return []
    found = emerging[emerging["category"].isin(list(EMERGING))].merge(cells[["cell", "events"]], on="cell", how="left")
    where = {"dataset": dataset, "resolution": res, "bucket": bucket}
    return built(found.itertuples(index=False), lambda row: _signal(row, where, last_bucket))


def _signal(row, where: dict, last_bucket: pd.Timestamp) -> Signal:
    dataset, bucket = where["dataset"], where["bucket"]
    evidence = {**where, "category": row.category, "hot_buckets": int(row.hot_buckets), "buckets": int(row.buckets),
                "trend_z": float(row.trend_z), "trend_p": float(row.trend_p),
                "events": None if pd.isna(row.events) else int(row.events)}  # fmt: skip
    return Signal(
        source="threat map",
        kind="emerging hot spot",
        rule=f"{row.category} hot spot",
        key=f"geo:{dataset}:{where['resolution']}:{bucket}:{row.hex}:{row.category}:{last_bucket.isoformat()}",
        ts=last_bucket.to_pydatetime(),
        severity=EMERGING[row.category],
        summary=f"{row.category.capitalize()} hot spot in cell {row.hex} of {dataset} "
        f"(hot in {row.hot_buckets} of {row.buckets} buckets of {bucket}, trend z {row.trend_z:+.2f})",
        entities=(Entity.of("h3", row.hex),),
        evidence=evidence,
        link=link("threat_map", dataset=dataset, res=where["resolution"]),
    )
