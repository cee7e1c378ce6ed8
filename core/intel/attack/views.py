"""ATT&CK figures: a technique set on the matrix (tactics as columns), for a report, a group or a software."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import plotly.graph_objects as go

CELL_HEIGHT = 22
NAME_CHARS = 22


def _parent(attack_id: str) -> str:
    return attack_id.split(".", 1)[0]


def matrix_figure(
    techniques: pd.DataFrame,
    tactics: pd.DataFrame,
    scores: Mapping[str, float],
    *,
    title: str,
    only_marked: bool = True,
) -> go.Figure:
    """Parent techniques under each tactic (from `AttackStore.techniques` and `.tactics`); a cell is coloured by the
    highest score of the technique or its sub-techniques in `scores` (0 to 1). `only_marked` keeps marked cells."""
    marked: dict[str, float] = {}
    subs: dict[str, list[str]] = {}
    for technique, score in scores.items():
        parent = _parent(technique)
        marked[parent] = max(marked.get(parent, 0.0), float(score))
        if technique != parent:
            subs.setdefault(parent, []).append(technique)
    parents = techniques[~techniques["subtechnique"]]
    columns = []
    for tactic in tactics.itertuples(index=False):
        rows = parents[parents["tactics"].map(lambda t, s=tactic.shortname: s in list(t))]
        if only_marked:
            rows = rows[rows["attack_id"].isin(marked)]
        rows = rows.assign(score=rows["attack_id"].map(marked).fillna(0.0)).sort_values(
            ["score", "name"], ascending=[False, True]
        )
        columns.append((tactic.name, rows))
    depth = max([len(rows) for _, rows in columns] + [1])
    z = np.full((depth, len(columns)), np.nan)
    text = np.full((depth, len(columns)), "", object)
    hover = np.full((depth, len(columns)), "", object)
    for j, (tactic_name, rows) in enumerate(columns):
        for i, row in enumerate(rows.itertuples(index=False)):
            z[i, j] = row.score
            text[i, j] = f"{row.attack_id} {row.name[:NAME_CHARS]}"
            extra = f"<br>sub-techniques: {', '.join(sorted(subs[row.attack_id]))}" if row.attack_id in subs else ""
            hover[i, j] = f"{tactic_name}<br>{row.attack_id} {row.name}<br>score {row.score:.2f}{extra}"
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=[name for name, _ in columns],
            y=list(range(depth)),
            text=text,
            texttemplate="%{text}",
            textfont={"size": 9},
            customdata=hover,
            hovertemplate="%{customdata}<extra></extra>",
            colorscale=[[0, "#f2f2f2"], [0.001, "#ffe766"], [1, "#d62728"]],
            zmin=0,
            zmax=1,
            xgap=2,
            ygap=2,
            colorbar={"title": "score"},
        )
    )
    fig.update_layout(
        title=title,
        height=max(320, CELL_HEIGHT * depth + 180),
        xaxis={"side": "top", "title": "Tactic", "tickangle": -30},
        yaxis={"autorange": "reversed", "showticklabels": False, "title": "Techniques"},
        margin={"l": 40, "r": 20, "t": 120, "b": 20},
    )
    return fig
