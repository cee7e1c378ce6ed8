"""The FBAS page's result panels: headline figures with their change, the history-critical set, a fork warning, the
trust graph with a chosen set ringed, the set tables and the report."""

import json
from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.fbas.graph import ring_layout, topology_figure
from core.fbas.model import Fbas, loads
from core.fbas.results import HEADLINES, GroupingResult, Scan, SetSummary
from core.fbas.whatif import Edit, diff_frame, node_label, offline_nodes, sets_frame, to_stellarbeat_json
from core.report import Report
from ui import common

SHOWN_SETS = 200  # rows shown in the set tables; the CSV downloads hold every set
SET_TABLES = (("minimal_blocking_sets", "Minimal blocking sets"), ("minimal_splitting_sets", "Minimal splitting sets"))


@dataclass(frozen=True)
class View:
    """What the page shows: the network before and after the edits, and the grouping chosen."""

    base: Fbas
    current: Fbas
    edits: list[Edit]
    merge: str
    merge_label: str


def counted(summary: SetSummary | None) -> str:
    """How many sets there are, for a table caption."""
    return "too many to list; not computed for this grouping" if summary is None else summary.describe()


def listed(summary: SetSummary | None) -> list[tuple[str, ...]]:
    return [] if summary is None else list(summary.sets)


def headlines(before: Scan, after: Scan, merge: str, edited: bool) -> None:
    """The headline figures after the edits, each with what it was where an edit changed it."""
    if not after.complete:
        fell_back = [name.replace("_", " ") for name, status in after.analyses.items() if not status.complete]
        st.warning(
            f"**Some sets are too many to list in the time given: {', '.join(fell_back)}.** Each fell back on its "
            "own, and the other analyses are complete; the table below says what each gave instead (the smallest "
            "set, by node, or no answer) and why. Give the analysis more time above, or run "
            "`python -m core.fbas analyze FILE --timeout 600 --json`.",
            icon=":material/timer_off:",
        )
        st.dataframe(analyses_frame(after), hide_index=True, width="stretch")
    now, then = after.results[merge].headline(), before.results[merge].headline()
    for column, (key, label) in zip(st.columns(len(HEADLINES)), HEADLINES, strict=True):
        changed = edited and now[key] != then[key]
        column.metric(label, now[key], delta=f"was {then[key]}" if changed else None, delta_color="off",
                      delta_arrow="off")  # fmt: skip
    if edited:
        st.dataframe(diff_frame(then, now), hide_index=True, width="stretch")


def analyses_frame(scan: Scan) -> pd.DataFrame:
    """One row per analysis: complete, or what it gave instead and why."""
    rows = [
        {"analysis": name.replace("_", " "), "complete": status.complete, "answer": status.fallback or "all",
         "why": status.reason or ""}
        for name, status in scan.analyses.items()
    ]  # fmt: skip
    return pd.DataFrame(rows)


def findings(result: GroupingResult, view: View) -> None:
    """The history-critical set in a sentence, and the two disjoint quorums when the network can fork."""
    current, merge = view.current, view.merge
    history = result.history_critical_set
    if history.size is None:
        st.caption(f"History-critical set: not computed ({history.reason}).")
    else:
        names = common.md_escape(", ".join(node_label(current, k) for k in history.nodes))
        st.caption(
            f"History-critical set: {history.size} validator(s) with working history archives ({names}) that, with "
            f"the {len(history.quorum) - history.size} whose archives report errors, form a quorum: if their "
            "archives failed too, the network could lose history."
        )
    if result.disjoint_quorums:
        sides = [", ".join(node_label(current, k) if merge == "node" else k for k in side)
                 for side in result.disjoint_quorums]  # fmt: skip
        st.error(
            "**No quorum intersection: the network can fork.** These two quorums share no "
            f"{view.merge_label.lower()}: ({common.md_escape(sides[0])}) and ({common.md_escape(sides[1])}).",
            icon=":material/call_split:",
        )


@st.cache_data(max_entries=8, show_spinner=False)
def _positions(nodes_json: str, organizations: str, top_tier: tuple[str, ...]) -> dict:
    """Node positions from the unedited FBAS, so nodes stay put while the analyst edits."""
    fbas = loads(nodes_json)
    fbas.organizations.update(json.loads(organizations))
    return ring_layout(fbas, frozenset(top_tier))


def trust_graph(view: View, scans: tuple[Scan, Scan]) -> go.Figure:
    """The trust graph with the top tier inside and a set of the analyst's choice ringed red."""
    before, after = scans
    base, current, merge = view.base, view.current, view.merge
    choices = after.results[merge].highlight_choices()
    pick = st.columns([2, 1, 3])
    kind = pick[0].selectbox("Highlight on the graph", list(choices), key="fbas_highlight")
    index = pick[1].number_input("Which one", 1, max(len(choices[kind]), 1), 1, key="fbas_highlight_n") - 1
    chosen = choices[kind][index] if choices[kind] else ()
    groups = set(chosen)
    highlight = frozenset(k for k in current.validators if (current.group_of(k, merge) or k) in groups)
    tier = frozenset(after.results["node"].top_tier or ())
    organizations = json.dumps(sorted(base.organizations.items()))
    fixed = _positions(to_stellarbeat_json(base), organizations, tuple(before.results["node"].top_tier or ()))
    positions = {**ring_layout(current, tier), **fixed}  # nodes added by an edit get a place too
    title = f"Trust graph: top tier of {len(tier)} on the inner ring" + (
        f"; {kind} ({len(chosen)} by {view.merge_label.lower()}) ringed red" if chosen else ""
    )
    offline = offline_nodes(view.edits)
    if offline:
        title += f"; {len(offline)} offline node(s) crossed out"
    figure = topology_figure(current, tier, highlight=highlight, positions=positions, title=title, offline=offline)
    st.plotly_chart(figure, width="stretch", key="fbas_graph")
    return figure


def set_tables(result: GroupingResult, view: View) -> None:
    """Minimal blocking and splitting sets side by side, each with a CSV of all of them."""
    current, merge = view.current, view.merge
    for column, (field, title) in zip(st.columns(2), SET_TABLES, strict=True):
        summary = getattr(result, field)
        frame = sets_frame(current, listed(summary), merge)
        column.markdown(f"**{title}** — {counted(summary)}")
        column.dataframe(frame.head(SHOWN_SETS), hide_index=True, width="stretch", height=300)
        with column:
            common.csv_button(lambda frame=frame: frame, f"{field}-{merge}.csv", f"fbas_csv_{field}", "Download CSV")


def report(view: View, scans: tuple[Scan, Scan], reading: str, figure: go.Figure) -> Report:
    """The page as a report: the edits, the reading of the data, the figures before and after, graph and sets."""
    before, after = scans
    current, edits, merge = view.current, view.edits, view.merge
    result = after.results[merge]
    built = Report("FBAS analysis", subtitle=f"{len(current.nodes)} nodes, grouped by {view.merge_label.lower()}")
    built.add_markdown(f"{len(edits)} what-if edit(s): " + ("; ".join(e.describe() for e in edits) or "none"))
    built.add_markdown(reading)
    then, now = before.results[merge].headline(), result.headline()
    built.add_table(diff_frame(then, now), caption="Headline figures (before → after the edits)")
    built.add_figure(figure, caption="Trust graph")
    for field, title in SET_TABLES:
        summary = getattr(result, field)
        built.add_table(sets_frame(current, listed(summary), merge), caption=f"{title}: {counted(summary)}")
    return built
