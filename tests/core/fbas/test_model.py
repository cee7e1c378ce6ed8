"""FBAS loading: both JSON formats, organizations, data-quality warnings, and clear errors for bad input."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.fbas.model import FbasFormatError, loads
from core.fbas.scan import scan

FIELDS = [
    "publicKey", "quorumSet", "threshold", "validators", "innerQuorumSets", "name", "geoData", "isp",
    "organizationId", "isValidating", "id", "qset", "qsets", "members", "attrs", "countryName",
]  # fmt: skip


def test_stellarbeat_2025_snapshot_with_null_quorum_sets(shared_data: Path) -> None:
    folder = shared_data / "fbas" / "python-fbas"
    fbas = loads(
        (folder / "network-2025-01-03.json").read_bytes(), (folder / "organizations-2025-01-03.json").read_bytes()
    )
    assert len(fbas.nodes) == 185
    assert len(fbas.validators) == 91
    codes = Counter(w.code for w in fbas.warnings)
    assert codes["missing-qset"] == 94
    sdf = "GABMKJM6I25XI4K7U6XWMULOUQIQ27BCTMLS6BYYSOWKTBUXVRJSXHYQ"
    assert fbas.group_of(sdf, "organization") == "Stellar Development Foundation"
    assert fbas.group_of(sdf, "node") == sdf
    assert fbas.nodes[sdf].field("homeDomain") == "www.stellar.org"


def test_sentinel_thresholds_read_as_no_quorum_set(shared_data: Path) -> None:
    fbas = loads((shared_data / "fbas" / "fbas_analyzer" / "stellarbeat_nodes_2019-09-17.json").read_bytes())
    assert len(fbas.nodes) == 172
    assert len(fbas.validators) == 75
    sentinel = [w for w in fbas.warnings if w.code == "sentinel-threshold"]
    assert len(sentinel) == 172 - 75


def test_python_fbas_format_with_nested_qsets(shared_data: Path) -> None:
    fbas = loads((shared_data / "fbas" / "python-fbas" / "validators.json").read_bytes())
    assert len(fbas.nodes) == 75
    node = fbas.nodes["GAFBSNT7TTRU3GN3BFXCQMJCDGEBE7LGBUHBYR576CXY7NTW6BC3272J"]
    assert node.name == "SCHUNK1"
    assert node.qset is not None
    assert (node.qset.threshold, len(node.qset.inner)) == (6, 8)
    assert node.qset.depth() == 3  # one organisation's inner set holds two further inner sets
    assert node.field("country") == "Germany"


def test_qsets_without_inner_key_are_flagged(shared_data: Path) -> None:
    fbas = loads((shared_data / "fbas" / "fbas_analyzer" / "mobilecoin_nodes_2021-10-22.json").read_bytes())
    assert {w.code for w in fbas.warnings} == {"no-inner-key"}
    assert {n.qset.threshold for n in fbas.nodes.values() if n.qset} == {7}


def test_quality_warnings_for_odd_quorum_sets() -> None:
    text = """[
      {"publicKey": "A", "quorumSet": {"threshold": 3, "validators": ["A", "B"], "innerQuorumSets": []}},
      {"publicKey": "B", "quorumSet": {"threshold": 0, "validators": ["A", "A", "Z"], "innerQuorumSets": []}},
      {"publicKey": "A", "quorumSet": null}
    ]"""
    codes = {(w.code, w.node) for w in loads(text).warnings}
    assert codes == {
        ("threshold-too-high", "A"),
        ("threshold-below-one", "B"),
        ("duplicate-member", "B"),
        ("duplicate-node", "A"),
        ("missing-qset", "A"),
        ("unknown-validator", "B"),
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "not valid JSON"),
        ("[]", "empty"),
        ('{"nodes": 1}', "Expected a stellarbeat nodes list"),
        ('[{"name": "x"}]', "publicKey"),
        ('[{"publicKey": "A", "quorumSet": {"threshold": "two"}}]', "integer threshold"),
        ('{"validators": [], "qsets": {}}', "non-empty 'validators'"),
    ],
)
def test_bad_input_raises_a_clear_error(text: str, message: str) -> None:
    with pytest.raises(FbasFormatError, match=message):
        loads(text)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.sampled_from(FIELDS), children, max_size=5),
    max_leaves=30,
)


@settings(max_examples=400, deadline=None)
@given(nodes=st.lists(st.dictionaries(st.sampled_from(FIELDS), JSON, max_size=6), max_size=4) | JSON)
def test_any_json_is_loaded_and_scanned_or_refused_cleanly(nodes) -> None:
    try:
        fbas = loads(json.dumps(nodes))
    except FbasFormatError as exc:
        assert str(exc)
        return
    scan(fbas, merges=["node", "organization", "country", "isp"])


@pytest.mark.parametrize(
    "text",
    [
        '[{"publicKey": "A", "quorumSet": {"threshold": 1, "validators": 5}}]',
        '[{"publicKey": "A", "quorumSet": {"threshold": 1, "validators": "AB"}}]',
        '[{"publicKey": "A", "quorumSet": {"threshold": 1, "innerQuorumSets": 3}}]',
        '[{"publicKey": "A", "geoData": "here", "quorumSet": null}]',
        '{"validators": [{"id": "A", "qset": ["x"]}], "qsets": {}}',
        '{"validators": [{"id": "A", "qset": "q"}], "qsets": {"q": {"threshold": 1, "members": 7}}}',
        "[" * 200_000,
    ],
)
def test_wrong_shapes_are_format_errors(text: str) -> None:
    with pytest.raises(FbasFormatError):
        loads(text)


def test_organization_validators_must_be_a_list() -> None:
    with pytest.raises(FbasFormatError, match="list of strings"):
        loads('[{"publicKey": "A", "quorumSet": null}]', '[{"id": "o", "validators": 5}]')
