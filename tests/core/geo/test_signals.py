"""The threat map publishes its emerging hot spots (new, consecutive, intensifying) to investigations."""

from __future__ import annotations

import json

import h3

from core.cases.store import CaseStore
from core.geo.analysis import ThreatMapSettings, analyse
from core.geo.events import detect_mapping
from core.geo.signals import EMERGING
from core.samples import load_samples
from core.warehouse import Warehouse


def test_the_honeypot_sample_publishes_exactly_its_emerging_cells_once(tmp_path) -> None:
    warehouse = Warehouse(tmp_path / "w.duckdb")
    load_samples(warehouse)
    dataset = warehouse.dataset("honeypot_events_2013")
    mapping = detect_mapping([c.name for c in dataset.columns])
    settings = ThreatMapSettings(res=3, bucket="7 days")
    result = analyse(warehouse, dataset.name, mapping, settings)
    emerging = result.emerging[result.emerging["category"].isin(list(EMERGING))]
    assert len(emerging) > 0
    cases = CaseStore(warehouse)
    queue = cases.signal_queue(limit=10_000)
    assert sorted(queue["entity_value"]) == sorted(emerging["hex"])
    assert set(queue["source"]) == {"threat map"} and all(h3.get_resolution(c) == 3 for c in queue["entity_value"])
    assert queue["link"].eq("threat_map?dataset=honeypot_events_2013&res=3").all()
    first = cases.signals([int(queue["latest_id"].iloc[0])]).iloc[0]
    assert json.loads(first.evidence)["category"] in EMERGING
    analyse(warehouse, dataset.name, mapping, settings)
    assert cases.signal_count() == len(emerging)  # the same analysis again publishes nothing new
    warehouse.close()
