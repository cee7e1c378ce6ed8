"""Correlation graph figures: an explanation's paths as a small layered graph."""

from __future__ import annotations

import plotly.graph_objects as go

from core.intel.graph.explain import PHRASES, Explanation
from core.intel.graph.model import Graph

KIND_COLOURS = {
    "event": "#7f7f7f",
    "ipv4": "#1f77b4",
    "ipv6": "#1f77b4",
    "cidr": "#1f77b4",
    "domain": "#17becf",
    "url": "#17becf",
    "email": "#17becf",
    "md5": "#8c564b",
    "sha1": "#8c564b",
    "sha256": "#8c564b",
    "family": "#ff7f0e",
    "feed": "#bcbd22",
    "software": "#9467bd",
    "group": "#d62728",
    "campaign": "#e377c2",
    "technique": "#2ca02c",
    "report": "#393b79",
}


def explanation_figure(graph: Graph, explanation: Explanation, title: str) -> go.Figure:
    """The paths of an explanation: the start on the left, each node placed by its distance from the start."""
    place: dict[int, tuple[int, int]] = {}
    per_depth: dict[int, int] = {}
    for path in explanation.paths or ():
        for depth, node in enumerate(path.nodes):
            if node not in place:
                place[node] = (depth, per_depth.get(depth, 0))
                per_depth[depth] = per_depth.get(depth, 0) + 1
    place.setdefault(explanation.start, (0, 0))
    nodes = graph.node_frame(list(place)).set_index("id")
    edges = graph.edge_frame(explanation.edge_ids())
    fig = go.Figure()
    for edge in edges.itertuples(index=False):
        (x0, y0), (x1, y1) = place[int(edge.src)], place[int(edge.dst)]
        dashed = bool(edge.rule)
        fig.add_trace(
            go.Scatter(
                x=[x0, x1],
                y=[-y0, -y1],
                mode="lines",
                line={"color": "#999", "dash": "dash" if dashed else "solid"},
                hoverinfo="skip",
                showlegend=False,
            )
        )
        label = PHRASES.get(edge.relation, (edge.relation,))[0] + (f" (rule {edge.rule})" if dashed else "")
        fig.add_annotation(x=(x0 + x1) / 2, y=-(y0 + y1) / 2, text=label, showarrow=False, font={"size": 9})
    for kind in sorted({graph.kind_of(n) for n in place}):
        members = [n for n in place if graph.kind_of(n) == kind]
        fig.add_trace(
            go.Scatter(
                x=[place[n][0] for n in members],
                y=[-place[n][1] for n in members],
                mode="markers+text",
                marker={"size": 16, "color": KIND_COLOURS.get(kind, "#444")},
                text=[str(nodes.at[n, "label"])[:28] for n in members],
                textposition="top center",
                name=kind,
                hovertext=[f"{kind}: {nodes.at[n, 'label']} ({nodes.at[n, 'key']})" for n in members],
                hoverinfo="text",
            )
        )
    rows = max(per_depth.values(), default=1)
    fig.update_layout(
        title=title,
        height=max(320, 70 * rows + 160),
        xaxis={"title": "steps from the start", "dtick": 1, "zeroline": False},
        yaxis={"visible": False},
        legend={"title": "node kind"},
    )
    return fig
