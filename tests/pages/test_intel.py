"""Intel page: paste a report, load a feed, match the shipped honeypot sample; the exports and the report."""

from __future__ import annotations

import pandas as pd

from core.intel import service
from core.intel.store import IntelStore
from core.warehouse import open_warehouse, resolve_path

REPORT = (
    "The loader (SHA256 62c4c17f78faa7adae5d18765d0e2d56b307d1563c2411e17c6cb0300f88fe30) contacts "
    "hxxps://cdn-sync-update[.]com/api/v2/check and 77.90.185[.]20; lateral movement from 10.0.4.21. CVE-2023-36884."
)


def _metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.main.metric}


def test_a_pasted_report_lists_typed_indicators_with_feed_hits_and_benign_flags(app) -> None:
    at = app("pages/intel.py")
    at.button(key="intel_load").click().run()  # ipsum is the default choice
    assert not at.exception, [e.value for e in at.exception]
    at.text_area(key="intel_text").input(REPORT).run()
    assert not at.exception
    table = next(d.value for d in at.main.dataframe if "context" in d.value)
    rows = {(r.type, r.value): r for r in table.itertuples()}
    assert rows[("ipv4", "77.90.185.20")].feeds.startswith("ipsum")
    assert rows[("ipv4", "10.0.4.21")].benign == "bogon"
    assert ("url", "https://cdn-sync-update.com/api/v2/check") in rows and ("cve", "CVE-2023-36884") in rows
    assert _metrics(at) == {"Indicators": "6", "Listed in a feed": "1", "Flagged benign": "1"}


def test_hide_benign_and_type_filter(app) -> None:
    at = app("pages/intel.py")
    at.text_area(key="intel_text").input(REPORT).run()
    at.toggle(key="intel_hide_benign").set_value(True).run()
    shown = next(d.value for d in at.main.dataframe if "context" in d.value)
    assert "10.0.4.21" not in set(shown["value"])
    at.multiselect(key="intel_types").set_value(["domain"]).run()
    shown = next(d.value for d in at.main.dataframe if "context" in d.value)
    assert set(shown["type"]) == {"domain"}


def test_matching_the_sample_finds_exactly_the_sources_ipsum_lists(app) -> None:
    at = app("pages/intel.py")
    at.button(key="intel_load").click().run()
    at.selectbox(key="intel_dataset").set_value("honeypot_events_2013").run()
    assert at.multiselect(key="intel_cols_honeypot_events_2013").value == ["srcstr"]
    at.button(key="intel_match").click().run()
    assert not at.exception, [e.value for e in at.exception]
    wh = open_warehouse(resolve_path())
    ipsum = set(wh.query("SELECT value FROM intel_indicators WHERE source = 'ipsum'")["value"])
    sample = pd.read_csv("data/samples/honeypot_events_2013.csv", usecols=["srcstr"])["srcstr"]
    expected = int(sample.isin(ipsum).sum())
    assert expected > 0
    assert any(f"{expected:,} hits" in s.value for s in at.success), [s.value for s in at.success]
    summary = next(d.value for d in at.main.dataframe if "events" in d.value and "indicator" in d.value)
    assert summary["events"].sum() == expected


def test_the_feed_table_warns_about_a_stale_feed(app) -> None:
    at = app("pages/intel.py")
    at.button(key="intel_load").click().run()
    ages = service.feed_ages(IntelStore(open_warehouse(resolve_path())))
    assert ages.loc[0, "stale"]  # ipsum's snapshot is from August
    assert any("days old" in w.value for w in at.warning)


def test_the_hits_are_an_overlay_on_the_threat_map(app) -> None:
    at = app("pages/intel.py")
    at.button(key="intel_load").click().run()
    at.selectbox(key="intel_dataset").set_value("honeypot_events_2013").run()
    at.button(key="intel_match").click().run()
    located = open_warehouse(resolve_path()).query(
        "SELECT count(*) AS n FROM intel_hits WHERE dataset = 'honeypot_events_2013' AND lat IS NOT NULL"
    )["n"][0]
    assert located > 0
    at.switch_page("pages/threat_map.py").run()
    at.multiselect(key="geo_overlays").set_value(["intel_hits"]).run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(f"Blue dots: {located:,} located findings" in c.value for c in at.caption)
