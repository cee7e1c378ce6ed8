"""core.geo.maps and core.geo.analysis on the honeypot sample: the deck, the report and the analysis' refusals."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from core.geo.analysis import ThreatMapError, ThreatMapSettings, analyse
from core.geo.events import ColumnMapping, detect_mapping
from core.geo.maps import BIN_COLOURS, threat_deck, threat_report, top_cells
from core.samples import load_samples
from core.warehouse import Warehouse


@pytest.fixture(scope="module")
def sample():
    warehouse = Warehouse(":memory:")
    load_samples(warehouse)
    dataset = warehouse.dataset("honeypot_events_2013")
    mapping = detect_mapping([c.name for c in dataset.columns])
    yield warehouse, dataset.name, mapping
    warehouse.close()


def test_offline_deck_has_outlines_hexagons_dots_and_cluster_rings(sample):
    result = analyse(*sample, ThreatMapSettings(res=3))
    spec = json.loads(threat_deck(result, "Gi* hot spot").to_json())
    assert spec.get("mapStyle") in (None, "")
    kinds = [layer["@@type"] for layer in spec["layers"]]
    assert kinds == ["GeoJsonLayer", "H3HexagonLayer", "ScatterplotLayer", "ScatterplotLayer"]
    hexes = spec["layers"][1]["data"]
    assert len(hexes) == len(result.cells)
    hottest = max(hexes, key=lambda row: row["gi_z"])
    assert tuple(hottest["colour"][:3]) == BIN_COLOURS[3]
    online = json.loads(threat_deck(result, "Events", online_basemap=True).to_json())
    assert "carto" in online["mapStyle"]


def test_report_is_self_contained_and_holds_the_tables(sample):
    settings = ThreatMapSettings(res=3)
    result = analyse(*sample, settings)
    html = threat_report(result, "honeypot_events_2013", settings).to_html()
    assert "<script src=" not in html
    assert "Top cells by threat score" in html
    assert "Clusters (DBSCAN, haversine)" in html
    assert top_cells(result).iloc[0]["cell"] in html


def test_time_window_and_categories_filter_before_the_analysis(sample):
    everything = analyse(*sample, ThreatMapSettings(res=3))
    april = analyse(
        *sample,
        ThreatMapSettings(res=3, start=pd.Timestamp("2013-04-01"), end=pd.Timestamp("2013-04-30 23:59:59.999999")),
    )
    sample_times = pd.read_csv("data/samples/honeypot_events_2013.csv", usecols=["datetime"])["datetime"]
    assert april.events == sample_times.str.startswith("2013-04").sum()  # both ends inclusive
    udp = analyse(*sample, ThreatMapSettings(res=3, categories=("UDP",)))
    assert 0 < april.events < everything.events
    assert 0 < udp.events < everything.events


def test_refusals_are_messages(sample):
    warehouse, name, mapping = sample
    with pytest.raises(ThreatMapError, match="resolution"):
        ThreatMapSettings(res=16)
    with pytest.raises(ThreatMapError, match="No events"):
        analyse(warehouse, name, mapping, ThreatMapSettings(categories=("no such protocol",)))
    with pytest.raises(ThreatMapError, match="usable coordinates"):
        analyse(warehouse, name, ColumnMapping(lat="proto", lon="host"), ThreatMapSettings())


def test_tooltips_are_text_so_data_is_never_html(sample):
    result = analyse(*sample, ThreatMapSettings(res=3))
    tooltip = threat_deck(result, "Gi* hot spot")._tooltip  # pydeck passes it to the component beside the JSON
    assert "html" not in tooltip
    assert "{top}" in tooltip["text"]
