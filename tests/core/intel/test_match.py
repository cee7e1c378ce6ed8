"""Matching a warehouse dataset: real honeypot events against ipsum, plus indicators planted to test each path."""

from __future__ import annotations

import gzip
import json
import shutil

import pandas as pd
import pytest

from core.cases.store import CaseStore
from core.intel import feeds, service
from core.intel.match import detect_type
from core.intel.store import IntelStore
from core.warehouse.ingest import ingest_csv


@pytest.fixture
def honeypot(warehouse, shared_data, tmp_path) -> IntelStore:
    """The shared honeypot events (252,702) as a dataset, and the ipsum feed."""
    plain = tmp_path / "honeypot.csv"
    with (
        gzip.open(shared_data / "geo" / "aws_honeypot_marx_geo_2013-03_06.csv.gz", "rb") as src,
        plain.open("wb") as out,
    ):
        shutil.copyfileobj(src, out)
    ingest_csv(warehouse, plain, "honeypot")
    store = IntelStore(warehouse)
    service.load_known_feed(store, service.KNOWN_FEEDS[0])
    return store


def test_the_address_column_is_detected(honeypot):
    assert service.suggest_columns(honeypot, "honeypot") == {"srcstr": "ipv4"}


def test_honeypot_sources_on_ipsum_match_exactly_what_a_join_finds(honeypot):
    result = service.match_dataset(honeypot, "honeypot", {"srcstr": "ipv4"}, time_column="datetime",
                                   geo=("latitude", "longitude"))  # fmt: skip
    hits = result.hits
    ipsum = set(honeypot.indicators(("ipv4",))["value"])
    sources = honeypot.sample_rows("honeypot", 300_000)["srcstr"]
    assert result.events == 252_702
    assert len(hits) == int(sources.isin(ipsum).sum()) > 0
    assert set(hits["source"]) == {"ipsum"} and hits["event_time"].notna().all() and hits["lat"].notna().any()
    stored = honeypot.hits(result.run_id)
    assert len(stored) == len(hits) and stored["indicator"].isin(ipsum).all()
    # one investigations signal per listed address, its hits collapsed into counts, located for the map's cells
    queue = CaseStore(honeypot.warehouse).signal_queue(limit=100_000)
    assert len(queue) == hits["observed"].nunique() and set(queue.source) == {"intel"}
    assert queue["signals"].eq(1).all() and queue["link"].eq(f"intel?run={result.run_id}").all()
    signals = CaseStore(honeypot.warehouse).signals(queue["latest_id"].tolist())
    events = sum(json.loads(e)["events"] for e in signals["evidence"])
    assert events == len(hits)


def test_cidr_domain_url_and_hash_paths_with_provenance(warehouse, tmp_path):
    events = tmp_path / "events.csv"
    events.write_text(
        "ts,src,host,url,sha\n"
        "2026-01-01 10:00,198.51.100.77,a.b.evil.example.net,https://cdn.bad.example.org/x/y.js," + "ab" * 32 + "\n"
        "2026-01-01 11:00,192.0.2.1,good.example.com,https://good.example.com/," + "cd" * 32 + "\n"
    )
    ingest_csv(warehouse, events, "events")
    store = IntelStore(warehouse)
    feed = feeds.read_csv_indicators(
        b"value,family\n198.51.100.0/24,ScanNet\n198.51.0.0/16,Wide\nevil.example.net,Evil\n"
        b"https://cdn.bad.example.org/x/y.js,Skimmer\n" + b"ab" * 32 + b",Loader\n",
        "mine.csv",
    )
    store.load_feed("mine", "csv", "test", feed, "x")
    columns = service.suggest_columns(store, "events")
    assert columns == {"src": "ipv4", "host": "domain", "url": "url", "sha": "hash"}
    hits = service.match_dataset(store, "events", columns, time_column="ts").hits
    found = set(zip(hits["column_name"], hits["indicator"], hits["family"], strict=True))
    assert found == {
        ("src", "198.51.100.0/24", "ScanNet"),  # the most specific range
        ("host", "evil.example.net", "Evil"),  # a parent domain
        ("url", "https://cdn.bad.example.org/x/y.js", "Skimmer"),
        ("sha", "ab" * 32, "Loader"),
    }
    assert (hits["row_number"] == 0).all()
    cases = CaseStore(warehouse)
    assert set(cases.linked("ip", "198.51.100.77")["linked_value"]) == {"198.51.100.0/24"}
    domains = cases.entity_signals("domain", "evil.example.net")
    assert len(domains) == 1 and "a.b.evil.example.net" in domains.summary.iloc[0]
    assert len(cases.entity_signals("hash", "ab" * 32)) == 1


def test_detect_type_needs_a_majority():
    assert detect_type(pd.Series(["1.2.3.4", "5.6.7.8", "x"])) == "ipv4"
    assert detect_type(pd.Series(["hello", "world", "1.2.3.4"])) is None


def test_a_listed_domain_inside_urls_and_addresses_is_published_as_that_domain(warehouse, tmp_path):
    events = tmp_path / "proxy.csv"
    events.write_text("ts,url,mail\n2026-01-01 10:00,https://x.evil.example.net/a?b=1,bob@evil.example.net\n")
    ingest_csv(warehouse, events, "proxy")
    store = IntelStore(warehouse)
    store.load_feed("mine", "csv", "test", feeds.read_csv_indicators(b"value\nevil.example.net\n", "m.csv"), "x")
    result = service.match_dataset(store, "proxy", {"url": "url", "mail": "email"}, time_column="ts")
    assert len(result.hits) == 2 and len(store.match_runs()) == 1  # the run is kept whatever publishing makes of it
    signals = CaseStore(warehouse).entity_signals("domain", "evil.example.net")
    assert len(signals) == 2 and set(signals["source"]) == {"intel"}
