"""Feeds into the warehouse: the shared feeds, an analyst's CSV, STIX and MISP files; upserts; hostile files."""

from __future__ import annotations

import contextlib
import gzip
import json
from datetime import datetime

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.intel import feeds, service, stix
from core.intel.feeds import FeedError
from core.intel.store import IntelStore
from core.safejson import JsonInputError
from core.warehouse import WarehouseError


def test_ipsum_reads_every_address_with_its_blacklist_count(shared_data):
    feed = feeds.read_ipsum(shared_data / "intel" / "ipsum.txt.gz")
    assert len(feed.indicators) == 120_430 and feed.skipped == 0
    assert feed.published == datetime(2026, 8, 22, 1, 0, 29)
    top = feed.indicators.set_index("value").loc["77.90.185.20"]
    assert (top["type"], top["confidence"], top["tags"]) == ("ipv4", 100, "blacklists:10")


def test_maltrail_keeps_families_ports_and_skips_bare_paths(shared_data):
    feed = feeds.read_maltrail(shared_data / "intel" / "maltrail_static_trails.csv.gz")
    table = feed.indicators
    assert set(table["type"]) == {"domain", "ipv4", "url"}
    assert (table["type"] == "domain").sum() > 1_000_000
    row = table[(table["value"] == "51.210.1.239")].iloc[0]
    assert row["family"] == "365stealer_phishtool" and "port:8443" in row["tags"]
    assert not table["value"].str.startswith("/").any() and feed.skipped > 0


def test_signature_base_lists_are_typed(shared_data):
    hashes = feeds.read_signature_hashes(shared_data / "intel" / "signature-base_hash-iocs.txt").indicators
    assert set(hashes["type"]) == {"md5", "sha1", "sha256"} and hashes["family"].notna().all()
    c2 = feeds.read_signature_c2(shared_data / "intel" / "signature-base_c2-iocs.txt").indicators
    snowman = c2[c2["value"] == "suroot.com"].iloc[0]
    assert snowman["type"] == "domain" and "Snowman" in snowman["family"]


def test_a_csv_feed_infers_types_and_keeps_provenance():
    data = b"indicator,family,confidence\nhttp://bad.example.net/x,FamX,90\n203.0.113.0/24,Scan,40\n"
    feed = feeds.read_csv_indicators(data + b"bad.example.org,,\nnot an ioc,,\n", "mine.csv")
    table = feed.indicators.set_index("value")
    assert (
        table.loc["http://bad.example.net/x", "type"] == "url"
        and table.loc["http://bad.example.net/x", "family"] == "FamX"
    )
    assert table.loc["203.0.113.0/24", "type"] == "cidr"
    assert table.loc["bad.example.org", "confidence"] == 50
    assert feed.skipped == 1


def _bundle() -> bytes:
    objects = [
        {"type": "indicator", "id": "indicator--1", "name": "Emotet C2", "pattern_type": "stix",
         "pattern": "[ipv4-addr:value = '198.51.100.7'] OR [domain-name:value = 'c2.example.net']",
         "valid_from": "2026-01-02T00:00:00Z", "confidence": 85},
        {"type": "indicator", "id": "indicator--2", "pattern_type": "stix",
         "pattern": "[file:hashes.'SHA-256' = '" + "ab" * 32 + "']"},
        {"type": "domain-name", "id": "domain-name--3", "value": "drop.example.org"},
        {"type": "malware", "id": "malware--4", "name": "Emotet"},
    ]  # fmt: skip
    return json.dumps({"type": "bundle", "id": "bundle--x", "objects": objects}).encode()


def test_a_stix_bundle_gives_its_patterns_and_observables():
    table = stix.read_stix(_bundle(), "b.json").indicators.set_index("value")
    assert table.loc["198.51.100.7", "confidence"] == 85 and table.loc["198.51.100.7", "family"] == "Emotet C2"
    assert table.loc["c2.example.net", "type"] == "domain"
    assert table.loc["ab" * 32, "type"] == "sha256"
    assert "drop.example.org" in table.index


def test_a_stix_export_reads_back_to_the_same_indicators():
    table = stix.read_stix(_bundle(), "b.json").indicators
    again = stix.read_stix(stix.to_stix_bundle(table).encode(), "again.json").indicators
    assert sorted(zip(again["type"], again["value"], strict=True)) == sorted(
        zip(table["type"], table["value"], strict=True)
    )


def test_a_misp_event_gives_attributes_and_object_attributes():
    event = {"Event": {"info": "Phishing wave", "Tag": [{"name": "tlp:amber"}],
        "Attribute": [{"type": "ip-dst|port", "value": "198.51.100.9|443", "to_ids": True, "timestamp": "1700000000"},
                      {"type": "filename|md5", "value": "a.exe|" + "c" * 32}, {"type": "comment", "value": "x"}],
        "Object": [{"Attribute": [{"type": "url", "value": "https://phish.example.com/login"}]}]}}  # fmt: skip
    feed = stix.read_misp(json.dumps(event).encode(), "e.json")
    table = feed.indicators.set_index("value")
    assert table.loc["198.51.100.9", "confidence"] == 80 and table.loc["198.51.100.9", "tags"] == "tlp:amber"
    assert table.loc["c" * 32, "type"] == "md5" and "https://phish.example.com/login" in table.index
    assert feed.skipped == 1


@pytest.mark.parametrize(
    ("data", "reader"),
    [
        (b"[" * 100 + b"]" * 100, stix.read_stix),
        (b'{"type": "bundle", "objects": 5}', stix.read_stix),
        (b"\x00\x01binary", feeds.read_csv_indicators),
        (b"\xff\xfe not utf8", feeds.read_csv_indicators),
        (b"a,b\n1,2\n", feeds.read_csv_indicators),
        (b'{"Event": {"Attribute": "nope"}}', stix.read_misp),
        (b'{"type": "bundle", "objects": [{"type": "indicator", "pattern": "[x:y = 1]"}]}', stix.read_stix),
    ],
)
def test_hostile_or_wrong_files_are_refused_with_one_message(data, reader):
    with pytest.raises((FeedError, JsonInputError)) as refused:
        reader(data, "f")
    assert "\n" not in str(refused.value) and len(str(refused.value)) < 300


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=400))
def test_any_bytes_either_read_or_are_refused_cleanly(data):
    for reader in (feeds.read_csv_indicators, stix.read_stix, stix.read_misp):
        try:
            feed = reader(data, "f")
        except (FeedError, JsonInputError):
            continue
        assert set(feed.indicators.columns) == set(feeds.FEED_COLUMNS)


def test_reloading_a_feed_upserts_all_or_nothing(warehouse):
    store = IntelStore(warehouse)
    old = b"value,first_seen,last_seen\n198.51.100.1,2026-01-01,2026-01-05\n198.51.100.2,2026-01-01,2026-01-05\n"
    first = feeds.read_csv_indicators(old, "a.csv")
    store.load_feed("mine", "csv", "test", first, "x")
    second = feeds.read_csv_indicators(b"value,confidence\n198.51.100.2,90\n198.51.100.3,70\n", "b.csv")
    assert store.load_feed("mine", "csv", "test", second, "y") == 3
    table = store.indicators().set_index("value")
    assert table.loc["198.51.100.2", "first_seen"] == datetime(2026, 1, 1)  # first seen kept
    assert table.loc["198.51.100.2", "confidence"] == 90  # refreshed
    assert table.loc["198.51.100.1", "last_seen"] == datetime(2026, 1, 5)  # dropped by the feed: kept as it was
    assert table.loc["198.51.100.2", "last_seen"] > datetime(2026, 1, 5)  # seen again: now
    broken = feeds.Feed(second.indicators.assign(confidence="not a number"))
    with pytest.raises(WarehouseError, match="could not be loaded"):
        store.load_feed("mine", "csv", "test", broken, "z")
    assert len(store.indicators()) == 3 and store.feeds()["sha256"].tolist() == ["y"]


def test_feed_ages_flag_a_stale_feed(warehouse, shared_data):
    store = IntelStore(warehouse)
    service.load_known_feed(store, service.KNOWN_FEEDS[0])
    ages = service.feed_ages(store, now=datetime(2026, 12, 3))
    assert ages.loc[0, "stale"] and ages.loc[0, "age_days"] > 100


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12) | st.sampled_from(["ip-dst", "1.2.3.4"]),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(["type", "value", "Attribute", "Object", "Tag", "timestamp", "objects", "pattern", "name",
                         "labels", "Event", "info", "first_seen", "confidence"]), children, max_size=5),
    max_leaves=20,
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_any_json_shape_is_read_or_refused_cleanly(document):
    data = json.dumps(document).encode()
    for reader in (stix.read_stix, stix.read_misp, stix.read_json_feed):
        with contextlib.suppress(FeedError, JsonInputError):  # a refusal is fine; anything else fails the test
            reader(data, "f")


@pytest.mark.parametrize(
    "event",
    [
        {"Event": {"Attribute": [{"type": "ip-dst", "value": "1.2.3.4", "timestamp": "999999999999"}]}},
        {"Event": {"Attribute": [{"type": "ip-dst", "value": "1.2.3.4", "timestamp": "²"}]}},
        {"Event": {"Attribute": [{"type": "ip-dst", "value": "1.2.3.4"}], "Tag": 1.5}},
        {"Event": {"Attribute": [{"type": ["ip-src"], "value": "1.2.3.5"}, {"type": "ip-src", "value": "1.2.3.4"}]}},
        {"Event": {"info": "\ud800x", "Attribute": [{"type": "ip-dst", "value": "1.2.3.4"}]}},
    ],
)
def test_odd_misp_fields_are_skipped_not_fatal(event):
    assert stix.read_misp(json.dumps(event).encode(), "e.json").indicators["value"].tolist() == ["1.2.3.4"]


@pytest.mark.parametrize("size", [0, 1, 2**20 - 1, 2**20, 2**20 + 1, 3 * 2**20 + 5])
def test_a_feed_file_is_read_whole_up_to_its_limit_and_refused_past_it(tmp_path, size):
    data = (b"1.2.3.4\t3\n" * (size // 10 + 1))[:size]
    limit = 2**20
    for path in (tmp_path / "f.txt", tmp_path / "f.txt.gz"):
        path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)
        if size > limit:
            with pytest.raises(FeedError, match="larger than"):
                feeds.read_text(path, limit)
        else:
            assert feeds.read_text(path, limit) == data.decode()


@given(
    st.lists(
        st.tuples(st.sampled_from(["ipv4", "domain"]), st.sampled_from(["a", "b", "c\x00", ""]), st.integers(0, 3)),
        max_size=30,
    ),
    st.randoms(use_true_random=False),
)
def test_most_confident_keeps_each_indicator_once_as_a_plain_reading_does(rows, rng):
    written = list(range(len(rows)))
    rng.shuffle(written)
    best: dict[tuple[str, str], int] = {}
    for i, (kind, value, confidence) in enumerate(rows):
        held = best.get((kind, value))
        if held is None or (confidence, -written[i]) > (rows[held][2], -written[held]):
            best[(kind, value)] = i
    kept = feeds.most_confident(
        pd.Series([r[0] for r in rows], dtype=object),
        pd.Series([r[1] for r in rows], dtype=object),
        np.array([r[2] for r in rows], dtype=np.int64),
        np.array(written, dtype=np.int64),
    )
    assert kept.tolist() == sorted(best.values())
