"""The trust graph of an FBAS as a plotly figure: validators by organization, top tier inside, one set highlighted.

Layout: the top tier on an inner ring and every other validator on an outer ring, each ring ordered by organization
so an organization's nodes sit together; trust edges (a node naming another in its quorum set) are faint chords.
"""

from __future__ import annotations

import math

import networkx as nx
import plotly.graph_objects as go

from core.fbas.model import Fbas
from core.fbas.whatif import node_label

PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#393b79", "#637939",
    "#8c6d31", "#7b4173", "#3182bd", "#e6550d", "#31a354", "#756bb1", "#843c39", "#6b6ecf", "#b5cf6b", "#e7ba52",
)  # fmt: skip
OFFLINE = "#9aa3ad"
OFFLINE_GROUP = "offline (what-if)"
MAX_OFFLINE_LABELS = 30
OTHER = "#b8c2cf"
HIGHLIGHT = "#d62728"
MAX_LEGEND = 12


def trust_graph(fbas: Fbas) -> nx.DiGraph:
    """Validators (nodes with a quorum set) and an edge to every validator their quorum set names."""
    graph = nx.DiGraph()
    validators = set(fbas.validators)
    for key in validators:
        graph.add_node(key)
        graph.add_edges_from((key, m) for m in fbas.nodes[key].qset.members() if m in validators and m != key)
    return graph


def _organization(fbas: Fbas, key: str) -> str:
    return fbas.organizations.get(key) or "(no organization)"


def ring_layout(fbas: Fbas, top_tier: frozenset[str]) -> dict[str, tuple[float, float]]:
    """Top tier on the inner ring, other validators on the outer ring, each ordered by organization."""
    positions: dict[str, tuple[float, float]] = {}
    inner = sorted((k for k in fbas.validators if k in top_tier), key=lambda k: (_organization(fbas, k), k))
    outer = sorted((k for k in fbas.validators if k not in top_tier), key=lambda k: (_organization(fbas, k), k))
    for radius, ring in ((1.0, inner), (2.0, outer)):
        for index, key in enumerate(ring):
            angle = 2 * math.pi * index / max(len(ring), 1) + math.pi / 2
            positions[key] = (radius * math.cos(angle), radius * math.sin(angle))
    return positions


def topology_figure(
    fbas: Fbas,
    top_tier: frozenset[str],
    *,
    highlight: frozenset[str] = frozenset(),
    positions: dict[str, tuple[float, float]] | None = None,
    title: str = "",
    offline: frozenset[str] = frozenset(),
) -> go.Figure:
    """The trust graph: one colour per top-tier organization, other validators grey, `highlight` ringed in red,
    `offline` nodes (a what-if) pale and crossed out."""
    graph = trust_graph(fbas)
    positions = positions or ring_layout(fbas, top_tier)
    shown = [k for k in [*graph.nodes, *sorted(offline - set(graph.nodes))] if k in positions]
    edge_x: list[float | None] = []
    edge_y: list[float | None] = []
    for source, target in graph.edges:
        if source in positions and target in positions:
            edge_x += [positions[source][0], positions[target][0], None]
            edge_y += [positions[source][1], positions[target][1], None]
    fig = go.Figure(
        go.Scatter(
            x=edge_x,
            y=edge_y,
            mode="lines",
            line={"width": 0.4, "color": "#dde3ea"},
            hoverinfo="skip",
            showlegend=False,
        )
    )
    tier_orgs = sorted({_organization(fbas, k) for k in shown if k in top_tier})
    colours = {org: PALETTE[i % len(PALETTE)] for i, org in enumerate(tier_orgs)}
    groups: dict[str, list[str]] = {}
    for key in shown:
        org = _organization(fbas, key)
        group = OFFLINE_GROUP if key in offline else org if org in colours else "other validators"
        groups.setdefault(group, []).append(key)
    for name in [*tier_orgs, "other validators"]:
        keys = groups.get(name, [])
        if not keys:
            continue
        fig.add_trace(
            go.Scatter(
                x=[positions[k][0] for k in keys],
                y=[positions[k][1] for k in keys],
                mode="markers+text",
                text=[node_label(fbas, k) if k in top_tier or k in highlight else "" for k in keys],
                textposition=["middle right" if positions[k][0] >= 0 else "middle left" for k in keys],
                textfont={"size": 10, "color": "#1c2430"},
                name=name[:32] if len(tier_orgs) <= MAX_LEGEND or name == "other validators" else None,
                showlegend=len(tier_orgs) <= MAX_LEGEND or name == "other validators",
                marker={
                    "size": [16 if k in top_tier else 7 for k in keys],
                    "color": colours.get(name, OTHER),
                    "line": {
                        "width": [4 if k in highlight else 1 for k in keys],
                        "color": [HIGHLIGHT if k in highlight else "#ffffff" for k in keys],
                    },
                },
                hovertext=[f"{node_label(fbas, k)}<br>{k}<br>{_organization(fbas, k)}" for k in keys],
                hoverinfo="text",
            )
        )
    if groups.get(OFFLINE_GROUP):
        keys = groups[OFFLINE_GROUP]
        fig.add_trace(
            go.Scatter(
                x=[positions[k][0] for k in keys],
                y=[positions[k][1] for k in keys],
                mode="markers+text",
                text=[f"{node_label(fbas, k)} (offline)" if len(keys) <= MAX_OFFLINE_LABELS else "" for k in keys],
                textposition=["middle right" if positions[k][0] >= 0 else "middle left" for k in keys],
                textfont={"size": 10, "color": OFFLINE},
                name=OFFLINE_GROUP,
                marker={"size": 11, "color": OFFLINE, "symbol": "x-thin-open", "line": {"width": 2, "color": OFFLINE}},
                hovertext=[f"{node_label(fbas, k)} (offline)<br>{k}<br>{_organization(fbas, k)}" for k in keys],
                hoverinfo="text",
            )
        )
    fig.update_layout(
        title=title or f"Trust graph: {len(shown)} validators; top tier of {len(top_tier)} on the inner ring",
        xaxis={"visible": False, "range": [-3.2, 3.2]},
        yaxis={"visible": False, "scaleanchor": "x", "range": [-2.4, 2.4]},
        height=640,
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
        legend={"title": "top-tier organization", "font": {"size": 11}},
        plot_bgcolor="#ffffff",
    )
    return fig
