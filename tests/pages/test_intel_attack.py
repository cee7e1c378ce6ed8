"""Intel page, part 2: ATT&CK releases, a report's techniques on the matrix, the correlation graph's explanations."""

from __future__ import annotations

import os

import pytest

from core.intel import service
from core.intel.attack.bundle import read_bundle
from core.intel.attack.store import AttackStore
from core.intel.store import IntelStore
from core.warehouse import ENV_VAR
from tests.conftest import install_mapper
from ui.common import warehouse_at

REPORT = (
    "The attachment drops a loader. It dumps credentials from LSASS memory with Mimikatz. "
    "Persistence comes from a Run key in the registry. The lure matches T1566.001."
)
FEED = "value,family\n61.131.218.218,agenttesla\n"


@pytest.fixture
def seeded(app, shared_data, trained_mapper):
    """The app's warehouse with ATT&CK v18.1, the trained mapper and an analyst feed naming a sample event's IP."""
    at = app("pages/home.py")  # creates the warehouse and the samples
    wh = warehouse_at(os.environ[ENV_VAR])  # the app's own connection (it holds the file)
    release = read_bundle((shared_data / "intel" / "enterprise-attack.json.gz").read_bytes(), "enterprise")
    AttackStore(wh).save(release, "enterprise v18.1")
    install_mapper(wh, trained_mapper)
    service.load_upload(IntelStore(wh), "analyst", "analyst.csv", FEED.encode())
    return at


def test_the_attack_tab_searches_and_opens_a_group_on_the_matrix(seeded) -> None:
    at = seeded
    at.switch_page("pages/intel.py").run()
    assert at.selectbox(key="attack_release").value == "enterprise v18.1"
    at.text_input(key="attack_search").input("Fancy Bear").run()
    at.selectbox(key="attack_open").set_value("G0007").run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(h.value == "G0007 APT28 (group)" for h in at.subheader)
    related = next(d.value for d in at.main.dataframe if "relationship" in d.value)
    assert {"T1003.003", "S0023"} <= set(related["attack_id"])


def test_a_report_shows_named_and_learned_techniques(seeded) -> None:
    at = seeded
    at.switch_page("pages/intel.py").run()
    at.text_area(key="intel_text").input(REPORT).run()
    assert not at.exception, [e.value for e in at.exception]
    table = next(d.value for d in at.main.dataframe if "how" in d.value).set_index("technique")
    assert table.at["T1566.001", "how"] == "named in the text"
    assert table.at["T1003.001", "how"] == "learned from a sentence"
    assert table.at["T1003.001", "name"] == "LSASS Memory"
    at.text_input(key="intel_report_name").input("lure report").run()
    at.button(key="intel_save_report").click().run()
    items = IntelStore(warehouse_at(os.environ[ENV_VAR])).report_items(1)
    assert {"T1566.001", "T1003.001"} <= set(items.loc[items["kind"] == "technique", "value"])


def test_the_graph_tab_explains_an_event_through_its_family(seeded) -> None:
    at = seeded
    at.switch_page("pages/intel.py").run()
    at.multiselect(key="graph_datasets").set_value(["honeypot_events_2013"]).run()
    at.button(key="graph_build").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("values counted instead of linked" in c.value for c in at.caption)
    at.text_input(key="graph_find").input("61.131.218.218").run()
    sentences = [m.value for m in at.markdown if m.value.startswith("- ")]
    assert any("agenttesla" in s and "Agent Tesla (S0331)" in s for s in sentences), sentences
    assert not at.exception, [e.value for e in at.exception]
    edges = next(d.value for d in at.main.dataframe if "premises" in d.value)
    assert "alias" in set(edges["rule"])
