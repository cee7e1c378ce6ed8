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


# IANA's special-purpose IPv4 ranges that are not global (RFC 6890 and its updates), beside maltrail's bogons
SPECIAL_PURPOSE = (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24",
    "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24",
    "224.0.0.0/4", "240.0.0.0/4",
)  # fmt: skip


@lru_cache(maxsize=1)
def _tables() -> tuple[Ranges, Ranges, Ranges, frozenset[str]]:
    whitelist = _entries("whitelist.txt")
    hosts = frozenset(e.lower() for e in whitelist if any(c.isalpha() for c in e) and ":" not in e and "/" not in e)
    special = [ipaddress.IPv4Network(n) for n in SPECIAL_PURPOSE]
    return (
        Ranges.of(_networks("bogon_ranges.txt") + special),
        Ranges.of(_networks("cdn_ranges.txt")),
        Ranges.of(_networks("whitelist.txt")),
        hosts,
    )


def ipv4_reason(address: str) -> str | None:
    """Why the IPv4 address (dotted decimal) is benign (bogon, cdn, whitelist), or None."""
    a, b, c, d = (int(octet) for octet in address.split("."))
    value = (a << 24) | (b << 16) | (c << 8) | d
    bogons, cdns, listed, _ = _tables()
    if bogons.contains(value):
        return BOGON
    if cdns.contains(value):
        return CDN
    return WHITELIST if listed.contains(value) else None


_DOCUMENTATION_V6 = ipaddress.IPv6Network("2001:db8::/32")


def ipv6_reason(address: str | ipaddress.IPv6Address) -> str | None:
    """Why the IPv6 address is benign (bogon: loopback, link-local, unique-local, documentation...), or None."""
    ip = ipaddress.IPv6Address(address)
    return BOGON if not ip.is_global or ip in _DOCUMENTATION_V6 else None


@lru_cache(maxsize=65536)
def domain_reason(name: str) -> str | None:
    """Why the domain is benign (documentation name, or it or a parent is on the whitelist), or None."""
    if is_documentation_domain(name):
        return DOCUMENTATION
    hosts = _tables()[3]
    labels = name.split(".")
    return WHITELIST if any(".".join(labels[i:]) in hosts for i in range(len(labels) - 1)) else None
