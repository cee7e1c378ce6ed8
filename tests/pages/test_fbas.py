"""FBAS page: load a real snapshot, take an organization offline, read the diff, undo; edit a quorum set."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from core.fbas.model import loads
from core.fbas.scan import scan
from core.fbas.store import ScenarioStore
from core.fbas.synthetic import almost_symmetric
from core.warehouse import open_warehouse, resolve_path
from tests.oracles import minimal_quorums_2025

SDF = "Stellar Development Foundation"
SDF_1 = "GCGB2S2KGYARPVIA37HYZXVRM2YZUEXA6S33ZU5BUDC6THSB62LZSTYH"


def _figures(at) -> dict[str, tuple[str, str]]:
    return {m.label: (m.value, m.delta) for m in at.main.metric}


def _history_size(shared_data: Path) -> int:
    """The smallest history-critical set of the shipped 2025 snapshot, from core, as the page reads it."""
    folder = shared_data / "fbas" / "python-fbas"
    fbas = loads(
        (folder / "network-2025-01-03.json").read_text(), (folder / "organizations-2025-01-03.json").read_text()
    )
    return scan(fbas, stellarbeat_parity=True).results["node"].history_critical_set.size


def test_load_edit_diff_undo_on_the_2025_network(app, shared_data: Path) -> None:
    at = app("pages/fbas.py")
    figures = _figures(at)
    assert figures["Quorum intersection"][0] == "yes"
    assert figures["Minimal quorums"][0] == minimal_quorums_2025()
    assert figures["Top tier size"][0] == "23"
    assert figures["Smallest blocking set"][0] == "6"
    assert figures["Smallest splitting set"][0] == "3"
    assert "missing-qset × 94" in at.expander[0].label
    history = _history_size(shared_data)
    assert figures["History-critical set"][0] == str(history) and history > 0
    assert any(c.value.startswith(f"History-critical set: {history} validator(s)") for c in at.main.caption)
    assert "the history-critical set" in at.selectbox(key="fbas_highlight").options
    at.radio(key="fbas_merge").set_value("Organization").run()
    assert _figures(at)["Top tier size"][0] == "7" and _figures(at)["Symmetric top tier"][0] == "yes"
    at.radio(key="fbas_merge").set_value("Node").run()

    at.multiselect(key="fbas_off_orgs").set_value([SDF]).run()
    at.button(key="fbas_apply_offline").click().run()
    assert not at.exception
    figures = _figures(at)
    assert figures["Top tier size"] == ("20", "was 23")
    assert figures["Minimal quorums"] == ("4293", f"was {minimal_quorums_2025()}")
    assert figures["Smallest blocking set"] == ("4", "was 6")
    diff = at.main.dataframe[0].value.set_index("figure")
    assert diff.loc["Top tier size"].tolist() == ["23", "20", "yes"]
    assert diff.loc["Quorum intersection"].tolist() == ["yes", "yes", ""]

    at.button(key="fbas_undo").click().run()
    assert _figures(at)["Top tier size"] == ("23", "")
    assert at.button(key="fbas_undo").proto.disabled  # nothing left to undo


def test_quorum_set_edit_is_checked_then_applied(app) -> None:
    at = app("pages/fbas.py")
    at.selectbox(key="fbas_snapshot").set_value(at.selectbox(key="fbas_snapshot").options[2]).run()  # MobileCoin
    assert _figures(at)["Minimal quorums"][0] == "45"
    node = at.selectbox(key="fbas_q_node").value
    editor = next(t for t in at.text_area if t.key.startswith(f"fbas_q_text_{node}"))
    editor.set_value('{"threshold": 12, "validators": ["a"], "innerQuorumSets": []}').run()
    at.button(key="fbas_apply_qset").click().run()
    assert "could never be met" in at.error[0].value
    qset = json.loads(editor.value)
    qset["threshold"] = len(qset["validators"])  # this node now needs every one of them
    editor = next(t for t in at.text_area if t.key.startswith(f"fbas_q_text_{node}"))
    editor.set_value(json.dumps(qset)).run()
    at.button(key="fbas_apply_qset").click().run()
    assert not at.exception
    assert _figures(at)["Minimal quorums"][1] == "was 45"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"hello": "world"}', "Expected a stellarbeat nodes list"),
        (b"not json at all", "not valid JSON"),
        (b'[{"publicKey": "A", "quorumSet": {"threshold": "two"}}]', "integer threshold"),
        (os.urandom(10 * 1024 * 1024), "not UTF-8 text"),
    ],
    ids=["wrong-schema", "not-json", "bad-threshold", "10MB-garbage"],
)
def test_bad_uploads_show_one_clear_error_and_the_page_stays_usable(app, content: bytes, message: str) -> None:
    at = app("pages/fbas.py")
    at.radio(key="fbas_source_kind").set_value("Upload").run()
    at.file_uploader(key="fbas_nodes").upload("nodes.json", content, "application/json").run()
    assert not at.exception
    assert len(at.error) == 1
    assert "cannot be read as an FBAS" in at.error[0].value and message in at.error[0].value
    at.radio(key="fbas_source_kind").set_value("Shipped snapshot").run()  # still usable
    assert not at.error
    assert _figures(at)["Quorum intersection"][0] == "yes"


def test_scenarios_are_saved_to_the_warehouse_and_reopened(app) -> None:
    at = app("pages/fbas.py")
    at.multiselect(key="fbas_off_orgs").set_value(["LOBSTR"]).run()
    at.button(key="fbas_apply_offline").click().run()
    assert ScenarioStore(open_warehouse(resolve_path())).names("fbas") == []  # nothing written before saving
    at.text_input(key="fbas_scenario_name").set_value("LOBSTR offline").run()
    at.button(key="fbas_save").click().run()
    assert "Saved the scenario LOBSTR offline" in at.success[0].value
    at.button(key="fbas_save").click().run()
    assert "exists already" in at.error[0].value

    fresh = app("pages/fbas.py")  # a new browser session
    fresh.radio(key="fbas_source_kind").set_value("Saved scenario").run()
    assert not fresh.exception
    assert _figures(fresh)["Top tier size"] == ("18", "was 23")
    fresh.button(key="fbas_undo").click().run()
    assert _figures(fresh)["Top tier size"] == ("23", "")


def test_networks_too_large_to_enumerate_still_get_the_smallest_sets(app) -> None:
    nodes = almost_symmetric(organizations=12, seed=1)  # about 3.2 million minimal quorums
    at = app("pages/fbas.py")
    at.session_state["fbas_seconds"] = 3  # the time for the analysis, as the number input sets it
    at.radio(key="fbas_source_kind").set_value("Upload").run()
    at.file_uploader(key="fbas_nodes").upload("big.json", json.dumps(nodes).encode(), "application/json").run()
    assert not at.exception
    assert "too many to list in the time given: minimal quorums, minimal splitting sets" in at.warning[0].value
    statuses = at.dataframe[0].value.set_index("analysis")
    assert statuses.loc["minimal quorums", "answer"] == "not answered"
    assert "3,247,695 sets to list" in statuses.loc["minimal quorums", "why"]  # C(12, 8) x 3^8
    assert statuses.loc["top tier", "complete"] and statuses.loc["quorum intersection", "complete"]
    assert statuses.loc["minimal blocking sets", "complete"]  # one shared quorum set: the ways to block it
    figures = _figures(at)
    assert figures["Quorum intersection"][0] == "yes"
    assert figures["Minimal quorums"][0] == "too many"
    assert figures["Top tier size"][0] == "36"  # from the quorum structure
    assert figures["Smallest blocking set"][0] == "10"  # two validators in each of 5 of the 12 organizations
    assert figures["Smallest splitting set"][0] == "4"  # two 8-of-12 majorities share 4 organizations
    assert any("192,456 in all, sizes 10–10" in m.value for m in at.main.markdown)  # C(12, 5) x 3^5
    assert any("the smallest have 4 (one shown)" in m.value for m in at.main.markdown)
    at.selectbox(key="fbas_highlight").set_value("a minimal blocking set").run()
    assert not at.exception
    at.radio(key="fbas_source_kind").set_value("Shipped snapshot").run()
    assert _figures(at)["Minimal quorums"][0] == minimal_quorums_2025()


def test_nodes_without_a_quorum_set_read_both_ways(app, shared_data: Path) -> None:
    content = (shared_data / "fbas" / "python-fbas" / "missing_2.json").read_bytes()  # PK3 and PK4 have none
    at = app("pages/fbas.py")
    at.radio(key="fbas_source_kind").set_value("Upload").run()
    at.file_uploader(key="fbas_nodes").upload("missing_2.json", content, "application/json").run()
    assert _figures(at)["Minimal quorums"][0] == "0"  # PK1 and PK2 need nodes that can never be in a quorum
    at.toggle(key="fbas_unconstrained").set_value(True).run()
    assert not at.exception
    figures = _figures(at)
    assert figures["Minimal quorums"][0] == "2"
    assert figures["Quorum intersection"][0] == "NO"  # {PK1, PK3} and {PK2, PK4}


def test_nodes_are_added_and_removed_as_what_ifs(app) -> None:
    at = app("pages/fbas.py")
    at.selectbox(key="fbas_snapshot").set_value(at.selectbox(key="fbas_snapshot").options[2]).run()  # MobileCoin
    remove = at.multiselect(key="fbas_remove_nodes")
    remove.set_value(remove.options[:2]).run()
    at.button(key="fbas_apply_remove").click().run()
    assert not at.exception
    assert _figures(at)["Top tier size"] == ("8", "was 10")
    at.text_input(key="fbas_add_key").set_value("NEW-VALIDATOR").run()
    at.text_area(key="fbas_add_qset").set_value('{"threshold": 5, "validators": ["x"]}').run()
    at.button(key="fbas_apply_add").click().run()
    assert "could never be met" in at.error[0].value


def test_switching_network_forgets_the_previous_editors(app) -> None:
    at = app("pages/fbas.py")
    at.selectbox(key="fbas_q_node").set_value(SDF_1).run()
    editor = next(t for t in at.text_area if t.key.startswith(f"fbas_q_text_{SDF_1}"))
    editor.set_value('{"threshold": 1, "validators": ["TYPED-FOR-2025"]}').run()
    at.selectbox(key="fbas_snapshot").set_value(at.selectbox(key="fbas_snapshot").options[1]).run()  # 2019
    assert not at.exception
    assert _figures(at)["Minimal quorums"][0] == "1161"
    assert all("TYPED-FOR-2025" not in t.value for t in at.text_area)


def test_disjoint_quorums_are_shown_when_the_network_can_fork(app) -> None:
    at = app("pages/fbas.py")
    at.selectbox(key="fbas_snapshot").set_value(at.selectbox(key="fbas_snapshot").options[3]).run()  # broken 2018
    assert _figures(at)["Quorum intersection"][0] == "NO"
    assert "These two quorums share no node" in at.error[0].value
    at.selectbox(key="fbas_highlight").set_value("the two disjoint quorums").run()
    assert not at.exception
    assert "the two disjoint quorums" in at.get("plotly_chart")[0].proto.spec


def test_quorum_set_form_and_other_field_grouping(app) -> None:
    at = app("pages/fbas.py")
    at.selectbox(key="fbas_snapshot").set_value(at.selectbox(key="fbas_snapshot").options[2]).run()  # MobileCoin
    node = at.selectbox(key="fbas_q_node").value
    members = next(m for m in at.multiselect if m.key.startswith(f"fbas_q_members_{node}"))
    members.set_value(members.value[:3]).run()
    threshold = next(n for n in at.number_input if n.key.startswith(f"fbas_q_threshold_{node}"))
    threshold.set_value(3).run()
    at.button(key="fbas_apply_form").click().run()
    assert not at.exception
    assert _figures(at)["Minimal quorums"][1] == "was 45"
    at.radio(key="fbas_merge").set_value("Other field").run()
    at.text_input(key="fbas_field").set_value("hostname").run()
    assert not at.exception
    assert _figures(at)["Top tier size"][0] != ""
    at.text_input(key="fbas_field").set_value("bad field!").run()
    assert "letters, digits and underscores" in at.error[0].value


def test_inner_quorum_sets_are_edited_dropped_and_added_in_the_form(app) -> None:
    at = app("pages/fbas.py")
    at.selectbox(key="fbas_q_node").set_value(SDF_1).run()
    token = f"{SDF_1}_0"
    at.checkbox(key=f"fbas_q_inner_drop_{token}_0").check().run()  # drop the first organization's inner set
    at.number_input(key=f"fbas_q_inner_threshold_{token}_5_5").set_value(5).run()  # the 5-node org: all of them
    at.multiselect(key=f"fbas_q_inner_add_{token}").set_value([SDF]).run()
    at.button(key="fbas_apply_form").click().run()
    assert not at.exception
    edit = at.session_state["fbas_edits"][-1]
    assert edit.key == SDF_1 and len(edit.qset.inner) == 7  # 7 - 1 dropped + 1 added
    assert [c.threshold for c in edit.qset.inner][4] == 5
    assert edit.qset.inner[-1].threshold == 2 and len(edit.qset.inner[-1].validators) == 3  # SDF's majority
    assert _figures(at)["Minimal quorums"][1] == f"was {minimal_quorums_2025()}"  # the analysis reran on the edited set
