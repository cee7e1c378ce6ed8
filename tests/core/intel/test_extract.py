"""Extraction: every dev case, the normal forms, benign flags, offsets into the original text, hostile text."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.intel.extract import TYPES, by_type, extract
from core.intel.refang import refang


def _cases(shared_data):
    lines = (shared_data / "intel" / "ioc_cases_dev.jsonl").read_text("utf-8").splitlines()
    return [json.loads(line) for line in lines]


def _comparable(kind: str, value: str) -> str:
    return value.rstrip("/") if kind == "url" else value  # the cases allow one trailing '/' either way


def test_every_dev_case_passes(shared_data):
    failures = []
    cases = _cases(shared_data)
    assert len(cases) == 60
    for case in cases:
        found = by_type(extract(case["text"]))
        for kind, values in case["expected"].items():
            missing = {_comparable(kind, v) for v in values} - {_comparable(kind, v) for v in found[kind]}
            if missing:
                failures.append((case["id"], "missing", kind, sorted(missing)))
        for kind, values in case["forbidden"].items():
            if reported := set(values) & set(found[kind]):
                failures.append((case["id"], "forbidden", kind, sorted(reported)))
    assert failures == []


def test_a_defanged_domain_is_a_domain_not_a_url():
    found = by_type(extract("C2: news-feed(.)club and hxxp://update-checker[.]top/gate.php"))
    assert found["domain"] == ["news-feed.club", "update-checker.top"]
    assert found["url"] == ["http://update-checker.top/gate.php"]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("10.0.4.21", "bogon"),
        ("169.254.169.254", "bogon"),
        ("2001:db8::1", "bogon"),
        ("www.example.com", "documentation"),
    ],
)
def test_benign_indicators_are_reported_and_flagged(text, reason):
    (item,) = extract(f"seen: {text} today")
    assert item.benign == reason


def test_a_public_address_is_not_flagged():
    (item,) = extract("beacon to 91.92.245.12 every minute")
    assert (item.type, item.value, item.benign) == ("ipv4", "91.92.245.12", None)


def test_a_cdn_address_is_flagged_cdn():
    (item,) = extract("resolved to 173.245.48.1")  # Cloudflare, in maltrail's CDN ranges
    assert item.benign == "cdn"


def test_offsets_point_into_the_original_text():
    text = "x hxxps://files[.]evil-dl[.]net/a and evil-dl[.]net, mail ops[@]evil-dl[.]net"
    for item in extract(text):
        for start, end in item.offsets:
            written = refang(text[start:end]).text.lower()
            assert item.value.split("://")[-1].split("@")[-1] in written or written in item.value


def test_offsets_of_every_occurrence_are_kept():
    text = "evil-panel[.]com then EVIL-PANEL[DOT]COM then evil-panel(.)com"
    (item,) = extract(text)
    assert [text[s:e] for s, e in item.offsets] == ["evil-panel[.]com", "EVIL-PANEL[DOT]COM", "evil-panel(.)com"]


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("a1.:@/[]()-_ \n%#?=xX0fF"), max_size=300))
def test_any_text_gives_typed_normalised_indicators(text):
    for item in extract(text):
        assert item.type in TYPES
        assert item.value == item.value.strip()
        assert item.offsets and all(0 <= s < e <= len(text) for s, e in item.offsets)
        if item.type == "domain":
            assert item.value == item.value.lower() and "/" not in item.value


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_refanging_maps_every_offset_into_the_original(text):
    refanged = refang(text)
    for offset in range(len(refanged.text) + 1):
        assert 0 <= refanged.original(offset) <= len(text)


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        (
            "hxxp://evil[.]com/dl/loader[.]sh and evil[.]com/payload[.]zip",
            "domain",
            ["evil.com"],
        ),  # paths are not hosts
        ("invoice.pdf.zip setup.x64.sh report.doc.mov System.IO AES.new(key) UsrClass.data", "domain", []),
        ("[http://a.com](http://b.com/path)", "url", ["http://a.com", "http://b.com/path"]),  # a markdown link's target
        ("a dot (.) is enforced; Figure 3 . In this case", "domain", []),  # prose, not spaced defangs
        ("first.name+news@gmail.com", "domain", ["gmail.com"]),  # a local part is not a domain
        (r"\\evil[.]com@SSL\DavWWWRoot\a.lnk", "domain", ["evil.com"]),  # a WebDAV UNC host
        ("http://a.com/?to=bob@evil.com", "domain", ["a.com", "evil.com"]),
        ("android.googleapis.com and com.tencent.mm", "domain", ["android.googleapis.com"]),
        ("恶意域名evil[.]com。访问", "domain", ["evil.com"]),
        ("hxxp://sunduk[.]biz/forum/docs/\n[![](/cdn-cgi/x.png)](/y.png)", "url", ["http://sunduk.biz/forum/docs/"]),
        ("http://a.com/\r\nlong/path", "url", ["http://a.com/long/path"]),
        ("http://a.com/\xa0\nupdate.php?id=3", "url", ["http://a.com/update.php?id=3"]),  # a wrapped query
        # a URL ending in '/' at a line's end is not glued to the next URL, nor to prose, nor to a host and port
        (
            "https://b1.example.com/\xa0\nhttps://b2.example.com/",
            "url",
            ["https://b1.example.com/", "https://b2.example.com/"],
        ),
        ("hxxp://a[.]com/\nhxxp://b[.]com/x", "url", ["http://a.com/", "http://b.com/x"]),
        ("hxxp://a[.]com/ajax/\nThe bulk of them. Afterwards.", "url", ["http://a.com/ajax/"]),
        ("http://a.com/\nb.com:8080/x", "url", ["http://a.com/"]),
        ("http://a.com/\nevil.com/gate.php and http://a.com/x/\n6.Type", "url", ["http://a.com/", "http://a.com/x/"]),
        ("hxxps://a[.]org/d/8812/ \nstage2[.]bin", "url", ["https://a.org/d/8812/stage2.bin"]),  # a wrapped file name
        ("http://www.col·legi.cat/index.html", "domain", ["www.xn--collegi-xma.cat"]),  # a middle dot inside a name
        ("| ·  hxxp://a[.]in/p/1;0·  hxxp://a[.]in/p/2 |", "url", ["http://a.in/p/1;0", "http://a.in/p/2"]),  # bullets
        ("T0011 (TA0011 mistyped), T0801, T1059.001 and T0999", "attack_technique", ["T0801", "T0999", "T1059.001"]),
        ("CVE-2021-٤٤٢٢٨ and T١٠٥٩", "cve", []),  # ASCII digits only
        ("v 1.2.3.4 and Version: 5.6.7.8", "ipv4", []),
        ("::ffff:1.2.3.4 and 00:1A:2B:3C:4D:5E:6F:70", "ipv6", ["::ffff:1.2.3.4"]),
    ],
)
def test_review_findings(text, kind, expected):
    assert by_type(extract(text))[kind] == expected


@pytest.mark.parametrize(
    ("text", "value", "written"),
    [
        ("hxxp://evil[.]com[/] x", "http://evil.com/", "hxxp://evil[.]com[/]"),
        ("2001:db8::1[:] x", "2001:db8::1", "2001:db8::1"),
        ("http://a.com/\nlong/path/file.php x", "http://a.com/long/path/file.php", "http://a.com/\nlong/path/file.php"),
        ("http://@evil.com/x", "evil.com", "evil.com"),
    ],
)
def test_offsets_cover_the_written_indicator(text, value, written):
    (item,) = [i for i in extract(text) if i.value == value]
    start, end = item.offsets[0]
    assert text[start:end] == written
