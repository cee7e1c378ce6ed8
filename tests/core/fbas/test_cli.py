"""The FBAS command line: the JSON contract on a real snapshot, and one clear line with exit 2 on bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from core.fbas.analysis import compile_fbas, is_quorum
from core.fbas.model import loads
from core.fbas.synthetic import almost_symmetric
from tests.conftest import REPO


def _cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "core.fbas", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_analyze_prints_the_json_contract(shared_data: Path) -> None:
    folder = shared_data / "fbas" / "fbas_analyzer"
    result = _cli(
        "analyze",
        str(folder / "stellarbeat_nodes_2019-09-17.json"),
        "--organizations",
        str(folder / "stellarbeat_organizations_2019-09-17.json"),
        "--merge-by",
        "node,organization,country",
        "--stellarbeat-parity",
        "--max-sets",
        "3",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["nodes"], report["validators"]) == (172, 75)
    node, organization, country = (report["results"][m] for m in ("node", "organization", "country"))
    assert node["quorum_intersection"] is True and node["disjoint_quorums"] is None
    assert (node["minimal_quorums"]["count"], node["minimal_quorums"]["min"]) == (1161, 8)
    assert len(node["minimal_quorums"]["sets"]) == 3
    assert (node["minimal_blocking_sets"]["count"], node["minimal_blocking_sets"]["min"]) == (126, 4)
    assert node["symmetric_top_tier"]["threshold"] == 4
    assert len(node["top_tier"]) == 17
    # The anchors' known answer: five organizations, minimal quorums of four, every pair of them blocks.
    assert organization["top_tier"] == sorted(
        ["COINQVEST Limited", "Keybase", "LOBSTR", "SatoshiPay", "Stellar Development Foundation"]
    )
    assert (organization["minimal_quorums"]["count"], organization["minimal_quorums"]["min"]) == (5, 4)
    assert (organization["minimal_blocking_sets"]["count"], organization["minimal_blocking_sets"]["max"]) == (10, 2)
    assert country["top_tier"] == ["Finland", "Germany", "United States"]
    assert organization["symmetric_top_tier"] == {  # "4 of the 5 organizations", each inner set one organization
        "threshold": 4,
        "validators": organization["top_tier"],
        "innerQuorumSets": [],
    }
    assert (node["minimal_splitting_sets"]["count"], node["minimal_splitting_sets"]["min"]) == (378, 3)
    assert (organization["minimal_splitting_sets"]["count"], organization["minimal_splitting_sets"]["min"]) == (10, 3)
    history = node["history_critical_set"]  # 2019 exports carry no historyArchiveHasError field
    assert history["size"] is None and "does not report history-archive errors" in history["reason"]


def test_disjoint_quorums_are_reported(shared_data: Path) -> None:
    path = shared_data / "fbas" / "fbas_analyzer" / "broken.json"
    result = _cli("analyze", str(path), "--json")
    assert result.returncode == 0, result.stderr
    node = json.loads(result.stdout)["results"]["node"]
    first, second = node["disjoint_quorums"]
    assert node["quorum_intersection"] is False
    assert first and second and not set(first) & set(second)
    compiled = compile_fbas(loads(path.read_bytes()))
    assert is_quorum(compiled, frozenset(first)) and is_quorum(compiled, frozenset(second))


def test_missing_quorum_sets_read_unconstrained(shared_data: Path) -> None:
    path = shared_data / "fbas" / "python-fbas" / "missing_2.json"
    strict = json.loads(_cli("analyze", str(path), "--json").stdout)["results"]["node"]
    assert strict["quorum_intersection"] is False and strict["minimal_quorums"]["count"] == 0  # no quorum at all
    result = _cli("analyze", str(path), "--missing-qset", "unconstrained", "--json")
    assert result.returncode == 0, result.stderr
    node = json.loads(result.stdout)["results"]["node"]
    assert node["quorum_intersection"] is False
    assert node["disjoint_quorums"] == [["PK1", "PK3"], ["PK2", "PK4"]]
    assert node["minimal_quorums"]["count"] == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not json", "not valid JSON"),
        (b"[]", "empty"),
        (b'{"a": 1}', "Expected a stellarbeat nodes list"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "nodes.json"
    path.write_bytes(content)
    result = _cli("analyze", str(path), "--json")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and message in result.stderr


def test_unknown_grouping_and_missing_file_exit_2(shared_data: Path, tmp_path: Path) -> None:
    nodes = str(shared_data / "fbas" / "python-fbas" / "circular_1.json")
    assert "Unknown grouping 'planet!'" in _cli("analyze", nodes, "--merge-by", "planet!", "--json").stderr
    missing = _cli("analyze", str(tmp_path / "absent.json"), "--json")
    assert missing.returncode == 2 and "Cannot read" in missing.stderr


def test_timeout_stops_the_scan(shared_data: Path) -> None:
    nodes = str(shared_data / "fbas" / "python-fbas" / "network-2025-01-03.json")
    result = _cli("analyze", nodes, "--timeout", "0.01", "--json")
    assert result.returncode == 3
    assert "did not finish within 0.01 s" in result.stderr


def test_exploding_networks_fall_back_to_the_smallest_sets(tmp_path: Path) -> None:
    nodes = tmp_path / "synthetic.json"
    nodes.write_text(json.dumps(almost_symmetric(12, deletions=3, seed=12)))
    result = _cli("analyze", str(nodes), "--max-steps", "200000", "--timeout", "30", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    analyses = report["analyses"]
    assert analyses["minimal_quorums"]["reason"].startswith("Stopped after 200,000 search steps")
    assert analyses["minimal_quorums"]["fallback"] == "not answered"
    assert analyses["quorum_intersection"]["complete"] and analyses["top_tier"]["complete"]
    assert analyses["minimal_blocking_sets"]["fallback"] == "smallest set only"
    node = report["results"]["node"]
    assert len(node["top_tier"]) == 36  # found from the quorum structure, without listing the minimal quorums
    assert node["quorum_intersection"] is True
    assert node["minimal_quorums"] is None
    assert node["minimal_splitting_sets"]["min"] == 4 and len(node["minimal_splitting_sets"]["sets"][0]) == 4
    assert node["minimal_blocking_sets"]["min"] == 10  # two validators in each of 5 of the 12 organizations


def test_grouping_by_any_node_field(shared_data: Path) -> None:
    nodes = str(shared_data / "fbas" / "python-fbas" / "network-2025-01-03.json")
    result = _cli("analyze", nodes, "--merge-by", "homeDomain", "--stellarbeat-parity", "--max-sets", "1", "--json")
    by_domain = json.loads(result.stdout)["results"]["homeDomain"]
    assert "www.stellar.org" in by_domain["top_tier"]
    assert len(by_domain["top_tier"]) == 7  # the seven top-tier organizations publish seven home domains


def test_compare_and_sweep_print_the_batch_tables(shared_data: Path) -> None:
    compared = _cli("compare", str(REPO / "data" / "fbas"))
    assert compared.returncode == 0, compared.stderr
    rows = json.loads(compared.stdout)
    assert [r["quorum intersection"] for r in rows] == [False, True, True, True]  # oldest first: 2018's fork
    folder = shared_data / "fbas" / "python-fbas"
    swept = _cli("sweep", str(folder / "network-2025-01-03.json"), "--organizations",
                 str(folder / "organizations-2025-01-03.json"), "--by", "organization")  # fmt: skip
    assert swept.returncode == 0, swept.stderr
    ranked = json.loads(swept.stdout)
    assert ranked[0]["group"] == "(nothing offline)" and [r["rank"] for r in ranked] == list(range(len(ranked)))
    assert ranked[1]["halt with"] < ranked[0]["halt with"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("compare", "no/such/folder"), "is not a folder"),
        (("sweep", "data/fbas/mobilecoin_2021-10-22_nodes.json"), "nothing to sweep"),
        (("sweep", "data/fbas/mobilecoin_2021-10-22_nodes.json", "--by", "planet"), "invalid choice"),
    ],
)
def test_bad_batch_input_is_one_line_and_exit_2(args: tuple[str, ...], message: str) -> None:
    result = _cli(*args)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and message in result.stderr
