"""The stream, the queue and cases on a real warehouse file: the score is the reference formula and monotone in each
term, corroboration beats volume, suppressions hide and expire, evidence stays frozen, the audit log only grows."""

from __future__ import annotations

import ipaddress
import json
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.cases import triage
from core.cases.links import ip_in_cidr
from core.cases.signals import SEVERITIES, SOURCES, Entity, Signal
from core.cases.store import CaseError, CaseStore
from core.warehouse import Warehouse

NOW = datetime(2026, 12, 1, 12, 0)
FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture
def store(warehouse: Warehouse) -> CaseStore:
    return CaseStore(warehouse)


def _signal(key: str, source: str = "intel", severity: str = "high", entity: Entity | None = None, *,
            rule: str = "r") -> Signal:  # fmt: skip
    entity = entity or Entity.of("ip", "192.0.2.1")
    return Signal(source, "k", rule, key, NOW, severity, f"signal {key}", (entity,), {"n": 1}, "intel?run=1")


terms = st.tuples(
    st.floats(1, 5), st.floats(0.001, 1), st.integers(1, len(SOURCES)), st.floats(1, triage.volume(10**9))
)


@given(terms, st.integers(0, 3), st.floats(0.001, 10))
def test_the_score_is_monotone_in_each_term(values: tuple, which: int, step: float) -> None:
    raised = list(values)
    raised[which] = raised[which] + (max(1, round(step)) if which == 2 else step)
    assert triage.score(*raised) > triage.score(*values)


@given(st.floats(0, 10_000), st.floats(0, 10_000), st.integers(1, 10**6), st.integers(1, 10**6))
def test_recency_falls_and_volume_rises_but_never_past_a_second_capability(a, b, m, n) -> None:
    assert (triage.recency(a) >= triage.recency(b)) == (a <= b) or triage.recency(a) == triage.recency(b)
    assert (triage.volume(m) <= triage.volume(n)) == (m <= n) or triage.volume(m) == triage.volume(n)
    assert triage.score(1, 1, 1, triage.volume(max(m, n))) < triage.score(1, 1, 2, triage.volume(1))


@FAST
@given(st.lists(st.tuples(st.sampled_from(SOURCES), st.sampled_from(SEVERITIES), st.integers(0, 500),
                          st.integers(0, 3)), min_size=1, max_size=30))  # fmt: skip
def test_the_warehouse_scores_equal_the_reference_formula(tmp_path_factory, rows: list[tuple]) -> None:
    store = CaseStore(Warehouse(tmp_path_factory.mktemp("q") / "q.duckdb"))
    store.publish([_signal(f"s{i}", source, severity, Entity.of("host", f"h{host}"))
                   for i, (source, severity, _, host) in enumerate(rows)])  # fmt: skip
    hours = {f"s{i}": age for i, (_, _, age, _) in enumerate(rows)}
    with store.warehouse.transaction() as cur:  # each signal raised `age` hours before NOW
        for key, age in hours.items():
            cur.execute("UPDATE case_signals SET raised_at = ? WHERE key = ?", [NOW - timedelta(hours=age), key])
    queue = store.entity_queue(at=NOW).set_index("value")
    for host in {f"h{h}" for *_, h in rows}:
        mine = [(src, sev, age) for (src, sev, age, h) in rows if f"h{h}" == host]
        expected = triage.score(
            max(triage.SEVERITY_WEIGHT[sev] for _, sev, _ in mine), triage.recency(min(age for *_, age in mine)),
            len({src for src, _, _ in mine}), triage.volume(len(mine)),
        )  # fmt: skip
        assert queue.loc[host, "score"] == pytest.approx(expected, rel=1e-9)
    store.warehouse.close()


def test_two_capabilities_on_one_entity_outrank_a_hundred_signals_from_one(store: CaseStore) -> None:
    noisy = Entity.of("host", "noisy")
    store.publish([_signal(f"n{i}", "host monitor", entity=noisy) for i in range(100)])
    store.publish([_signal("a", "host monitor", entity=Entity.of("host", "pair")),
                   _signal("b", "behaviour", entity=Entity.of("host", "pair"))])  # fmt: skip
    queue = store.entity_queue(at=NOW)
    assert list(queue["value"][:2]) == ["pair", "noisy"]
    assert queue.iloc[0]["corroboration"] == 2 and queue.iloc[1]["signals"] == 100
    groups = store.signal_queue(at=NOW)
    noisy_row = groups[groups["entity_value"] == "noisy"].iloc[0]
    assert noisy_row["signals"] == 100 and len(groups) == 3  # a hundred duplicates collapse into one row


def test_an_ip_inside_a_cidr_or_an_h3_cell_shares_their_corroboration(store: CaseStore) -> None:
    located = Entity.of("ip", "61.131.218.218", 28.55, 115.93)
    store.publish([_signal("ip", "intel", entity=located)])  # each link made whichever side arrives first
    store.publish([_signal("net", "intel", entity=Entity.of("cidr", "61.131.0.0/16"))])
    store.publish([_signal("cell", "threat map", entity=Entity.of("h3", "85418323fffffff"))])
    store.publish([_signal("later", "intel", entity=Entity.of("ip", "61.131.9.9", 28.55, 115.93))])
    assert set(store.linked("h3", "85418323fffffff")["linked_value"]) == {"61.131.218.218", "61.131.9.9"}
    assert set(store.linked("cidr", "61.131.0.0/16")["linked_value"]) == {"61.131.218.218", "61.131.9.9"}
    queue = store.entity_queue(at=NOW).set_index("value")
    assert queue.loc["61.131.218.218", "corroboration"] == 2
    assert list(queue.loc["85418323fffffff", "sources"]) == ["intel", "threat map"]
    via = set(store.entity_signals("ip", "61.131.218.218")["via"])
    assert via == {"ip 61.131.218.218", "cidr 61.131.0.0/16", "h3 85418323fffffff"}


@given(st.lists(st.ip_addresses(v=4), max_size=40), st.lists(st.tuples(st.ip_addresses(v=4), st.integers(8, 32)),
                                                              max_size=8))  # fmt: skip
def test_cidr_links_equal_a_brute_force_check(ips: list, networks: list) -> None:
    cidrs = sorted({str(ipaddress.ip_network(f"{a}/{p}", strict=False)) for a, p in networks})
    values = sorted({str(a) for a in ips})
    expected = {(ip, c) for ip in values for c in cidrs if ipaddress.ip_address(ip) in ipaddress.ip_network(c)}
    assert set(map(tuple, ip_in_cidr(values, cidrs).to_numpy())) == expected


def test_publishing_a_key_again_changes_nothing(store: CaseStore) -> None:
    assert store.publish([_signal("a"), _signal("b")]) == 2
    assert store.publish([_signal("a"), _signal("b"), _signal("c")]) == 1
    assert store.signal_count() == 3


def test_a_suppression_hides_one_rule_on_one_entity_until_it_expires(store: CaseStore) -> None:
    noisy, other = Entity.of("ip", "192.0.2.9"), Entity.of("ip", "192.0.2.10")
    store.publish([_signal("a", rule="cdn", entity=noisy), _signal("b", rule="cdn", entity=other),
                   _signal("c", rule="tor", entity=noisy)])  # fmt: skip
    store.suppress("intel", "cdn", noisy, reason="a CDN address", analyst="ana", days=2)
    shown = store.signal_queue()
    assert set(zip(shown["rule"], shown["entity_value"], strict=True)) == {("cdn", "192.0.2.10"), ("tor", "192.0.2.9")}
    assert store.suppressed_count() == 1
    assert store.suppressed_count(at=datetime.now() + timedelta(days=3)) == 0
    with pytest.raises(CaseError):
        store.suppress("intel", "cdn", noisy, reason=" ", analyst="ana", days=2)
    with pytest.raises(CaseError):
        store.suppress("intel", "cdn", noisy, reason="x", analyst="ana", days=10_000)


@FAST
@given(st.lists(st.sampled_from(SEVERITIES), min_size=1, max_size=12), st.booleans())
def test_frozen_evidence_is_unchanged_after_the_source_rows_are_deleted(tmp_path_factory, severities, by_entity):
    store = CaseStore(Warehouse(tmp_path_factory.mktemp("f") / "f.duckdb"))
    host = Entity.of("host", "web-1")
    store.publish([_signal(f"s{i}", entity=host, severity=s) for i, s in enumerate(severities)])
    case = store.open_case("web-1", "ana", "ana")
    if by_entity:
        store.add_entity(case, host, "ana")
    else:
        store.add_signals(case, store.entity_signals("host", "web-1")["id"].tolist(), "ana")
    before = store.evidence(case)
    with store.warehouse.transaction() as cur:
        cur.execute("UPDATE case_signals SET summary = 'rewritten', severity = 'info'")
        cur.execute("DELETE FROM case_signal_entities")
        cur.execute("DELETE FROM case_signals")
    after = store.evidence(case)
    assert after.equals(before)
    frozen = json.loads(after["frozen"].iloc[0])
    signals = frozen["signals"] if by_entity else [frozen]
    assert {s["severity"] for s in signals} <= set(severities) and signals[0]["summary"].startswith("signal s")
    store.warehouse.close()


operations = st.lists(st.sampled_from(["note", "status", "close", "owner", "evidence", "bad status", "bad note"]),
                      min_size=1, max_size=15)  # fmt: skip


@FAST
@given(operations)
def test_the_audit_log_only_grows(tmp_path_factory, steps: list[str]) -> None:
    store = CaseStore(Warehouse(tmp_path_factory.mktemp("a") / "a.duckdb"))
    store.publish([_signal(f"s{i}", entity=Entity.of("user", f"u{i}")) for i in range(3)])
    case = store.open_case("audit", "ana", "ana")
    log = store.audit(case)
    for number, step in enumerate(steps):
        act = {
            "note": lambda n=number: store.add_note(case, f"note {n}", "ana"),
            "status": lambda n=number: store.set_status(case, "in progress", "ana"),
            "close": lambda n=number: store.set_status(case, "closed", "ana", "benign"),
            "owner": lambda n=number: store.set_owner(case, f"owner {n}", "ana"),
            "evidence": lambda n=number: store.add_signals(case, [1 + n % 3], "ana"),
            "bad status": lambda n=number: store.set_status(case, "closed", "ana"),  # no resolution
            "bad note": lambda n=number: store.add_note(case, "", "ana"),
        }[step]
        refused = step.startswith("bad")
        try:
            act()
        except CaseError:
            assert refused
        now = store.audit(case)
        assert now.head(len(log)).equals(log)  # what was there is untouched
        assert len(now) >= len(log) and (len(now) == len(log) or not refused)
        log = now
    store.warehouse.close()


def test_case_status_owner_and_names_are_checked(store: CaseStore) -> None:
    case = store.open_case("t", "ana", "ana")
    for bad in (lambda: store.set_status(case, "done", "ana"), lambda: store.set_status(case, "open", "ana", "benign"),
                lambda: store.set_status(case, "closed", "ana", "solved"), lambda: store.set_owner(case, "", "ana"),
                lambda: store.open_case(" ", "ana", "ana"), lambda: store.add_note(999, "n", "ana"),
                lambda: store.add_note(case, "x" * 10_001, "ana")):  # fmt: skip
        with pytest.raises(CaseError):
            bad()
    store.set_status(case, "closed", "ana", "false positive")
    assert store.case(case)["resolution"] == "false positive"
    long = store.case(store.open_case("url " + "x" * 600, "ana", "ana"))["title"]
    assert len(long) == 200 and long.endswith("…")
    assert list(store.audit(case)["action"]) == ["opened", "status changed"]
