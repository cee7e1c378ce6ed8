"""The signal schema: entity values normalised to one spelling, anything else refused with a SignalError."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.cases.signals import ENTITY_KINDS, MAX_EVIDENCE_BYTES, Entity, Signal, SignalError, link, normalise


@given(st.ip_addresses(v=4))
def test_an_ipv4_has_one_spelling_however_it_is_written(address: ipaddress.IPv4Address) -> None:
    text = str(address)
    mapped = f"::ffff:{text}"
    assert normalise("ip", text) == normalise("ip", f" {text} ") == normalise("ip", mapped) == text


@given(st.ip_addresses(v=6))
def test_an_ipv6_is_compressed_and_lower_case(address: ipaddress.IPv6Address) -> None:
    exploded = address.exploded.upper()
    expected = (address.ipv4_mapped or address).compressed
    assert normalise("ip", exploded) == normalise("ip", f"[{exploded}]") == expected


@given(st.from_regex(r"[a-z][a-z0-9-]{0,20}(\.[a-z][a-z0-9-]{0,20}){1,3}", fullmatch=True))
def test_domains_and_hosts_ignore_case_and_a_trailing_dot(name: str) -> None:
    assert normalise("domain", name.upper() + ".") == name
    assert normalise("host", name.upper()) == name


@given(st.sampled_from(ENTITY_KINDS), st.text(max_size=600))
def test_any_text_is_normalised_or_refused_with_a_signal_error(kind: str, text: str) -> None:
    try:
        value = normalise(kind, text)
    except SignalError as exc:
        assert exc.message and "Traceback" not in exc.message
    else:
        assert value and len(value) <= 600 and value == value.strip()
        assert not any(ord(c) < 32 for c in value)


@pytest.mark.parametrize(
    ("kind", "value"),
    [("ip", "999.1.1.1"), ("cidr", "10.0.0.1"), ("hash", "abc"), ("url", "javascript:alert(1)"), ("h3", "zz"),
     ("validator", "GABC"), ("email", "no-at-sign"), ("planet", "earth"), ("user", "\x00\x01"), ("host", "x" * 600),
     ("h3", "f" * 20), ("ip", "010.002.003.004")],
)  # fmt: skip
def test_values_that_are_not_of_their_kind_are_refused(kind: str, value: str) -> None:
    with pytest.raises(SignalError):
        normalise(kind, value)


def _signal(**changes) -> Signal:
    fields = {"source": "intel", "kind": "intel match", "rule": "ipsum", "key": "k1", "ts": datetime(2026, 1, 1),
              "severity": "high", "summary": "seen", "entities": (Entity.of("ip", "192.0.2.1"),)}  # fmt: skip
    return Signal(**{**fields, **changes})


@pytest.mark.parametrize(
    "changes",
    [{"source": "mars"}, {"severity": "urgent"}, {"entities": ()}, {"summary": ""}, {"link": "https://evil.example"},
     {"evidence": {"rows": "x" * MAX_EVIDENCE_BYTES}}, {"ts": "yesterday"}, {"key": "k" * 600},
     {"entities": (Entity("ip", "not an address"),)}, {"entities": ("192.0.2.1",)}],
)  # fmt: skip
def test_signals_outside_the_schema_are_refused(changes: dict) -> None:
    with pytest.raises(SignalError):
        _signal(**changes)


def test_a_signal_keeps_one_line_utc_and_valid_json_evidence() -> None:
    signal = _signal(summary="two\nlines\x1b[31m red", ts=datetime(2026, 1, 1, 12, tzinfo=UTC),
                     evidence={"score": float("nan"), "when": datetime(2026, 1, 1)})  # fmt: skip
    assert signal.summary == "two lines [31m red" and signal.ts.tzinfo is None
    assert signal.evidence_json == '{"score": null, "when": "2026-01-01 00:00:00"}'
    assert link("intel", run=4, empty=None) == "intel?run=4"
    with pytest.raises(SignalError):
        link("../etc/passwd")


def test_an_entity_keeps_a_location_only_when_it_is_one() -> None:
    assert Entity.of("ip", "192.0.2.1", 91.0, 10.0).lat is None
    assert Entity.of("ip", "192.0.2.1", float("nan"), 10.0).lat is None
    assert Entity.of("ip", "192.0.2.1", 45.0, 10.0).lon == 10.0
