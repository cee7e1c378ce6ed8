"""The Graph tab: build the correlation graph, find a node, explain it (paths and sentences), and an actor's or
family's neighbourhood (indicators, techniques, events that hit)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.errors import CtasError
from core.intel import service
from core.intel.graph.build import MAX_SHARE, RULES, EventColumn, build_graph
from core.intel.graph.explain import explain, nearest
from core.intel.graph.model import Graph
from core.intel.graph.store import MATCH_KINDS, GraphStore
from core.intel.graph.views import explanation_figure
from core.intel.stix import graph_bundle
from core.intel.store import IntelStore
from core.warehouse import Warehouse
from ui import common
from ui.background import run_cancellable

NEIGHBOURHOOD = {"event": 50, "ipv4": 50, "domain": 50, "url": 50, "technique": 100, "software": 20, "group": 20}


def _build_panel(wh: Warehouse, release: str | None) -> None:
    store = IntelStore(wh)
    readable = {d.name: service.suggest_columns(store, d.name) for d in wh.list_datasets()}
    datasets = [name for name, found in readable.items() if found]
    chosen = st.multiselect("Events to link (tables with IP, domain, URL, hash or e-mail columns)", datasets,
                            key="graph_datasets", default=datasets[:1])  # fmt: skip
    columns = [EventColumn(name, column, kind) for name in chosen for column, kind in readable[name].items()]
    read = ", ".join(f"{c.dataset}.{c.column} ({c.kind})" for c in columns) or "none"
    st.caption("Columns read: " + common.md_escape(read))
    share = st.slider(
        "A value in more than this share of a column's events is counted, not linked (%)",
        0.1, 20.0, MAX_SHARE * 100, 0.1, key="graph_share",
    )  # fmt: skip
    rules = st.multiselect("Inference rules", list(RULES), default=list(RULES), key="graph_rules",
                           format_func=lambda r: f"{r}: {RULES[r]}")  # fmt: skip
    with st.expander("Exclusion list (values never linked, as MISP's: exact, prefix, suffix, substring)"):
        graph_store = GraphStore(wh)
        edited = st.data_editor(
            graph_store.exclusions(),
            num_rows="dynamic",
            key="graph_exclusions",
            column_config={
                "match": st.column_config.SelectboxColumn("match", options=list(MATCH_KINDS), required=True)
            },
        )
        if st.button("Save exclusions", key="graph_exclusions_save"):
            try:
                graph_store.set_exclusions(edited)
            except CtasError as exc:
                st.error(common.md_escape(exc), icon=":material/error:")
            else:
                st.success(f"{len(edited):,} exclusions saved.", icon=":material/check:")
    if st.button("Build the graph", key="graph_build", type="primary", icon=":material/hub:"):
        st.session_state["graph_request"] = (tuple(columns), release, share / 100, tuple(rules))
    request = st.session_state.get("graph_request")  # kept until the job ends: a rerun meanwhile rejoins it
    if request:
        with common.dropping("graph_request"):
            graph = run_cancellable(
                "graph_build",
                repr(request),
                lambda: build_graph(
                    wh, list(request[0]), request[1], max_share=request[2], rules=frozenset(request[3])
                ),
                label="Building the correlation graph…",
                limit_s=300,
            )
        if graph is not None:
            st.session_state["intel_graph"] = graph


def _explain_panel(graph: Graph) -> pd.DataFrame | None:
    text = st.text_input("Event, indicator, family or actor (an IP, a domain, G0007, T1059, honeypot#12…)",
                         key="graph_find", max_chars=300)  # fmt: skip
    if not text:
        return None
    found = graph.search(text.strip())
    if found.empty:
        st.info("No node has that key.", icon=":material/info:")
        return None
    labels = {int(r.id): f"{r.kind}: {r.label}" for r in found.itertuples(index=False)}
    node = st.selectbox("Node", list(labels), format_func=labels.get, key="graph_node")
    off = st.multiselect("Switch rules off for this explanation", list(RULES), key="graph_rules_off")
    explanation = explain(graph, int(node), rules_off=frozenset(off))
    if not explanation.paths:
        st.info("No path from this node reaches an actor or a technique.", icon=":material/info:")
    for line in explanation.sentences:
        st.markdown("- " + common.md_escape(line))
    st.plotly_chart(explanation_figure(graph, explanation, f"Why: {labels[node]}"), width="stretch")
    edges = graph.edge_frame(explanation.edge_ids())
    names = graph.node_frame(explanation.node_ids()).set_index("id")
    edges.insert(1, "from", edges["src"].map(lambda n: f"{names.at[n, 'kind']} {names.at[n, 'label']}"))
    edges.insert(2, "to", edges["dst"].map(lambda n: f"{names.at[n, 'kind']} {names.at[n, 'label']}"))
    st.caption("The edges on these paths: stored ones name their source; inferred ones their rule and two premises.")
    st.dataframe(edges.drop(columns=["src", "dst"]), hide_index=True, width="stretch")
    st.download_button(
        "Download STIX 2.1 (these paths, with relationships)",
        data=lambda: graph_bundle(graph.node_frame(explanation.node_ids()), graph.edge_frame(explanation.edge_ids())),
        file_name="explanation.stix.json",
        mime="application/json",
        icon=":material/download:",
        on_click="ignore",
        key="graph_stix",
    )
    if graph.kind_of(int(node)) in ("family", "group", "software", "campaign"):
        around = nearest(graph, int(node), NEIGHBOURHOOD, rules_off=frozenset(off), max_depth=3)
        ends = graph.node_frame([p.nodes[-1] for p in around]).assign(steps=[len(p.edges) for p in around])
        st.subheader("Around it: indicators, techniques, and events that hit")
        st.dataframe(ends.drop(columns=["id"]), hide_index=True, width="stretch")
    return pd.DataFrame({"explanation": list(explanation.sentences)})


def show(wh: Warehouse, release: str | None) -> pd.DataFrame | None:
    """The Graph tab; returns the explanation shown (for the report)."""
    _build_panel(wh, release)
    info = GraphStore(wh).build_info()
    graph: Graph | None = st.session_state.get("intel_graph")
    if graph is None:
        st.info("Build the graph to explain events, indicators and actors.", icon=":material/info:")
        return None
    if len(info):
        row = info.iloc[0]
        st.caption(
            f"Built {row['built_at']} over ATT&CK {common.md_escape(row['release'] or '(none)')}: "
            f"{graph.nodes:,} nodes, "
            f"{graph.edges:,} edges ({graph.edges / max(graph.nodes, 1):.2f} per node), {int(row['inferred']):,} "
            f"inferred, {int(row['attributes']):,} values counted instead of linked, {row['seconds']:.1f} s."
        )
    return _explain_panel(graph)
