"""The extractor's fast paths give what the plain readings give: IPv4 and IPv6 through the C library, the IPv4 benign
partition, IDN names label by label, and the cycle collector paused only while extracting."""

from __future__ import annotations

import gc
import ipaddress
import random
import re

import idna
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from core.intel import benign, names
from core.intel import extract as extract_module
from core.intel.extract import MAX_OFFSETS, extract, ipv6
from core.intel.refang import refang
from core.intel.values import ipv4


def _ipv4_reference(token: str) -> str | None:
    """A dotted quad in decimal, leading zeros decimal: the reading before the fast path."""
    parts = token.split(".")
    if len(parts) != 4 or max(map(len, parts)) > 3 or not token.replace(".", "").isascii():
        return None
    if not all(p.isdigit() for p in parts):
        return None
    octets = list(map(int, parts))
    return ".".join(map(str, octets)) if max(octets) <= 255 else None


def _ipv6_reference(token: str) -> str | None:
    """`extract.ipv6` through `ipaddress` alone: the reading before the fast path."""
    token = token.split("%", 1)[0]
    if not token.endswith("::"):
        token = token.rstrip(".:")
    groups = token.split(":")
    if len(groups) < 3 or not any(c not in ":." for c in token):
        return None
    if len(groups) == 8 and all(len(g) == 2 for g in groups):
        return None
    try:
        address = ipaddress.IPv6Address(token)
    except ValueError:
        return None
    mapped = address.ipv4_mapped
    return f"::ffff:{mapped}" if mapped is not None else address.compressed


_octet = st.one_of(st.integers(0, 999).map(str), st.from_regex(r"0[0-9]{1,2}", fullmatch=True), st.just(""))


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.lists(_octet, min_size=3, max_size=5).map(".".join), st.text("0123456789.١x", max_size=16)))
@example("010.001.002.003")
@example("1.2.3.4")
@example("256.1.1.1")
def test_ipv4_reads_as_the_plain_reading(token):
    assert ipv4(token) == _ipv4_reference(token)


_hextet = st.one_of(st.integers(0, 0xFFFF).map(lambda n: f"{n:x}"), st.sampled_from(["0", "00000", "ffff", "g", ""]))


@settings(max_examples=1000, deadline=None)
@given(
    st.one_of(
        st.lists(_hextet, min_size=2, max_size=9).map(":".join),
        st.integers(0, 2**128 - 1).map(lambda n: str(ipaddress.IPv6Address(n))),
        st.integers(0, 2**128 - 1).map(lambda n: ipaddress.IPv6Address(n).exploded),
        st.tuples(st.sampled_from(["::", "::ffff:", "64:ff9b::", "1::"]), st.integers(0, 2**32 - 1)).map(
            lambda t: t[0] + str(ipaddress.IPv4Address(t[1]))
        ),
        st.text("0123456789abcdefABCDEF:.%", max_size=45),
    )
)
@example("::2")
@example("::1.2.3.4")
@example("::ffff:1.2.3.4")
@example("::ffff:01.2.3.4")
@example("1:2:3:4:5:6:7::")
@example("fe80::1%eth0")
@example("2001:db8::1.")
def test_ipv6_reads_as_ipaddress_does(token):
    assert ipv6(token) == _ipv6_reference(token)


def test_the_ipv4_partition_gives_every_reason_the_range_lists_give():
    starts, _ = benign._ipv4_partition()
    rng = random.Random(0)
    probes = {0, 2**32 - 1} | {s + d for s in starts for d in (-1, 0, 1) if 0 <= s + d < 2**32}
    probes |= {rng.randrange(2**32) for _ in range(20_000)}
    for number in probes:
        address = str(ipaddress.IPv4Address(number))
        assert benign.ipv4_reason(address) == benign.ipv4_reason_of(number), address


def test_the_ipv6_partition_gives_every_reason_the_registry_ranges_give():
    starts, _ = benign._ipv6_partition()
    rng = random.Random(0)
    probes = {2**128 - 1} | {s + d for s in starts for d in (-1, 0, 1) if 0 <= s + d < 2**128}
    probes |= {rng.randrange(2**128) for _ in range(5_000)} | {
        rng.randrange(2**32) | 0xFFFF << 32 for _ in range(5_000)
    }
    probes |= {rng.randrange(2**112) | 0x2001 << 112 for _ in range(5_000)}
    for number in probes:
        address = ipaddress.IPv6Address(number)
        assert benign.ipv6_reason(address.packed) == benign.ipv6_reason_of(number), address
        assert benign.ipv6_reason(str(address)) == benign.ipv6_reason_of(number), address


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("2001:db8::1", "bogon"),  # documentation
        ("3fff::1", "bogon"),  # documentation, RFC 9637
        ("fe80::1", "bogon"),
        ("ff02::1", "bogon"),  # multicast
        ("::ffff:10.0.0.1", "bogon"),  # a mapped private IPv4 address
        ("2001:1::4", "bogon"),  # IETF protocol assignments
        ("2001:1::1", None),  # an anycast service inside them, global
        ("2001:4:112::5", None),  # AS112
        ("2a00:1450:4001::1", None),
    ],
)
def test_ipv6_reasons_follow_the_special_purpose_registry(address, reason):
    assert benign.ipv6_reason(address) == reason


def _to_ascii_reference(name: str) -> str | None:
    """`names.to_ascii` mapping the whole name at once: the reading before the label-by-label one."""
    name = name.rstrip(".")
    if not name or len(name) > names.MAX_NAME * 4:
        return None
    if name.isascii():
        name = name.lower()
    else:
        tld = name.rsplit(".", 1)[-1]
        if tld.isascii() and tld.lower() not in names.top_level_domains() and tld.lower() != "onion":
            return None
        try:
            mapped = idna.uts46_remap(name, std3_rules=False, transitional=False)
            name = ".".join(
                label if label.isascii() else "xn--" + label.encode("punycode").decode("ascii")
                for label in mapped.split(".")
            )
        except (idna.IDNAError, UnicodeError, ValueError):
            return None
    return name if len(name) <= names.MAX_NAME else None


_label = st.text(st.sampled_from("aZ9-ä\u00c4ß\u0301\u2488\uff21\u0130ç\u4e2d\u200d_"), min_size=0, max_size=8)


@settings(max_examples=1000, deadline=None)
@given(st.tuples(st.lists(_label, min_size=1, max_size=4), st.sampled_from(["com", "de", "xyz", "中国", "onion", ""])))
@example((["bu\u0308cher"], "de"))  # a combining mark composes with the letter before it (NFC)
@example((["\u2488a"], "com"))  # '⒈' maps to '1.': one written label, two mapped ones
def test_idn_names_map_label_by_label_as_the_whole_name_maps(parts):
    labels, tld = parts
    name = ".".join([*labels, tld])
    assert names.to_ascii(name) == _to_ascii_reference(name)


def test_a_url_host_is_one_place_of_its_domain():
    (domain,) = [i for i in extract("see http://evil.com/x and evil.com") if i.type == "domain"]
    assert domain.offsets == [(11, 19), (26, 34)]


@pytest.mark.parametrize("enabled", [True, False])
def test_extraction_leaves_the_cycle_collector_as_it_found_it(enabled):
    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        extract("1.2.3.4 evil.com http://evil.com/x")
        assert gc.isenabled() is enabled
    finally:
        gc.enable() if was else gc.disable()


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("a.[]()dot @ xhtp:/"), max_size=80), st.data())
def test_original_spans_map_each_end_as_original_does(text, data):
    refanged = refang(text)
    ends = st.integers(0, len(refanged.text))
    spans = data.draw(st.lists(st.tuples(ends, ends).map(sorted), max_size=6))
    flat = [offset for span in spans for offset in span]
    assert refanged.original_spans(flat) == [(refanged.original(s), refanged.original(e)) for s, e in spans]


@pytest.mark.parametrize(
    ("text", "kind", "value", "offsets"),
    [
        ("Download from http://evil.com.", "domain", "evil.com", [(21, 29)]),  # the host, then the name before '.'
        ("http://user:pass@evil.com/", "domain", "evil.com", [(17, 25)]),  # the host, then an e-mail's domain
        ("http://[::1]:80/", "ipv6", "::1", [(8, 11)]),
        ("http://1.2.3.4/x and 1.2.3.4", "ipv4", "1.2.3.4", [(7, 14), (21, 28)]),
        ("http://evil.com./x", "domain", "evil.com", [(7, 15)]),  # a host's trailing dot is not part of the name
    ],
)
def test_a_place_read_twice_is_one_offset(text, kind, value, offsets):
    (item,) = [i for i in extract(text) if i.type == kind]
    assert (item.value, item.offsets) == (value, offsets)


def test_places_read_twice_do_not_use_up_the_places_kept():
    text = "http://[2001:4860::1]/ " * 30 + "2001:4860::1 " * 30
    (address,) = [i for i in extract(text) if i.type == "ipv6"]
    assert len(address.offsets) == len(set(address.offsets)) == MAX_OFFSETS


def test_a_url_host_with_han_text_is_also_read_as_the_name_after_it():
    found = {(i.type, i.value) for i in extract("http://中国evil.com/x")}
    assert {("domain", "evil.com"), ("domain", "xn--evil-zf5fw08b.com")} <= found


def test_an_ipv4_reason_reads_leading_zeros_as_decimal():
    assert benign.ipv4_reason("010.0.0.1") == benign.ipv4_reason("10.0.0.1") == "bogon"


_CJK_LABELS_REFERENCE = re.compile(f"(?:\\.[{extract_module._CJK}][\\w-]*+)+$")


@settings(max_examples=500, deadline=None)
@given(st.lists(st.text(st.sampled_from("中한a-_9"), min_size=1, max_size=4), min_size=1, max_size=8).map(".".join))
def test_cjk_labels_are_cut_from_a_name_as_the_regular_expression_cut_them(name):
    text = f"x {name} y"
    start, end = 2, 2 + len(name)
    found = _CJK_LABELS_REFERENCE.search(text, start, end)
    assert extract_module._before_cjk_labels(text, start, end) == (end if found is None else found.start())
