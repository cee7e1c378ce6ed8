"""Why an indicator is benign: bogon and special-purpose addresses, CDN ranges, well-known hosts, documentation names.

Benign indicators are still reported (an internal address in a report matters to an analyst), flagged with the
reason, so matching and triage can leave them aside. The lists are maltrail's (`data/`, MIT, see its LICENSE).
"""

from __future__ import annotations

import bisect
import ipaddress
from dataclasses import dataclass
from functools import lru_cache

from core.intel.names import DATA, is_documentation_domain

BOGON, CDN, WHITELIST, DOCUMENTATION = "bogon", "cdn", "whitelist", "documentation"


def _entries(name: str) -> list[str]:
    lines = (DATA / name).read_text("utf-8").splitlines()
    return [line.split("#", 1)[0].strip() for line in lines if line.split("#", 1)[0].strip()]


@dataclass(frozen=True)
class Ranges:
    """Sorted, merged IPv4 ranges as integer bounds: `contains` is a binary search."""

    starts: tuple[int, ...]
    ends: tuple[int, ...]

    @classmethod
    def of(cls, networks: list[ipaddress.IPv4Network]) -> Ranges:
        spans = sorted((int(n.network_address), int(n.broadcast_address)) for n in networks)
        starts: list[int] = []
        ends: list[int] = []
        for start, end in spans:
            if ends and start <= ends[-1] + 1:
                ends[-1] = max(ends[-1], end)
            else:
                starts.append(start)
                ends.append(end)
        return cls(tuple(starts), tuple(ends))

    def contains(self, address: int) -> bool:
        i = bisect.bisect_right(self.starts, address) - 1
        return i >= 0 and address <= self.ends[i]


def _networks(name: str) -> list[ipaddress.IPv4Network]:
    networks = []
    for entry in _entries(name):
        try:
            networks.append(ipaddress.IPv4Network(entry, strict=False))
        except ValueError:
            continue  # host names and odd lines of the whitelist
    return networks


@lru_cache(maxsize=1)
def _tables() -> tuple[Ranges, Ranges, Ranges, frozenset[str]]:
    whitelist = _entries("whitelist.txt")
    hosts = frozenset(e.lower() for e in whitelist if any(c.isalpha() for c in e) and ":" not in e and "/" not in e)
    return (
        Ranges.of(_networks("bogon_ranges.txt")),
        Ranges.of(_networks("cdn_ranges.txt")),
        Ranges.of(_networks("whitelist.txt")),
        hosts,
    )


@lru_cache(maxsize=65536)
def ipv4_reason(address: str) -> str | None:
    """Why the IPv4 address is benign (bogon, cdn, whitelist), or None."""
    ip = ipaddress.IPv4Address(address)
    bogons, cdns, listed, _ = _tables()
    value = int(ip)
    if bogons.contains(value) or not ip.is_global:
        return BOGON
    if cdns.contains(value):
        return CDN
    return WHITELIST if listed.contains(value) else None


@lru_cache(maxsize=8192)
def ipv6_reason(address: str) -> str | None:
    """Why the IPv6 address is benign (bogon: loopback, link-local, unique-local, documentation...), or None."""
    ip = ipaddress.IPv6Address(address)
    return BOGON if not ip.is_global or ip in ipaddress.IPv6Network("2001:db8::/32") else None


@lru_cache(maxsize=65536)
def domain_reason(name: str) -> str | None:
    """Why the domain is benign (documentation name, or it or a parent is on the whitelist), or None."""
    if is_documentation_domain(name):
        return DOCUMENTATION
    hosts = _tables()[3]
    labels = name.split(".")
    return WHITELIST if any(".".join(labels[i:]) in hosts for i in range(len(labels) - 1)) else None
