"""Investigation views: the queue with each score's terms, a signal timeline, an entity graph, and the reports of the
queue, an entity and a case (HTML, and STIX 2.1 for a case's indicators)."""

from __future__ import annotations

import html
import ipaddress
import json

import networkx as nx
import pandas as pd
import plotly.graph_objects as go

from core import stix
from core.cases import triage
from core.cases.signals import SEVERITIES, SOURCES
from core.report import Report

SOURCE_COLOURS = dict(zip(SOURCES, ("#d62728", "#9467bd", "#1f77b4", "#ff7f0e", "#2ca02c", "#8c564b"), strict=True))
KIND_COLOURS = {"host": "#393b79", "user": "#9467bd", "ip": "#1f77b4", "cidr": "#6baed6", "domain": "#17becf",
                "url": "#17becf", "hash": "#8c564b", "email": "#17becf", "h3": "#ff7f0e", "validator": "#2ca02c",
                "organization": "#2ca02c"}  # fmt: skip
SEVERITY_SIZES = dict(zip(SEVERITIES, (7, 9, 11, 14, 17), strict=True))
GRAPH_SIGNALS = 150  # signals drawn in an entity graph (the newest)
SIGNAL_COLUMNS = ["id", "ts", "source", "kind", "severity", "summary", "entities", "link"]


def with_explanations(queue: pd.DataFrame) -> pd.DataFrame:
    """A queue with a `why` column that writes each score out as its four terms."""
    out = queue.copy()
    out["why"] = [
        triage.explain(r.severity_term, r.recency_term, int(r.corroboration), r.volume_term)
        for r in out.itertuples(index=False)
    ]
    return out


def case_signals(evidence: pd.DataFrame) -> pd.DataFrame:
    """Every signal frozen into a case (added alone or with an entity), once each, in time order."""
    rows: dict[int, dict] = {}
    for item in evidence.itertuples(index=False):
        frozen = json.loads(item.frozen)  # written by CaseStore from its own rows
        for signal in frozen.get("signals", [frozen] if item.kind == "signal" else []):
            rows.setdefault(int(signal["id"]), signal)
    frame = pd.DataFrame(list(rows.values()), columns=SIGNAL_COLUMNS)
    frame["ts"] = pd.to_datetime(frame["ts"], format="ISO8601")
    return frame.sort_values(["ts", "id"], kind="stable", ignore_index=True)


def case_links(evidence: pd.DataFrame) -> pd.DataFrame:
    """The entity links frozen with the entities of a case (kind, value, linked_kind, linked_value, relation)."""
    rows = []
    for item in evidence[evidence["kind"] == "entity"].itertuples(index=False):
        frozen = json.loads(item.frozen)
        rows += [{**link, "kind": frozen["entity"]["kind"], "value": frozen["entity"]["value"]}
                 for link in frozen["linked"]]  # fmt: skip
    return pd.DataFrame(rows, columns=["kind", "value", "linked_kind", "linked_value", "relation"])


def entity_rows(signals: pd.DataFrame) -> pd.DataFrame:
    """(kind, value, signals, sources) of every entity the signals name."""
    pairs = [(entry.split(" ", 1)[0], entry.split(" ", 1)[1], s.id, s.source)
             for s in signals.itertuples(index=False) for entry in s.entities]  # fmt: skip
    frame = pd.DataFrame(pairs, columns=["kind", "value", "signal", "source"])
    return (
        frame.groupby(["kind", "value"], as_index=False)
        .agg(signals=("signal", "nunique"), sources=("source", lambda s: ", ".join(sorted(set(s)))))
        .sort_values(["signals", "kind", "value"], ascending=[False, True, True], ignore_index=True)
    )


def timeline_figure(signals: pd.DataFrame, title: str) -> go.Figure:
    """Signals over time, one row per capability, marker size by severity."""
    fig = go.Figure()
    for source in [s for s in SOURCES if s in set(signals["source"])]:
        rows = signals[signals["source"] == source]
        fig.add_trace(go.Scatter(
            x=rows["ts"], y=[source] * len(rows), mode="markers", name=source,
            marker={"color": SOURCE_COLOURS[source], "size": [SEVERITY_SIZES.get(s, 9) for s in rows["severity"]],
                    "line": {"width": 1, "color": "#333"}},
            text=[html.escape(f"{sev}: {text}") for sev, text in zip(rows["severity"], rows["summary"], strict=True)],
            hovertemplate="%{x}<br>%{text}<extra>%{fullData.name}</extra>",
        ))  # fmt: skip
    fig.update_layout(title=title, xaxis_title="Time of the signal (UTC)", yaxis_title="Capability", height=380,
                      margin={"l": 110, "r": 20, "t": 60, "b": 50}, showlegend=False)  # fmt: skip
    return fig


def entity_graph_figure(signals: pd.DataFrame, links: pd.DataFrame | None, title: str) -> go.Figure:
    """Entities (coloured by kind) joined through the signals that name them (coloured by capability) and by their
    links (an IP inside a CIDR or an H3 cell): who is tied to whom, and by which capability."""
    shown = signals.sort_values("ts").tail(GRAPH_SIGNALS)
    graph = nx.Graph()
    for s in shown.itertuples(index=False):
        graph.add_node(("signal", s.id), label=html.escape(f"{s.source}: {s.summary}"), source=s.source)
        for entry in s.entities:
            graph.add_edge(("signal", s.id), ("entity", entry))
    for link in (links if links is not None else pd.DataFrame()).itertuples(index=False):
        graph.add_edge(("entity", f"{link.kind} {link.value}"), ("entity", f"{link.linked_kind} {link.linked_value}"))
    fig = go.Figure()
    if not graph:
        return fig.update_layout(title=title)
    place = nx.spring_layout(graph, seed=7, k=1.2 / max(len(graph), 1) ** 0.5)
    xs, ys = [], []
    for a, b in graph.edges:
        xs += [place[a][0], place[b][0], None]
        ys += [place[a][1], place[b][1], None]
    fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line={"color": "#bbb", "width": 1}, hoverinfo="skip",
                             showlegend=False))  # fmt: skip
    entities = [n for n in graph if n[0] == "entity"]
    for kind in sorted({n[1].split(" ", 1)[0] for n in entities}):
        members = [n for n in entities if n[1].split(" ", 1)[0] == kind]
        fig.add_trace(go.Scatter(
            x=[place[n][0] for n in members], y=[place[n][1] for n in members], mode="markers+text", name=kind,
            marker={"size": 16, "color": KIND_COLOURS.get(kind, "#555"), "symbol": "diamond"},
            text=[html.escape(n[1].split(" ", 1)[1][:28]) for n in members], textposition="top center",
            hovertext=[html.escape(n[1]) for n in members], hoverinfo="text",
        ))  # fmt: skip
    for source in SOURCES:
        members = [n for n in graph if n[0] == "signal" and graph.nodes[n]["source"] == source]
        if members:
            fig.add_trace(go.Scatter(
                x=[place[n][0] for n in members], y=[place[n][1] for n in members], mode="markers",
                name=f"signal: {source}", marker={"size": 8, "color": SOURCE_COLOURS[source]},
                hovertext=[graph.nodes[n]["label"][:160] for n in members], hoverinfo="text",
            ))  # fmt: skip
    fig.update_layout(
        title=title,
        height=600,
        xaxis={"visible": False},
        yaxis={"visible": False},
        legend={"orientation": "h", "y": -0.02, "yanchor": "top", "title": {"text": "Entities and signals:"}},
        margin={"l": 10, "r": 10, "t": 60, "b": 60},
    )
    return fig


def _signal_table(signals: pd.DataFrame) -> pd.DataFrame:
    table = signals[["ts", "source", "kind", "severity", "summary", "entities"]].copy()
    table["entities"] = table["entities"].map(", ".join)
    return table


def queue_report(signal_queue: pd.DataFrame, entity_queue: pd.DataFrame, suppressed: int) -> Report:
    """The triage queue: entities and collapsed signals, best first, each score with its terms."""
    report = Report("Investigations: triage queue", subtitle=f"{suppressed:,} signals hidden by suppressions")
    report.add_markdown(triage.__doc__ or "")
    columns = ["kind", "value", "signals", "sources", "why"]
    report.add_table(with_explanations(entity_queue)[columns], "Entities, best score first")
    columns = ["source", "rule", "entity_kind", "entity_value", "severity", "signals", "summary", "why"]
    report.add_table(with_explanations(signal_queue)[columns], "Signals (duplicates collapsed), best score first")
    return report


def entity_report(kind: str, value: str, signals: pd.DataFrame, links: pd.DataFrame) -> Report:
    """One entity: every signal on it (and on linked entities) over time, across capabilities."""
    report = Report(f"Entity {kind} {value}", subtitle=f"{len(signals):,} signals from "
                    f"{signals['source'].nunique()} capabilities")  # fmt: skip
    if len(signals):
        report.add_figure(timeline_figure(signals, f"Signals on {kind} {value} over time"))
        report.add_figure(entity_graph_figure(signals, links, f"Entities tied to {kind} {value}"))
        report.add_table(_signal_table(signals), "Signals")
    if len(links):
        report.add_table(links, "Linked entities")
    return report


def case_report(case: dict, evidence: pd.DataFrame, notes: pd.DataFrame, audit: pd.DataFrame) -> Report:
    """A case: its state, timeline, entity graph, frozen evidence, notes and audit log."""
    state = case["status"] + (f" ({case['resolution']})" if case.get("resolution") else "")
    report = Report(f"Case #{case['id']}: {case['title']}", subtitle=f"Status {state} · owner {case['owner']}")
    signals = case_signals(evidence)
    report.add_markdown(
        f"Opened {pd.Timestamp(case['opened_at']):%Y-%m-%d %H:%M} UTC, last changed "
        f"{pd.Timestamp(case['updated_at']):%Y-%m-%d %H:%M} UTC. {len(evidence)} pieces of evidence, "
        f"{len(signals)} signals from {signals['source'].nunique()} capabilities. Evidence is frozen as it was when "
        "it was added."
    )
    if len(signals):
        report.add_figure(timeline_figure(signals, "Timeline of the case's signals"))
        report.add_figure(entity_graph_figure(signals, case_links(evidence), "Entities of the case"))
        report.add_table(entity_rows(signals), "Entities")
        report.add_table(_signal_table(signals), "Signals (frozen)")
    report.add_table(evidence[["item", "kind", "ref", "summary", "added_at", "added_by"]], "Evidence")
    for note in notes.itertuples(index=False):
        report.add_table(pd.DataFrame({"note": [note.text]}), f"Note {note.note} by {note.author}, "
                         f"{pd.Timestamp(note.written_at):%Y-%m-%d %H:%M} UTC")  # fmt: skip
    report.add_table(audit[["seq", "changed_at", "actor", "action", "detail"]], "Audit log")
    return report


def _stix_kind(kind: str, value: str) -> str | None:
    if kind == "ip":
        return "ipv4" if ipaddress.ip_address(value).version == 4 else "ipv6"
    if kind == "cidr":
        return "cidr" if ipaddress.ip_network(value).version == 4 else "ipv6"  # STIX takes a network as an address
    if kind == "hash":
        return {32: "md5", 40: "sha1", 64: "sha256"}.get(len(value))
    return kind if kind in ("domain", "url", "email") else None


def case_stix(case: dict, evidence: pd.DataFrame) -> str:
    """A STIX 2.1 bundle of a case's indicators (IPs, networks, domains, URLs, e-mail addresses and hashes) and a
    report object that refers to them."""
    now, opened = stix.timestamp(), pd.Timestamp(case["opened_at"]).isoformat()
    seen = {(r.kind, r.value): f"Seen by {r.sources}" for r in entity_rows(case_signals(evidence)).itertuples()}
    for item in evidence[evidence["kind"] == "entity"].itertuples(index=False):
        entity = json.loads(item.frozen)["entity"]  # an entity added with no signal on it still counts
        seen.setdefault((entity["kind"], entity["value"]), "Added to the case")
    objects = []
    for (kind, value), why in seen.items():
        stix_kind = _stix_kind(kind, value)
        made = stix.indicator(stix_kind, value, now, description=why) if stix_kind else None
        if made is not None:
            objects.append(made)
    if objects:
        objects.append({
            "type": "report", "spec_version": "2.1", "id": stix.object_id("report", f"case:{case['id']}:{opened}"),
            "created": now, "modified": now, "published": now,
            "name": f"CTAS case #{case['id']}: {case['title']}"[:300],
            "object_refs": [o["id"] for o in objects],
        })  # fmt: skip
    return stix.bundle(objects)
