"""The matching kernels against plain Python references, held equal by hypothesis."""

from __future__ import annotations

import bisect
import ipaddress

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from core.intel import _kernels
from core.intel.match import CidrIndex, DomainIndex, ipv4_numbers

labels = st.text(alphabet="abcx-1", min_size=1, max_size=4)
names = st.lists(labels, min_size=1, max_size=4).map(".".join)
addresses = st.integers(0, 2**32 - 1)


def _dotted(address: int) -> str:
    return str(ipaddress.IPv4Address(address))


@settings(max_examples=200, deadline=None)
@given(st.lists(addresses, max_size=50), st.lists(addresses, max_size=50))
def test_sorted_member_is_exact_membership(keys, queries):
    keys_sorted = np.unique(np.array(keys, np.int64))
    found = _kernels.sorted_member(keys_sorted, np.array(queries, np.int64))
    for query, index in zip(queries, found, strict=True):
        at = bisect.bisect_left(list(keys_sorted), query)
        expected = at if at < len(keys_sorted) and keys_sorted[at] == query else -1
        assert index == expected


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(addresses, st.integers(8, 32)), max_size=12), st.lists(addresses, max_size=40))
def test_cidr_lookup_finds_the_most_specific_covering_range(ranges, queries):
    networks = [str(ipaddress.IPv4Network((a, p), strict=False)) for a, p in ranges]
    index = CidrIndex.build(networks)
    found = index.lookup(np.array(queries, np.int64))
    for query, owner in zip(queries, found, strict=True):
        covering = [
            ipaddress.IPv4Network(n) for n in set(networks) if ipaddress.IPv4Address(query) in ipaddress.IPv4Network(n)
        ]
        if not covering:
            assert owner == -1
        else:
            assert ipaddress.IPv4Network(index.networks[owner]).prefixlen == max(n.prefixlen for n in covering)
            assert ipaddress.IPv4Address(query) in ipaddress.IPv4Network(index.networks[owner])


def _reference_lookup(indexed: set[str], query: str) -> str | None:
    """The longest of the name and its parents that is indexed (whole labels only)."""
    labels_ = query.lower().rstrip(".").split(".")
    for i in range(len(labels_)):
        candidate = ".".join(labels_[i:])
        if candidate in indexed:
            return candidate
    return None


@settings(max_examples=200, deadline=None)
@given(st.lists(names, max_size=20, unique=True), st.lists(names, max_size=30))
def test_domain_lookup_matches_the_name_or_its_longest_indexed_parent(indexed, queries):
    index = DomainIndex.build(indexed)
    found = index.lookup(queries)
    assert [f for f in found] == [_reference_lookup(set(indexed), q) for q in queries]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(st.text(alphabet="0123456789.", max_size=16), addresses.map(lambda a: str(ipaddress.IPv4Address(a)))),
        max_size=30,
    )
)
def test_ipv4_parsing_matches_the_standard_library(values):
    parsed = ipv4_numbers(values)
    for value, number in zip(values, parsed, strict=True):
        parts = value.split(".")
        valid = len(parts) == 4 and all(p.isdigit() and len(p) <= 3 and int(p) <= 255 for p in parts)
        assert number == (int(ipaddress.IPv4Address(".".join(str(int(p)) for p in parts))) if valid else -1)
