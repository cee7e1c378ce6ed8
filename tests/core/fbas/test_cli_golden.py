"""The CLI's JSON for every shared snapshot is what CTAS printed before the FBAS results became dataclasses
(tests/fixtures/fbas_cli_golden.json.gz, timings left out)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from core.fbas.__main__ import main
from tests.conftest import REPO, SHARED_DATA

ANALYSES = {"quorum_intersection", "minimal_quorums", "top_tier", "minimal_blocking_sets", "minimal_splitting_sets",
            "history_critical_set"}  # fmt: skip

GOLDEN = json.loads(gzip.decompress((REPO / "tests" / "fixtures" / "fbas_cli_golden.json.gz").read_bytes()))
ORGANIZATIONS = {
    "fbas_analyzer/stellarbeat_nodes_2019-09-17.json": "fbas_analyzer/stellarbeat_organizations_2019-09-17.json",
    "python-fbas/network-2025-01-03.json": "python-fbas/organizations-2025-01-03.json",
    "nodejs_fbas_analyzer/nodes.json": "nodejs_fbas_analyzer/organizations.json",
}


def test_every_shared_snapshot_is_in_the_golden_file(shared_data: Path) -> None:
    skipped = {"expected_wasm_dev.json", *ORGANIZATIONS.values()}
    snapshots = {str(p.relative_to(shared_data / "fbas")) for p in (shared_data / "fbas").rglob("*.json")} - skipped
    assert {key.split(" ")[0] for key in GOLDEN} == snapshots


@pytest.mark.parametrize("key", sorted(GOLDEN))
def test_cli_json_is_unchanged(key: str, capsys: pytest.CaptureFixture[str]) -> None:
    name, *flags = key.split(" ")
    argv = ["analyze", str(SHARED_DATA / "fbas" / name), "--merge-by", "node,organization,country,isp"]
    argv += ["--max-sets", "5", "--timeout", "120", "--json", *flags]
    if name in ORGANIZATIONS:
        argv += ["--organizations", str(SHARED_DATA / "fbas" / ORGANIZATIONS[name])]
    expected = GOLDEN[key]
    assert main(argv) == expected["exit"] == 0
    printed = json.loads(capsys.readouterr().out)
    phases_timed = set(printed.pop("elapsed_ms"))  # the values vary run to run; which phases are reported does not
    assert "total" in phases_timed
    analyses = printed.pop("analyses")  # added since: every analysis of every shared snapshot completes
    assert set(analyses) == ANALYSES and all(status["complete"] for status in analyses.values())
    assert printed == expected["json"]
