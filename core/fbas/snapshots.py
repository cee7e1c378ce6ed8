"""The FBAS snapshots shipped in data/fbas (see its README)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

FOLDER = Path(__file__).resolve().parent.parent.parent / "data" / "fbas"


@dataclass(frozen=True)
class Snapshot:
    """A shipped nodes file, with its organizations file if there is one."""

    label: str
    nodes: str
    organizations: str | None = None

    def read(self) -> tuple[bytes, bytes | None]:
        organizations = (FOLDER / self.organizations).read_bytes() if self.organizations else None
        return (FOLDER / self.nodes).read_bytes(), organizations


SNAPSHOTS = (
    Snapshot(
        "Stellar public network, 2025-01-03", "stellar_2025-01-03_nodes.json", "stellar_2025-01-03_organizations.json"
    ),
    Snapshot(
        "Stellar public network, 2019-09-17", "stellar_2019-09-17_nodes.json", "stellar_2019-09-17_organizations.json"
    ),
    Snapshot("MobileCoin, 2021-10-22", "mobilecoin_2021-10-22_nodes.json"),
    Snapshot("Stellar, June 2018 (no quorum intersection)", "stellar_2018-06_broken_nodes.json"),
)
