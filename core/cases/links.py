"""Links between entities that name overlapping things: an IP inside a CIDR, an IP seen inside an H3 cell."""

from __future__ import annotations

import bisect
import ipaddress

import h3
import pandas as pd

LINK_COLUMNS = ["kind", "value", "linked_kind", "linked_value", "relation"]


def ip_in_cidr(ips: list[str], cidrs: list[str]) -> pd.DataFrame:
    """(ip, cidr) for every IP inside a network: each network's range found by binary search over the sorted IPs."""
    rows: list[tuple[str, str]] = []
    for version in (4, 6):
        addresses = sorted(
            (int(ipaddress.ip_address(ip)), ip) for ip in ips if ipaddress.ip_address(ip).version == version
        )
        numbers = [n for n, _ in addresses]
        for cidr in cidrs:
            network = ipaddress.ip_network(cidr)
            if network.version != version:
                continue
            low = bisect.bisect_left(numbers, int(network.network_address))
            high = bisect.bisect_right(numbers, int(network.broadcast_address))
            rows.extend((ip, cidr) for _, ip in addresses[low:high])
    return pd.DataFrame(rows, columns=["ip", "cidr"])


def ip_in_cell(located: pd.DataFrame, cells: list[str]) -> pd.DataFrame:
    """(ip, cell) for every located IP (columns value, lat, lon) whose position lies inside one of `cells`."""
    wanted = set(cells)
    rows: list[tuple[str, str]] = []
    for resolution in sorted({h3.get_resolution(c) for c in wanted}):
        for ip, lat, lon in located[["value", "lat", "lon"]].itertuples(index=False):
            cell = h3.latlng_to_cell(lat, lon, resolution)
            if cell in wanted:
                rows.append((ip, cell))
    return pd.DataFrame(rows, columns=["ip", "cell"]).drop_duplicates()


def entity_links(entities: pd.DataFrame) -> pd.DataFrame:
    """Every link among `entities` (kind, value, lat, lon), written in both directions."""
    ips = entities.loc[entities["kind"] == "ip"]
    cidrs = entities.loc[entities["kind"] == "cidr", "value"].drop_duplicates().tolist()
    cells = entities.loc[entities["kind"] == "h3", "value"].drop_duplicates().tolist()
    parts = []
    if cidrs and len(ips):
        pairs = ip_in_cidr(ips["value"].drop_duplicates().tolist(), cidrs)
        parts.append(_both_ways(pairs["ip"], "ip", pairs["cidr"], "cidr", "inside"))
    located = ips.dropna(subset=["lat", "lon"])
    if cells and len(located):
        pairs = ip_in_cell(located.drop_duplicates(subset=["value", "lat", "lon"]), cells)
        parts.append(_both_ways(pairs["ip"], "ip", pairs["cell"], "h3", "seen in"))
    if not parts:
        return pd.DataFrame(columns=LINK_COLUMNS)
    return pd.concat(parts, ignore_index=True).drop_duplicates()


def _both_ways(inner: pd.Series, inner_kind: str, outer: pd.Series, outer_kind: str, relation: str) -> pd.DataFrame:
    if not len(inner):
        return pd.DataFrame(columns=LINK_COLUMNS)
    forward = pd.DataFrame({"kind": inner_kind, "value": inner.to_numpy(), "linked_kind": outer_kind,
                            "linked_value": outer.to_numpy(), "relation": relation})  # fmt: skip
    backward = pd.DataFrame({"kind": outer_kind, "value": outer.to_numpy(), "linked_kind": inner_kind,
                             "linked_value": inner.to_numpy(), "relation": "contains"})  # fmt: skip
    return pd.concat([forward, backward], ignore_index=True)
