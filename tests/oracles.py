"""Golden figures, each read from the oracle that published it (never typed into a test)."""

from __future__ import annotations

import json
from functools import cache

from tests.conftest import SHARED_DATA

NETWORK_2025 = "python-fbas/network-2025-01-03.json"  # shipped as data/fbas/stellar_2025-01-03 (the page default)


@cache
def wasm_results(snapshot: str) -> dict:
    """stellarbeat's WASM scanner's results for a shared FBAS snapshot (../shared/data/fbas/expected_wasm_dev.json)."""
    return json.loads((SHARED_DATA / "fbas" / "expected_wasm_dev.json").read_text())[snapshot]


def minimal_quorums_2025() -> str:
    """The 2025 network's count of minimal quorums, as the page prints it."""
    return str(wasm_results(NETWORK_2025)["mq"]["count"])
