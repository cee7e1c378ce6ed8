"""The technique mapper: ATT&CK's sentences relabelled onto TRAM's techniques, the fitted temperature, the signed
artifact, report mapping and the `map` command's contract."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import softmax

from core.artifacts import ArtifactError
from core.intel.__main__ import main
from core.intel.attack import training
from core.intel.attack.bundle import read_bundle
from core.intel.attack.mapper import TEMPERATURES, _temperature, attack_sentences, clean, split_sentences
from core.intel.attack.report import report_stix, report_techniques
from core.intel.extract import extract
from core.intel.views import indicator_frame
from core.warehouse import Warehouse
from tests.conftest import install_mapper


@pytest.fixture(scope="module")
def tram(shared_data):
    return training.read_labelled((shared_data / "intel" / "tram_single_label_dev.json").read_bytes(), "tram")


@pytest.fixture(scope="module")
def extra(shared_data, tram):
    release = read_bundle((shared_data / "intel" / "enterprise-attack.json.gz").read_bytes(), "enterprise")
    return attack_sentences(release, set(tram["label"]))


def test_tram_reads_every_labelled_sentence(tram):
    assert len(tram) == 4_260 and tram["label"].nunique() == 50 and tram["doc_title"].nunique() == 119


def test_attack_sentences_are_clean_and_relabelled_onto_tram_techniques(extra, tram, shared_data):
    assert set(extra["label"]) <= set(tram["label"]) and extra["label"].nunique() == 50
    assert not extra["text"].str.contains(r"\(Citation:|\]\(https?://", regex=True).any()
    assert len(extra) > 9_000
    # T1090 is a TRAM label and T1090.002 is not: External Proxy's procedure examples teach T1090
    assert "T1090.002" not in set(tram["label"])
    release = read_bundle((shared_data / "intel" / "enterprise-attack.json.gz").read_bytes(), "enterprise")
    target = release.objects.loc[release.objects["attack_id"] == "T1090.002", "stix_id"].iloc[0]
    uses = release.relationships
    procedures = {clean(d) for d in uses[(uses["type"] == "uses") & (uses["target_ref"] == target)]["description"]}
    taught = set(extra.loc[extra["label"] == "T1090", "text"])
    assert len(procedures) > 10 and procedures <= taught


def test_clean_and_sentences():
    text = "[APT28](https://attack.mitre.org/groups/G0007) used <code>cmd</code>.(Citation: FireEye APT28)"
    assert clean(text) == "APT28 used cmd."
    report = "First sentence here. Second one (with T1059)! Third?\n\n- a list item\n- another"
    sentences = [report[a:b] for a, b in split_sentences(report)]
    assert sentences == ["First sentence here.", "Second one (with T1059)!", "Third?", "- a list item", "- another"]


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(TEMPERATURES[10:50].tolist()), st.integers(0, 2**31))
def test_the_fitted_temperature_recovers_the_one_that_made_the_labels(temperature, seed):
    rng = np.random.default_rng(seed)
    scores = rng.normal(size=(4_000, 6)) * 2
    truth = np.array([rng.choice(6, p=p) for p in softmax(scores / temperature, axis=1)])
    fitted = _temperature(scores, truth)
    assert abs(np.log(fitted / temperature)) < 0.25


def test_the_mapper_maps_report_sentences_and_its_file_is_checked(trained_mapper, tmp_path):
    wh = Warehouse(tmp_path / "w.duckdb")
    install_mapper(wh, trained_mapper)
    mapper, entry = training.load(wh, train_if_missing=False)
    assert entry["labels"] == 50 and entry["sentences"] == 4_260 and entry["extra_sentences"] > 9_000
    report = (
        "The attachment drops a loader. It dumps credentials from LSASS memory with Mimikatz. "
        "Persistence comes from a Run key in the registry. See T1566.001 for the lure."
    )
    mapped = training.map_report(report, mapper)
    by_sentence = dict(zip(mapped["sentence"], mapped["technique"], strict=True))
    assert by_sentence["It dumps credentials from LSASS memory with Mimikatz."] == "T1003.001"
    assert by_sentence["Persistence comes from a Run key in the registry."] == "T1547.001"
    assert ((mapped["confidence"] > 0) & (mapped["confidence"] <= 1)).all()
    named = [i for i in extract(report) if i.type == "attack_technique"]
    table = report_techniques(named, report, mapped).set_index("technique")
    assert table.at["T1566.001", "how"] == "named in the text" and table.at["T1566.001", "confidence"] == 1.0
    path = wh.models_folder / entry["file"]
    path.write_bytes(path.read_bytes()[:-1] + b"\x00")
    with pytest.raises(ArtifactError, match="not signed"):
        training.load(wh, train_if_missing=False)
    wh.close()


def test_no_mapper_and_no_training_is_a_clear_refusal(tmp_path):
    wh = Warehouse(tmp_path / "empty.duckdb")
    with pytest.raises(training.MapperUnavailableError, match="No technique mapper"):
        training.load(wh, train_if_missing=False)
    wh.close()


def test_the_map_command_answers_one_object_per_input_in_order(trained_mapper, tmp_path, monkeypatch, capsys, tram):
    monkeypatch.setenv("CTAS_WAREHOUSE", str(tmp_path / "cli.duckdb"))
    wh = Warehouse(tmp_path / "cli.duckdb")
    install_mapper(wh, trained_mapper)
    wh.close()
    items = [{"text": t, "label": "ignored", "doc_title": "x"} for t in tram["text"][:30]] + [
        {"no": 1},
        7,
        {"text": " "},
    ]
    path = tmp_path / "in.json"
    path.write_text(json.dumps(items))
    assert main(["map", str(path), "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert len(answer) == len(items)
    assert all(a["technique"] in set(tram["label"]) and 0 < a["confidence"] <= 1 for a in answer[:30])
    assert answer[-3:] == [{"technique": None, "confidence": 0.0}] * 3
    agree = sum(a["technique"] == label for a, label in zip(answer, tram["label"][:30], strict=False))
    assert agree >= 27  # sentences it was trained on


@pytest.mark.parametrize("content", ['{"text": "a"}', "[1, 2", '"just a string"', "[" * 200 + "]" * 200])
def test_the_map_command_refuses_bad_files_in_one_line(tmp_path, capsys, content):
    path = tmp_path / "bad.json"
    path.write_text(content)
    assert main(["map", str(path), "--json"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and err.count("\n") == 1 and "Traceback" not in err


def test_a_report_exports_as_stix_with_its_indicators_and_techniques():
    text = "The loader beacons to 77.90.185[.]20 and 10.0.4.21 (T1071.001), then dumps LSASS (T1003.001)."
    found = extract(text)
    indicators = indicator_frame(found, text)
    techniques = report_techniques([i for i in found if i.type == "attack_technique"], text, None)
    bundle = json.loads(report_stix("lure", indicators, techniques))
    objects = {o["id"]: o for o in bundle["objects"]}
    report = next(o for o in objects.values() if o["type"] == "report")
    referred = [objects[ref] for ref in report["object_refs"]]
    assert report["name"] == "lure"
    assert {o["name"] for o in referred if o["type"] == "indicator"} == {"ipv4 77.90.185.20"}  # the bogon is left out
    assert {o["external_references"][0]["external_id"] for o in referred if o["type"] == "attack-pattern"} == {
        "T1071.001",
        "T1003.001",
    }
