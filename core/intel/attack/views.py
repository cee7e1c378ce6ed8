"""ATT&CK figures: a technique set on the matrix (tactics as columns), for a report, a group or a software."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import plotly.graph_objects as go

CELL_HEIGHT = 46
NAME_CHARS = 15
NAMED_CELLS = 30  # above this many marked cells, a cell shows its id only (names stay in the hover)


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
    named = sum(len(rows) for _, rows in columns) <= NAMED_CELLS
    z = np.full((depth, len(columns)), np.nan)
    text = np.full((depth, len(columns)), "", object)
    hover = np.full((depth, len(columns)), "", object)
    for j, (tactic_name, rows) in enumerate(columns):
        for i, row in enumerate(rows.itertuples(index=False)):
            z[i, j] = row.score
            name = row.name if len(row.name) <= NAME_CHARS else row.name[: NAME_CHARS - 1] + "…"
            text[i, j] = f"<b>{row.attack_id}</b><br>{name}" if named else row.attack_id
            extra = f"<br>sub-techniques: {', '.join(sorted(subs[row.attack_id]))}" if row.attack_id in subs else ""
            hover[i, j] = f"{tactic_name}<br>{row.attack_id} {row.name}<br>score {row.score:.2f}{extra}"
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=[name for name, _ in columns],
            y=list(range(depth)),
            text=text,
            texttemplate="%{text}",
            textfont={"size": 10},
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
        title={"text": title, "y": 0.99, "yanchor": "top"},
        height=(CELL_HEIGHT if named else CELL_HEIGHT // 2) * depth + 230,
        xaxis={"side": "top", "tickangle": -35, "showgrid": False},
        yaxis={"autorange": "reversed", "showticklabels": False, "showgrid": False, "zeroline": False},
        margin={"l": 20, "r": 20, "t": 170, "b": 20},
        plot_bgcolor="white",
    )
    return fig
