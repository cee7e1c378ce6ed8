"""Differential tests against stellarbeat's WASM scanner (the Rust fbas_analyzer), on every dev snapshot.

The scanner runs as a test oracle only (tests/fbas_oracle, installed by the test setup), never at run time.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from functools import cache
from pathlib import Path

import pytest

from core.fbas.analysis import (
    compile_fbas,
    merge_sets,
    minimal_blocking_sets,
    minimal_quorums,
    quorum_intersection,
    symmetric_top_tier,
    top_tier,
)
from core.fbas.model import QuorumSet
from core.fbas.splitting import minimal_splitting_sets
from tests.conftest import REPO, SHARED_DATA
from tests.core.fbas.test_analysis import CASES, ORGANIZATIONS, _load, _qset_from_json

ORACLE = REPO / "tests" / "fbas_oracle"
MERGES = ("organization", "isp", "country")


@cache
def oracle(name: str) -> dict:
    """The scanner's results for one snapshot (all merges), from a separate node process."""
    if shutil.which("node") is None or not (ORACLE / "node_modules").is_dir():
        pytest.fail("The FBAS oracle is not installed: run the README's test command (it runs npm ci there).")
    folder = SHARED_DATA / "fbas"
    command = ["node", str(ORACLE / "scan.js"), str(folder / name)]
    if name in ORGANIZATIONS:
        command.append(str(folder / ORGANIZATIONS[name]))
    output = subprocess.run(command, capture_output=True, text=True, check=True, timeout=600).stdout
    return json.loads(output)["results"]


def _sets(raw: list[list[str]]) -> set[frozenset[str]]:
    return {frozenset(s) for s in raw}


@pytest.mark.parametrize("name", CASES)
def test_same_sets_as_the_scanner(name: str, shared_data: Path) -> None:
    expected = oracle(name)
    fbas = _load(name)
    compiled = compile_fbas(fbas, stellarbeat_parity=True)
    minimal = minimal_quorums(compiled)
    faulty = frozenset(k for k, node in fbas.nodes.items() if node.is_validating is False)
    blocking = minimal_blocking_sets(compiled, minimal, faulty)
    splitting = minimal_splitting_sets(compiled)
    tier = top_tier(minimal)

    node = expected["node"]
    assert quorum_intersection(compiled, minimal).intersects == node["quorum_intersection"]
    assert set(minimal) == _sets(node["minimal_quorums"])
    assert set(blocking) == _sets(node["minimal_blocking_sets"])
    assert set(splitting) == _sets(node["minimal_splitting_sets"])
    assert tier == frozenset(node["top_tier"])
    symmetric = symmetric_top_tier(fbas, tier, compiled.removed)
    if node["symmetric_top_tier"] is None:
        assert symmetric is None
    else:
        assert symmetric == _canonical_json(node["symmetric_top_tier"])

    for merge in MERGES:

        def group(key: str, merge: str = merge) -> str:
            return fbas.group_of(key, merge) or key

        assert {group(k) for k in tier} == set(expected[merge]["top_tier"]), merge
        assert set(merge_sets(blocking, group)) == _sets(expected[merge]["minimal_blocking_sets"]), merge
        assert set(merge_sets(splitting, group)) == _sets(expected[merge]["minimal_splitting_sets"]), merge


def _canonical_json(raw: dict) -> QuorumSet:
    from core.fbas.analysis import canonical

    return canonical(_qset_from_json(raw))
