"""ATT&CK releases in the warehouse: the shared v18.1 bundle, search, the group x technique matrix, profiles,
comparing releases, Navigator layers, and hostile bundles refused with nothing written."""

from __future__ import annotations

import copy
import gzip
import json
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import CtasError
from core.intel.attack import bundle as bundle_module
from core.intel.attack import releases
from core.intel.attack.bundle import AttackBundleError, read_bundle
from core.intel.attack.diff import object_changes, relationship_changes
from core.intel.attack.navigator import layer, layer_json
from core.intel.attack.store import AttackStore
from core.safejson import JsonInputError
from core.warehouse import Warehouse


@pytest.fixture(scope="module")
def enterprise_bytes(shared_data) -> bytes:
    return (shared_data / "intel" / "enterprise-attack.json.gz").read_bytes()


@pytest.fixture(scope="module")
def enterprise(enterprise_bytes):
    return read_bundle(enterprise_bytes, "enterprise-attack.json.gz")


@pytest.fixture(scope="module")
def stored(tmp_path_factory, enterprise) -> AttackStore:
    wh = Warehouse(tmp_path_factory.mktemp("attack") / "attack.duckdb")
    store = AttackStore(wh)
    store.save(enterprise, "v18.1")
    return store


def test_the_shared_release_reads_with_every_kind_and_its_identity(enterprise, enterprise_bytes):
    counts = enterprise.objects["kind"].value_counts()
    assert counts["technique"] == 835 and counts["group"] == 187 and counts["campaign"] == 52
    assert counts["software"] == 696 + 91 and counts["mitigation"] == 268 and counts["tactic"] == 14
    assert counts["data source"] == 38 and counts["data component"] == 109
    assert enterprise.domain == "enterprise-attack" and enterprise.spec_version == "2.0"
    assert enterprise.last_modified.startswith("2025-11-12")
    assert enterprise.sha256 == __import__("hashlib").sha256(enterprise_bytes).hexdigest()
    uses = enterprise.relationships["type"].value_counts()["uses"]
    assert uses == 17_270  # none of v18.1's uses relationships is deprecated or revoked


def test_tactics_follow_the_matrix_order(stored):
    tactics = stored.tactics("v18.1")
    assert tactics["shortname"].iloc[0] == "reconnaissance" and tactics["shortname"].iloc[-1] == "impact"
    assert len(tactics) == 14


def test_search_finds_ids_names_aliases_and_treats_wildcards_literally(stored):
    assert stored.search("v18.1", "mimikatz")["attack_id"].iloc[0] == "S0002"
    assert stored.search("v18.1", "Fancy Bear", ("group",))["attack_id"].tolist() == ["G0007"]
    assert stored.search("v18.1", "T1059.001")["attack_id"].iloc[0] == "T1059.001"
    assert stored.search("v18.1", "100%_").empty
    underscore = stored.search("v18.1", "LD_PRELOAD")  # a literal underscore, not a one-character wildcard
    assert "T1574.006" in set(underscore["attack_id"])
    assert stored.search("v18.1", "LD%PRELOAD").empty


def test_group_technique_matrix_holds_exactly_the_direct_uses(stored, enterprise):
    matrix = stored.group_technique_matrix("v18.1")
    objects = enterprise.objects.set_index("stix_id")
    live = objects[~(objects["deprecated"] | objects["revoked"])]
    uses = enterprise.relationships[enterprise.relationships["type"] == "uses"]
    pairs = {
        (live.at[r.source_ref, "attack_id"], live.at[r.target_ref, "attack_id"])
        for r in uses.itertuples()
        if r.source_ref in live.index and r.target_ref in live.index
        and live.at[r.source_ref, "kind"] == "group" and live.at[r.target_ref, "kind"] == "technique"
    }  # fmt: skip
    stacked = matrix.stack()
    assert set(stacked[stacked].index) == pairs
    assert matrix.at["G0007", "T1003.003"]


def test_a_profile_lists_procedures_and_related_objects(stored):
    found = stored.profile("v18.1", "G0007")
    related = found["related"]
    assert found["object"]["name"].iloc[0] == "APT28"
    ntds = related[(related["attack_id"] == "T1003.003") & (related["relationship"] == "uses")]
    assert len(ntds) == 1 and "ntds" in ntds["description"].iloc[0].lower()
    assert {"software", "technique", "campaign"} <= set(related["kind"])
    assert stored.profile("v18.1", "G9999")["object"].empty


def _edited(enterprise_bytes: bytes) -> bytes:
    """v18.1 with one technique removed, one renamed, one added, one deprecated and one relationship dropped."""
    bundle = json.loads(gzip.decompress(enterprise_bytes))
    objects = bundle["objects"]
    by_id = {
        ref["external_id"]: o
        for o in objects
        for ref in o.get("external_references", [])[:1]
        if ref.get("source_name") == "mitre-attack"
    }
    objects.remove(by_id["T1055.011"])
    by_id["T1003.003"]["name"] = "NTDS dumping"
    by_id["T1059.001"]["x_mitre_deprecated"] = True
    new = copy.deepcopy(by_id["T1047"])
    new["id"] = "attack-pattern--00000000-0000-4000-8000-000000000001"
    new["name"] = "Invented Technique"
    new["external_references"] = [{"source_name": "mitre-attack", "external_id": "T1999"}]
    objects.append(new)
    apt28, ntds = by_id["G0007"]["id"], by_id["T1003.003"]["id"]
    bundle["objects"] = [
        o for o in objects
        if not (o["type"] == "relationship" and o["source_ref"] == apt28 and o["target_ref"] == ntds)
    ]  # fmt: skip
    return json.dumps(bundle).encode()


def test_comparing_releases_names_each_change(stored, enterprise_bytes):
    stored.save(read_bundle(_edited(enterprise_bytes), "edited.json"), "edited")
    changes = object_changes(stored.objects("v18.1"), stored.objects("edited"))
    by_change = {(c.change, c.attack_id) for c in changes.itertuples()}
    assert by_change == {
        ("removed", "T1055.011"),
        ("renamed", "T1003.003"),
        ("added", "T1999"),
        ("deprecated", "T1059.001"),
    }
    links = relationship_changes(stored.relationship_pairs("v18.1"), stored.relationship_pairs("edited"))
    lost = links[links["change"] == "lost"]
    assert ("G0007", "uses", "T1003.003") in set(zip(lost["source"], lost["type"], lost["target"], strict=True))
    assert not ((links["change"] == "gained") & (links["source"] == "G0007")).any()
    assert set(stored.releases()["release"]) == {"v18.1", "edited"}


def test_a_navigator_layer_marks_the_techniques_with_scores():
    doc = json.loads(layer_json("APT28", {"T1003.003": 0.9, "T1059": 1.5}, attack_version="18"))
    assert doc["versions"]["layer"] == "4.5" and doc["versions"]["attack"] == "18"
    assert doc["domain"] == "enterprise-attack"
    assert [(t["techniqueID"], t["score"]) for t in doc["techniques"]] == [("T1003.003", 90), ("T1059", 100)]
    assert layer("x", ["T1003"])["techniques"][0]["score"] == 100
    with pytest.raises(ValueError, match="not an ATT&CK technique id"):
        layer("x", ["G0007"])


def test_the_ics_sample_loads_under_its_known_name(warehouse):
    store = AttackStore(warehouse)
    bundle = next(b for b in releases.KNOWN_BUNDLES if b.file_name.startswith("ics"))
    assert releases.known_bundle_path(bundle) is not None
    assert releases.load_known_release(store, bundle) == "ics v18.1"
    assert store.techniques("ics v18.1")["attack_id"].str.startswith("T08").all()


def _refused(store: AttackStore, data: bytes) -> str:
    with pytest.raises(CtasError) as caught:
        releases.load_release(store, data, "hostile.json")
    assert store.releases().empty
    return str(caught.value)


def _minimal(extra: list[dict]) -> dict:
    technique = {
        "type": "attack-pattern",
        "id": "attack-pattern--1",
        "name": "T",
        "external_references": [{"source_name": "mitre-attack", "external_id": "T1000"}],
    }
    return {"type": "bundle", "id": "bundle--1", "objects": [technique, *extra]}


def test_reference_cycles_cost_nothing_and_load(warehouse):
    cycle = [
        {"type": "attack-pattern", "id": f"attack-pattern--{i}", "name": f"S{i}", "x_mitre_is_subtechnique": True,
         "external_references": [{"source_name": "mitre-attack", "external_id": f"T1000.00{i}"}]}
        for i in range(2, 5)
    ] + [
        {"type": "relationship", "id": f"relationship--{kind}-{i}", "relationship_type": kind,
         "source_ref": f"attack-pattern--{i}", "target_ref": f"attack-pattern--{(i - 1) % 3 + 2}"}
        for i in range(2, 5) for kind in ("subtechnique-of", "revoked-by")
    ]  # fmt: skip
    store = AttackStore(warehouse)
    name = releases.load_release(store, json.dumps(_minimal(cycle)).encode(), "cycle.json", "cycle")
    assert len(store.relationship_pairs(name)) == 6


def test_deep_nesting_is_refused_before_parsing(warehouse):
    deep = _minimal([{"type": "note", "id": "note--1", "x": json.loads("[" * 100 + "]" * 100)}])
    with pytest.raises(JsonInputError, match="nested"):
        releases.load_release(AttackStore(warehouse), json.dumps(deep).encode(), "deep.json")
    assert AttackStore(warehouse).releases().empty


def test_relationships_over_the_cap_are_refused(warehouse, monkeypatch):
    monkeypatch.setattr(bundle_module, "MAX_RELATIONSHIPS", 1_000)
    many = [
        {"type": "relationship", "id": f"relationship--{i}", "relationship_type": "uses",
         "source_ref": "attack-pattern--1", "target_ref": "attack-pattern--1"}
        for i in range(1_001)
    ]  # fmt: skip
    assert "1,001 relationships; at most 1,000" in _refused(AttackStore(warehouse), json.dumps(_minimal(many)).encode())


def test_a_gzip_bomb_is_refused_at_the_decompressed_limit(warehouse):
    packer = zlib.compressobj(1, wbits=31)
    chunk = b" " * 2**20
    bomb = b"".join(packer.compress(chunk) for _ in range(bundle_module.MAX_BUNDLE_BYTES // 2**20 + 1))
    bomb += packer.flush()
    assert "once decompressed" in _refused(AttackStore(warehouse), bomb)


hostile_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=60, deadline=None)
@given(
    st.one_of(
        hostile_values,
        st.fixed_dictionaries({"type": st.just("bundle"), "objects": st.lists(hostile_values, max_size=6)}),
        st.fixed_dictionaries({"type": st.just("bundle"), "objects": st.lists(
            st.fixed_dictionaries({"type": st.sampled_from(["attack-pattern", "relationship", "malware"]),
                                   "id": hostile_values, "name": hostile_values,
                                   "external_references": hostile_values, "kill_chain_phases": hostile_values,
                                   "source_ref": hostile_values, "target_ref": hostile_values}),
            max_size=6)}),
    )
)  # fmt: skip
def test_any_other_json_is_stored_whole_or_refused_with_a_message(tmp_path_factory, value):
    wh = Warehouse(tmp_path_factory.mktemp("hostile") / "h.duckdb")
    store = AttackStore(wh)
    try:
        name = releases.load_release(store, json.dumps(value).encode(), "hostile.json", "h")
    except (AttackBundleError, JsonInputError) as exc:
        assert str(exc) and "Traceback" not in str(exc)
        assert store.releases().empty and store.objects("h").empty
    else:
        assert store.releases()["release"].tolist() == [name]
        assert not store.techniques(name).empty
    finally:
        wh.close()
