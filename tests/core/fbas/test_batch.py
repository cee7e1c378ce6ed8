"""core.fbas.batch: the criticality sweep and the snapshot comparison, on the shipped Stellar snapshots, checked
against the scan and the smallest-set searches run directly; the same tables on a cluster; hostile folders."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from core import compute
from core.compute import ComputeSetting
from core.fbas.analysis import compile_fbas
from core.fbas.batch import (
    MAX_SNAPSHOT_BYTES,
    BatchInputError,
    SnapshotFile,
    compare_snapshots,
    criticality_sweep,
    group_members,
    snapshot_row,
    snapshots_in_folder,
)
from core.fbas.model import Fbas, Node, QuorumSet, loads
from core.fbas.scan import faulty_nodes, scan
from core.fbas.sizes import smallest_blocking_set, smallest_splitting_set
from core.fbas.snapshots import FOLDER, SNAPSHOTS
from core.fbas.whatif import Offline, apply_edits


@pytest.fixture(scope="module")
def stellar_2025() -> Fbas:
    return loads(*SNAPSHOTS[0].read())


@pytest.fixture(scope="module")
def country_sweep(stellar_2025: Fbas) -> pd.DataFrame:
    return criticality_sweep(stellar_2025, "country")


def test_the_sweep_starts_from_the_network_as_it_is(stellar_2025: Fbas, country_sweep: pd.DataFrame) -> None:
    baseline = country_sweep.iloc[0]
    compiled = compile_fbas(stellar_2025, stellarbeat_parity=True)
    blocking = smallest_blocking_set(compiled, faulty_nodes(stellar_2025, "auto"))
    assert (baseline["rank"], baseline["group"], baseline["nodes offline"]) == (0, "(nothing offline)", 0)
    assert baseline["halt with"] == len(blocking) and baseline["split with"] == len(smallest_splitting_set(compiled))
    assert baseline["quorum left"] and baseline["quorum intersection"]


def test_each_country_row_is_that_country_offline(stellar_2025: Fbas, country_sweep: pd.DataFrame) -> None:
    """The most critical country's figures equal a direct computation with its validators offline, and the table
    holds every country that has a validator, ranked by how few further nodes could then halt the network."""
    members = group_members(stellar_2025, "country")
    groups = country_sweep.iloc[1:]
    assert sorted(groups["group"]) == sorted(members) and groups["rank"].tolist() == list(range(1, len(members) + 1))
    assert groups["halt with"].is_monotonic_increasing  # nothing halts or forks the 2025 network on its own
    worst = groups.iloc[0]
    offline = apply_edits(stellar_2025, [Offline(members[worst["group"]])])
    compiled = compile_fbas(offline, stellarbeat_parity=True)
    faulty = faulty_nodes(stellar_2025, "auto") | set(members[worst["group"]])
    assert worst["halt with"] == len(smallest_blocking_set(compiled, faulty))
    assert worst["split with"] == len(smallest_splitting_set(compiled))
    assert worst["halt with"] < country_sweep.iloc[0]["halt with"]
    assert "more node" in worst["breaks"]


def _three_organizations() -> Fbas:
    """Three organizations of three nodes; every node needs all three organizations (2 of 3 nodes in each)."""
    orgs = {o: tuple(f"{o}{i}" for i in range(3)) for o in "ABC"}
    qset = QuorumSet(3, (), tuple(QuorumSet(2, members) for members in orgs.values()))
    nodes = {k: Node(k, qset) for members in orgs.values() for k in members}
    return Fbas(nodes=nodes, organizations={k: o for o, members in orgs.items() for k in members})


def test_an_organization_whose_loss_halts_the_network_says_so() -> None:
    table = criticality_sweep(_three_organizations(), "organization")
    assert table.iloc[1:]["breaks"].tolist() == ["halts the network: no quorum is left"] * 3
    assert not table.iloc[1:]["quorum left"].any() and table.iloc[0]["quorum left"]


def test_on_a_network_that_can_already_fork_the_sweep_ranks_by_change() -> None:
    """Organizations A and B are quorums on their own (the network can fork); C's nodes need A and C. Taking A or B
    offline restores quorum intersection, taking C offline changes nothing: no group "makes it fork", and the
    sweep says so and ranks C first."""
    members = {o: tuple(f"{o}{i}" for i in range(3)) for o in "ABC"}
    own = {o: QuorumSet(2, members[o]) for o in "AB"}
    needs_a_and_c = QuorumSet(2, (), (QuorumSet(2, members["A"]), QuorumSet(2, members["C"])))
    qsets = {**dict.fromkeys(members["A"], own["A"]), **dict.fromkeys(members["B"], own["B"]),
             **dict.fromkeys(members["C"], needs_a_and_c)}  # fmt: skip
    fbas = Fbas(nodes={k: Node(k, q) for k, q in qsets.items()},
                organizations={k: o for o, keys in members.items() for k in keys})  # fmt: skip
    table = criticality_sweep(fbas, "organization")
    assert table.iloc[0]["quorum left"] and not table.iloc[0]["quorum intersection"]
    assert dict(zip(table["group"][1:], table["breaks"][1:], strict=True)) == {
        "C": "the network can still fork, as before",
        "A": "restores quorum intersection",
        "B": "restores quorum intersection",
    }
    assert table["group"].tolist()[1] == "C"


def test_the_sweep_on_a_cluster_equals_the_serial_sweep(stellar_2025: Fbas, country_sweep: pd.DataFrame) -> None:
    handle = compute.open_client(ComputeSetting("local", 2), processes=False)
    try:
        progress = compute.BatchProgress()
        clustered = criticality_sweep(stellar_2025, "country", handle=handle, progress=progress)
    finally:
        compute.close(handle)
    pd.testing.assert_frame_equal(country_sweep, clustered)
    assert progress.done == progress.total == len(country_sweep)


def test_shipped_snapshots_are_compared_in_time_order() -> None:
    """Each row equals a scan of that snapshot; the 2018 network without quorum intersection is flagged."""
    table = compare_snapshots(snapshots_in_folder(FOLDER))
    assert len(table) == len(SNAPSHOTS) and table["as of"].is_monotonic_increasing
    assert table["problem"].eq("").all() and table["complete"].all()
    by_name = table.set_index("snapshot")
    assert not by_name.loc["stellar_2018-06_broken_nodes.json", "quorum intersection"]
    fbas = loads(*SNAPSHOTS[0].read())
    scanned = scan(fbas, merges=("organization",), faulty=faulty_nodes(fbas, "auto"), stellarbeat_parity=True)
    headline = scanned.results["organization"].headline()
    row = by_name.loc["stellar_2025-01-03_nodes.json"]
    assert row["grouping"] == "organization" and row["validators"] == scanned.validators
    assert (row["minimal quorums"], row["top tier"]) == (headline["minimal_quorums"], headline["top_tier"])
    assert (row["smallest blocking set"], row["smallest splitting set"]) == (
        headline["min_blocking"], headline["min_splitting"],
    )  # fmt: skip


def test_an_unreadable_snapshot_is_a_row_with_its_problem_not_a_failed_batch() -> None:
    row = snapshot_row(SnapshotFile("broken_nodes.json", b'[{"publicKey": 3}]'))
    assert row["problem"] and row["as of"] is None
    readable = SnapshotFile("mobilecoin_nodes.json", SNAPSHOTS[2].read()[0])
    table = compare_snapshots([SnapshotFile("x_nodes.json", b"{not json"), readable])
    assert table["problem"].ne("").tolist() == [False, True]  # the readable one first (it has a date)
    assert table.iloc[0]["validators"] == 10


def test_hostile_folders_are_refused(tmp_path: Path) -> None:
    with pytest.raises(BatchInputError, match="not a folder"):
        snapshots_in_folder(tmp_path / "missing")
    (tmp_path / "[big]_nodes.json").write_bytes(b" " * (MAX_SNAPSHOT_BYTES + 1))
    with pytest.raises(BatchInputError, match="too large: a snapshot may have"):
        snapshots_in_folder(tmp_path)
    (tmp_path / "[big]_nodes.json").unlink()
    (tmp_path / "a_nodes.json").write_bytes(b" " * (MAX_SNAPSHOT_BYTES // 2))
    (tmp_path / "a_organizations.json").write_bytes(b" " * (MAX_SNAPSHOT_BYTES // 2 + 1))
    with pytest.raises(BatchInputError, match="too large"):  # the pair counts as one snapshot
        snapshots_in_folder(tmp_path)
    (tmp_path / "a_organizations.json").unlink()
    with pytest.raises(BatchInputError, match="no snapshots"):
        compare_snapshots([])
    with pytest.raises(BatchInputError, match="bytes; a snapshot may have"):
        compare_snapshots([SnapshotFile("upload_nodes.json", b" " * (MAX_SNAPSHOT_BYTES + 1))])
    with pytest.raises(BatchInputError, match="Sweep by one of"):
        criticality_sweep(loads(*SNAPSHOTS[0].read()), "homeDomain")
    with pytest.raises(BatchInputError, match="nothing to sweep"):
        criticality_sweep(loads(SNAPSHOTS[2].read()[0]), "organization")  # MobileCoin names no organizations


def test_an_unreadable_file_is_one_refusal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a_nodes.json").write_bytes(b"[]")

    def denied(*_args: object, **_kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "open", denied)  # as a file the server may list but not read
    with pytest.raises(BatchInputError, match="cannot be read: Permission denied"):
        snapshots_in_folder(tmp_path)


def test_a_folder_is_listed_not_globbed(tmp_path: Path) -> None:
    """Names with glob characters are files like any other; only `*nodes*.json` files are taken."""
    nodes, organizations = SNAPSHOTS[0].read()
    (tmp_path / "net[1]_nodes.json").write_bytes(nodes)
    (tmp_path / "net[1]_organizations.json").write_bytes(organizations)
    (tmp_path / "notes.txt").write_text("not a snapshot")
    found = snapshots_in_folder(tmp_path)
    assert [s.label for s in found] == ["net[1]_nodes.json"] and found[0].organizations == organizations
    assert json.loads(found[0].nodes)[0]["publicKey"]
