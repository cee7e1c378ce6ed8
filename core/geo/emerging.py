"""Emerging hot spots: how each cell's Gi* hot-spot status moves across time buckets (after ArcGIS's categories).

For T time buckets, Gi* is computed per bucket over the same study area (every cell seen in any bucket, zero events
where a bucket has none) and k-ring neighbourhoods; the Mann-Kendall test on each cell's z-series gives its trend.
A cell is *hot* in a bucket when Gi* is significant at 95 % with z > 0. Categories:
- new: hot in the last bucket and never before;
- intensifying: hot in at least 90 % of the buckets, the last included, and z trending up (Mann-Kendall p < 0.05);
- persistent: hot in at least 90 % of the buckets, no significant trend;
- diminishing: hot in at least 90 % of the buckets, the last included, and z trending down;
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
MIN_BUCKETS = 3


def emerging_hot_spots(buckets: pd.DataFrame, *, k: int = 1) -> pd.DataFrame:
    """Per cell: hot buckets, trend z and p, category. `buckets` has columns cell, bucket and events."""
    if buckets.empty:
        return pd.DataFrame(columns=["cell", "hot_buckets", "buckets", "trend_z", "trend_p", "category"])
    table = buckets.pivot_table(index="cell", columns="bucket", values="events", aggfunc="sum", fill_value=0)
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
    before = hot[:, :-1].any(axis=1)
    mostly = share >= MOSTLY
    trending = trend_p < HOT_P
    out = np.full(len(hot), "none", dtype=object)
    out[hot.any(axis=1)] = "sporadic"
    out[mostly & ~trending] = "persistent"
    out[mostly & last & trending & (trend_z < 0)] = "diminishing"
    out[mostly & last & trending & (trend_z > 0)] = "intensifying"
    out[last & ~before] = "new"
    return out
