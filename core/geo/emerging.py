"""Emerging hot spots: how each cell's Gi* hot-spot status moves across time buckets (after ArcGIS's categories).

For T time buckets, Gi* is computed per bucket over the same study area (every cell seen in any bucket, zero events
where a bucket has none) and k-ring neighbourhoods; the Mann-Kendall test on each cell's z-series gives its trend.
A cell is *hot* in a bucket when Gi* is significant at 95 % with z > 0. As in ArcGIS, at least ten buckets are
needed (Mann-Kendall cannot reach significance on a few). Categories, first match wins:
- new: hot in the last bucket and never before;
- consecutive: hot in a run of at least two buckets ending with the last, never before it, under 90 % of them;
- historical: hot in at least 90 % of the buckets but not the last;
- intensifying: hot in at least 90 % of the buckets, the last included, and z trending up (Mann-Kendall p < 0.05);
- diminishing: hot in at least 90 % of the buckets, the last included, and z trending down;
- persistent: hot in at least 90 % of the buckets, the last included, no significant trend;
- sporadic: hot in some buckets but none of the above;
- none: never hot.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.geo import _kernels
from core.geo.hotspots import neighbourhoods, two_sided_p

HOT_P = 0.05
MOSTLY = 0.9
MIN_BUCKETS = 10


def emerging_hot_spots(buckets: pd.DataFrame, *, k: int = 1, width: pd.Timedelta | None = None) -> pd.DataFrame:
    """Per cell: hot buckets, trend z and p, category. `buckets` has columns cell, bucket and events; with the
    bucket `width`, buckets without any event are counted too (as zero everywhere)."""
    if buckets.empty:
        return pd.DataFrame(columns=["cell", "hot_buckets", "buckets", "trend_z", "trend_p", "category"])
    table = buckets.pivot_table(index="cell", columns="bucket", values="events", aggfunc="sum", fill_value=0)
    if width is not None:
        table = table.reindex(columns=pd.date_range(table.columns.min(), table.columns.max(), freq=width), fill_value=0)
    if table.shape[1] < MIN_BUCKETS:
        raise ValueError(f"emerging hot spots need at least {MIN_BUCKETS} time buckets, not {table.shape[1]}")
    cells = table.index.to_numpy(np.uint64)
    values = table.to_numpy(np.float64)
    indptr, indices = neighbourhoods(cells, k)
    z = np.column_stack([_kernels.gi_star_z(indptr, indices, values[:, t].copy()) for t in range(values.shape[1])])
    hot = (z > 0) & (two_sided_p(z) < HOT_P)
    _, trend_z = _kernels.mann_kendall(np.ascontiguousarray(z))
    trend_p = two_sided_p(trend_z)
    return pd.DataFrame(
        {
            "cell": cells,
            "hot_buckets": hot.sum(axis=1),
            "buckets": hot.shape[1],
            "trend_z": trend_z,
            "trend_p": trend_p,
            "category": categories(hot, trend_z, trend_p),
        }
    )


def categories(hot: np.ndarray, trend_z: np.ndarray, trend_p: np.ndarray) -> np.ndarray:
    """The category of each row of `hot` (cells x buckets, booleans) given its Mann-Kendall trend."""
    share = hot.mean(axis=1)
    last = hot[:, -1]
    mostly = share >= MOSTLY
    trending = trend_p < HOT_P
    # length of the run of hot buckets ending with the last one, and whether any bucket before that run was hot
    run = np.argmin(np.concatenate([hot[:, ::-1], np.zeros((len(hot), 1), bool)], axis=1), axis=1)
    hot_before_run = np.array([row[: len(row) - n].any() for row, n in zip(hot, run, strict=True)], dtype=bool)
    out = np.full(len(hot), "none", dtype=object)
    out[hot.any(axis=1)] = "sporadic"
    out[mostly & last & ~trending] = "persistent"
    out[mostly & last & trending & (trend_z < 0)] = "diminishing"
    out[mostly & last & trending & (trend_z > 0)] = "intensifying"
    out[mostly & ~last] = "historical"
    out[(run >= 2) & ~hot_before_run & ~mostly] = "consecutive"
    out[(run == 1) & ~hot_before_run] = "new"
    return out
