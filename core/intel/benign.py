"""Why an indicator is benign: bogon and special-purpose addresses, CDN ranges, well-known hosts, documentation names.

Benign indicators are still reported (an internal address in a report matters to an analyst), flagged with the
reason, so matching and triage can leave them aside. The lists are maltrail's (`data/`, MIT, see its LICENSE).
"""

from __future__ import annotations

import bisect
import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from core.intel.names import DATA, is_documentation_domain

BOGON, CDN, WHITELIST, DOCUMENTATION = "bogon", "cdn", "whitelist", "documentation"


def _entries(name: str) -> list[str]:
    lines = (DATA / name).read_text("utf-8").splitlines()
    return [line.split("#", 1)[0].strip() for line in lines if line.split("#", 1)[0].strip()]


@dataclass(frozen=True)
class Ranges:
    """Sorted, merged address ranges as integer bounds: `contains` is a binary search."""

    starts: tuple[int, ...]
    ends: tuple[int, ...]

    @classmethod
    def of(cls, networks: list[ipaddress.IPv4Network] | list[ipaddress.IPv6Network]) -> Ranges:
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


def ipv4_reason_of(number: int) -> str | None:
    """Why the IPv4 address (as an integer) is benign (bogon, then cdn, then whitelist), or None."""
    bogons, cdns, listed, _ = _tables()
    if bogons.contains(number):
        return BOGON
    if cdns.contains(number):
        return CDN
    return WHITELIST if listed.contains(number) else None


def _partition(edges: set[int], reason_of: Callable[[int], str | None]) -> tuple[list[int], list[str | None]]:
    """An address space cut at `edges` (every range's first address and the one after its last): the first
    address of each piece and the piece's one reason, neighbours with the same reason merged."""
    starts: list[int] = []
    reasons: list[str | None] = []
    for edge in sorted(edges | {0}):
        reason = reason_of(edge)
        if not reasons or reason != reasons[-1]:
            starts.append(edge)
            reasons.append(reason)
    return starts, reasons


def _edges(ranges: Ranges) -> set[int]:
    return {*ranges.starts, *(end + 1 for end in ranges.ends)}


@lru_cache(maxsize=1)
def _ipv4_partition() -> tuple[list[int], list[str | None]]:
    tables = _tables()
    return _partition(set().union(*map(_edges, tables[:3])) - {2**32}, ipv4_reason_of)


def ipv4_reason(address: str) -> str | None:
    """`ipv4_reason_of` a dotted-decimal address (leading zeros decimal): one binary search of the partition."""
    try:
        number = int.from_bytes(socket.inet_pton(socket.AF_INET, address), "big")
    except OSError:  # leading zeros, which the C library refuses rather than read as octal
        a, b, c, d = map(int, address.split("."))
        number = (a << 24) | (b << 16) | (c << 8) | d
    return _ipv4_reason_fast(number)


def _ipv4_reason_fast(number: int) -> str | None:
    starts, reasons = _ipv4_partition()
    return reasons[bisect.bisect_right(starts, number) - 1]


# IANA's special-purpose IPv6 ranges that are not global (RFC 6890 and its updates, to RFC 9637 and RFC 9602), with
# multicast and the deprecated site-local range; IPv4-mapped addresses are judged as their IPv4 address.
SPECIAL_PURPOSE_V6 = (
    "::/128", "::1/128", "64:ff9b:1::/48", "100::/64", "100:0:0:1::/64", "2001::/23", "2001:2::/48", "2001:10::/28",
    "2001:db8::/32", "3fff::/20", "5f00::/16", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8",
)  # fmt: skip
# Ranges inside those that the registry marks global (anycast services, AMT, AS112, ORCHIDv2, DRIP).
GLOBAL_V6 = (
    "2001:1::1/128", "2001:1::2/128", "2001:1::3/128", "2001:3::/32", "2001:4:112::/48", "2001:20::/28",
    "2001:30::/28",
)  # fmt: skip
_IPV4_MAPPED = 0xFFFF << 32


@lru_cache(maxsize=1)
def _ipv6_ranges() -> tuple[Ranges, Ranges]:
    return tuple(Ranges.of([ipaddress.IPv6Network(n) for n in names]) for names in (SPECIAL_PURPOSE_V6, GLOBAL_V6))


def ipv6_reason_of(number: int) -> str | None:
    """Why the IPv6 address (as an integer) is benign (an IPv4-mapped one: its IPv4 address's reason), or None."""
    if number >> 32 == 0xFFFF:
        return ipv4_reason_of(number & 0xFFFFFFFF)
    special, inside = _ipv6_ranges()
    return BOGON if special.contains(number) and not inside.contains(number) else None


@lru_cache(maxsize=1)
def _ipv6_partition() -> tuple[list[int], list[str | None]]:
    edges = set().union(*map(_edges, _ipv6_ranges())) | {_IPV4_MAPPED, _IPV4_MAPPED + 2**32}
    return _partition(edges - {2**128}, ipv6_reason_of)


def ipv6_reason(address: str | bytes | ipaddress.IPv6Address) -> str | None:
    """`ipv6_reason_of` an address (text, 16 bytes or an address): one binary search of a partition."""
    number = int.from_bytes(address, "big") if isinstance(address, bytes) else int(ipaddress.IPv6Address(address))
    if number >> 32 == 0xFFFF:
        return _ipv4_reason_fast(number & 0xFFFFFFFF)
    starts, reasons = _ipv6_partition()
    return reasons[bisect.bisect_right(starts, number) - 1]


@lru_cache(maxsize=65536)
def domain_reason(name: str) -> str | None:
    """Why the domain is benign (documentation name, or it or a parent is on the whitelist), or None."""
    if is_documentation_domain(name):
        return DOCUMENTATION
    hosts = _tables()[3]
    labels = name.split(".")
    return WHITELIST if any(".".join(labels[i:]) in hosts for i in range(len(labels) - 1)) else None
