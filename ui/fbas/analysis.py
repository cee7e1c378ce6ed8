"""The FBAS page's analysis: one scan per FBAS content, cached for the process. The one cache that is not
Streamlit's (the pages' idiom: st.cache_data keyed by the warehouse path and the data's version): it runs on a
worker thread, where Streamlit's caches do not apply."""

from __future__ import annotations

import json
from functools import lru_cache

from core.fbas.analysis import MissingQset
from core.fbas.model import loads
from core.fbas.results import Scan
from core.fbas.scan import faulty_nodes, scan

MERGES = {"Node": "node", "Organization": "organization", "Country": "country", "ISP": "isp"}
SCAN_SECONDS = 20  # the page's default time for one scan: every analysis complete or fallen back by then
MAX_SCAN_SECONDS = 600


@lru_cache(maxsize=24)
def scan_for_page(
    nodes_json: str, organizations: str, parity: bool, field: str, missing_qset: MissingQset, *, seconds: float
) -> Scan:
    """Every analysis for every grouping (and `field`) of a stellarbeat nodes JSON with organizations, within
    `seconds`; an analysis that runs out falls back on its own (see the scan's `analyses`)."""
    fbas = loads(nodes_json)
    fbas.organizations.update(json.loads(organizations))
    return scan(
        fbas,
        merges=list(dict.fromkeys([*MERGES.values(), field])),
        faulty=faulty_nodes(fbas, "auto"),
        missing_qset=missing_qset,
        stellarbeat_parity=parity,
        max_sets=1_000_000,
        seconds=seconds,
    )
