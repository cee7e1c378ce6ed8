"""The Threat map page's panels: column mapping, settings, time window and player, the map and its tables."""

import hashlib
import json
import time
from datetime import datetime, timedelta

import pandas as pd
import streamlit as st

from core import compute
from core.geo.analysis import ThreatMapSettings, analyse
from core.geo.batch import batch_figure, batch_hotspots, persistent_cells
from core.geo.events import ColumnMapping
from core.geo.maps import COLOUR_BY, legend_rows, threat_deck, threat_report, timeline_figure, top_cells
from core.geo.store import EventStore
from core.warehouse.layers import map_layer, map_layers
from ui import common
from ui.background import ask_for_batch, run_batch
from ui.common import md_escape
from ui.errors import guarded

ROLES = {  # role -> label; lat and lon are required
    "lat": "Latitude",
    "lon": "Longitude",
    "time": "Time",
    "category": "Category",
    "source": "Source (attacker id)",
    "severity": "Severity",
    "port": "Destination port (severity rule)",
}
NONE = "— none —"
WINDOW = "geo_window"  # the time window slider's key: (first day, last day)
WEEK = timedelta(days=7)
PLAY_WIDTH = timedelta(days=28)
PLAY_SECONDS = 3
BATCH_SECONDS = 600


@st.cache_data(max_entries=16, show_spinner=False)
def analysis(path: str, dataset: str, created_at: str, mapping: tuple, settings: tuple):
    """The analysis, cached per warehouse, dataset version, column mapping and settings."""
    wh = common.warehouse_at(path)
    return analyse(wh, dataset, ColumnMapping(**dict(mapping)), ThreatMapSettings(**dict(settings)))


@st.cache_data(max_entries=16, show_spinner=False)
def _time_span(path: str, dataset: str, created_at: str, column: str):
    wh = common.warehouse_at(path)
    return EventStore(wh).time_span(dataset, column)


@st.cache_data(max_entries=16, show_spinner=False)
def _categories(path: str, dataset: str, created_at: str, column: str) -> list[str]:
    wh = common.warehouse_at(path)
    return EventStore(wh).top_values(dataset, column, limit=50)


def mapping_form(columns: list[str], detected: ColumnMapping | None, dataset: str) -> ColumnMapping | None:
    """Which column plays which event role (detected, editable); None until latitude and longitude are chosen."""
    chosen = {}
    with st.expander("Column mapping", expanded=detected is None, icon=":material/table_chart:"):
        cols = st.columns(len(ROLES))
        for (role, label), col in zip(ROLES.items(), cols, strict=True):
            default = getattr(detected, role, None) if detected else None
            options = [NONE, *columns]
            index = options.index(default) if default in options else 0
            chosen[role] = col.selectbox(label, options, index=index, key=f"geo_{dataset}_{role}")
    mapping = {role: column for role, column in chosen.items() if column != NONE}
    if "lat" not in mapping or "lon" not in mapping:
        st.info(
            "No latitude/longitude columns were recognised in this dataset: choose them under *Column mapping*.",
            icon=":material/table_chart:",
        )
        return None
    if mapping["lat"] == mapping["lon"]:
        st.error("Latitude and longitude must be two different columns.", icon=":material/error:")
        return None
    return ColumnMapping(**mapping)


def choose_settings(mapping: ColumnMapping, dataset, path: str) -> ThreatMapSettings:
    """The analysis settings: resolution, Gi* options, time window and player, category filter."""
    with st.sidebar:
        st.subheader("Threat map")
        res = st.slider(
            "H3 resolution",
            0,
            10,
            3,
            key="geo_res",
            help="0: continents … 5: about 250 km² … 10: about 15,000 m². GeoIP data suits 2–5.",
        )
        k = st.slider("Gi* neighbourhood (rings)", 1, 4, 1, key="geo_k")
        fdr = st.toggle(
            "False-discovery-rate correction",
            key="geo_fdr",
            help="Benjamini–Hochberg: fewer false hot spots when many cells are tested.",
        )
        cluster_km = st.slider("Cluster radius (km)", 25, 1000, 150, step=25, key="geo_cluster_km")
        cluster_min = st.number_input("Cluster minimum events", 5, 100_000, 100, step=5, key="geo_cluster_min")
    start = end = None
    if mapping.time:
        span = _time_span(path, dataset.name, str(dataset.created_at), mapping.time)
        if span is None:
            st.warning(f"Column '{md_escape(mapping.time)}' holds no readable times.", icon=":material/schedule:")
        elif span[0].date() == span[1].date():
            st.caption(f"All events are from {span[0]:%Y-%m-%d}: there is no time window to choose.")
        else:
            start, end = _time_window(*span)
    categories: tuple[str, ...] = ()
    if mapping.category:
        offered = _categories(path, dataset.name, str(dataset.created_at), mapping.category)
        categories = tuple(st.multiselect("Categories (none chosen: all)", offered, key=f"geo_cat_{dataset.name}"))
    return ThreatMapSettings(res=res, k=k, fdr=fdr, start=start, end=end, categories=categories,
                             cluster_km=float(cluster_km), cluster_min_events=int(cluster_min))  # fmt: skip


def _time_window(first: datetime, last: datetime) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """A date range slider with week steps back and forth, and playback: the window moves a week every few seconds.

    (None, None) while the window is the whole span, so events without a time stay in.
    """
    lo, hi = first.date(), last.date()
    if WINDOW not in st.session_state or not (lo <= st.session_state[WINDOW][0] <= hi):
        st.session_state[WINDOW] = (lo, hi)
    left, play, back, forward = st.columns([6, 1.4, 0.8, 0.8], vertical_alignment="bottom")
    due = st.session_state.pop("geo_play_due", False)  # set by the player's timer
    if due and st.session_state.get("geo_play") and not _step(lo, hi, WEEK):
        st.session_state["geo_play"] = False  # reached the end (the toggle is not drawn yet in this run)
    playing = play.toggle("Play", key="geo_play", help=f"Move the window one week every {PLAY_SECONDS} seconds")
    if playing and st.session_state[WINDOW] == (lo, hi):  # playing the whole range would show nothing move
        st.session_state[WINDOW] = (lo, min(hi, lo + PLAY_WIDTH))
    back.button(
        "",
        icon=":material/skip_previous:",
        on_click=_step,
        args=(lo, hi, -WEEK),
        help="One week earlier",
        key="geo_back",
    )
    forward.button(
        "", icon=":material/skip_next:", on_click=_step, args=(lo, hi, WEEK), help="One week later", key="geo_forward"
    )
    a, b = left.slider("Time window", min_value=lo, max_value=hi, key=WINDOW, format="YYYY-MM-DD")
    if playing:
        st.session_state["geo_drawn_at"] = time.monotonic()
        _player()
    if (a, b) == (lo, hi):
        return None, None
    return pd.Timestamp(a), pd.Timestamp(b) + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)


def _step(lo, hi, delta: timedelta) -> bool:
    """Move the time window by `delta`, keeping its width and staying in [lo, hi]; False if it could not move."""
    a, b = st.session_state[WINDOW]
    start = min(max(a + delta, lo), hi - (b - a))
    st.session_state[WINDOW] = (start, start + (b - a))
    return start != a


@st.fragment(run_every=PLAY_SECONDS)
@guarded
def _player() -> None:
    """While playing, every few seconds: ask the page to move the window a week on and redraw."""
    if time.monotonic() - st.session_state.get("geo_drawn_at", 0.0) >= PLAY_SECONDS * 0.8:
        st.session_state["geo_play_due"] = True
        st.rerun()


def draw(result, dataset_name: str, settings: ThreatMapSettings) -> None:
    """The map with its legend, the headline figures, the hot-spot table, trends and the report."""
    for warning in result.warnings:
        st.warning(md_escape(warning), icon=":material/warning:")
    hot = result.cells[result.cells["gi_bin"] > 0]
    cols = st.columns(5)
    cols[0].metric("Events", f"{result.events:,}")
    cols[1].metric("Located", f"{result.located:,}")
    cols[2].metric("Cells", f"{len(result.cells):,}")
    cols[3].metric("Hot-spot cells", f"{len(hot):,}", help="Gi* significant at 90 % or more, z > 0")
    cols[4].metric("Clusters", f"{len(result.clusters):,}")
    left, middle, right = st.columns([2, 1, 1])
    colour_by = left.segmented_control("Colour cells by", list(COLOUR_BY), default="Gi* hot spot", key="geo_colour")
    extruded = middle.toggle("3-D columns (events)", key="geo_3d")
    online = right.toggle(
        "Online basemap", key="geo_online", help="CARTO tiles; needs the internet. Off: offline outlines."
    )
    overlays = _overlays(dataset_name)
    deck = threat_deck(result, colour_by or "Gi* hot spot", extruded=extruded, online_basemap=online, overlays=overlays)
    st.pydeck_chart(deck, height=560, key="geo_map")
    if overlays is not None and not overlays.empty:
        st.caption(f"Blue dots: {len(overlays):,} located findings from the overlays chosen.")
        st.dataframe(overlays, hide_index=True, width="stretch")
    with st.expander("Legend", expanded=colour_by == "Gi* hot spot", icon=":material/palette:"):
        st.dataframe(_legend(), hide_index=True)
        st.caption("Rings: DBSCAN clusters (radius: 90 % of their events). Other colourings: yellow (few) to dark red.")
    if not result.timeline.empty:
        st.plotly_chart(timeline_figure(result, "Events per week"), key="geo_timeline")
    tab_cells, tab_clusters, tab_emerging = st.tabs(["Top cells", "Clusters", "Emerging hot spots"])
    with tab_cells:
        st.dataframe(top_cells(result), hide_index=True, width="stretch")
        common.csv_button(
            lambda: result.cells, f"{dataset_name}_cells.csv", key="geo_cells_csv", label="All cells (CSV)"
        )
    with tab_clusters:
        if result.clusters.empty:
            st.info("No cluster at this radius and minimum size.", icon=":material/info:")
        else:
            st.dataframe(result.clusters, hide_index=True, width="stretch")
            common.csv_button(lambda: result.clusters, f"{dataset_name}_clusters.csv", key="geo_clusters_csv")
    with tab_emerging:
        if result.emerging.empty:
            st.info("Emerging hot spots need a time column and at least three weeks of events.", icon=":material/info:")
        else:
            shown = result.emerging[result.emerging["category"] != "none"]
            st.dataframe(shown.drop(columns=["cell"]), hide_index=True, width="stretch")
    common.report_button(lambda: threat_report(result, dataset_name, settings), f"Threat map {dataset_name}",
                         key="geo_report")  # fmt: skip


@guarded
def batch_panel(dataset, mapping: ColumnMapping, settings: ThreatMapSettings) -> None:
    """Gi* over every window of a playback, at one or several resolutions at once, with progress and Cancel."""
    with st.expander("Batch: Gi* over every playback window", icon=":material/view_timeline:"):
        if mapping.time is None:
            st.info("Map a time column: the playback's windows are periods of time.", icon=":material/schedule:")
            return
        st.caption(
            f"Every window of the playback (moving a week at a time) at each resolution chosen, run on "
            f"{common.compute_line()}; the events are exported once as Parquet for the workers.",
            help=common.COMPUTE_HELP,
        )
        left, right = st.columns(2)
        weeks = left.number_input("Window (weeks)", 1, 52, 4, key="geo_batch_weeks")
        resolutions = right.multiselect("Resolutions", list(range(0, 9)), default=[settings.res], key="geo_batch_res")
        if not resolutions:
            st.info("Choose at least one resolution.", icon=":material/info:")
            return
        inputs = [dataset.name, str(dataset.created_at), mapping.roles(), int(weeks), sorted(resolutions),
                  settings.k, settings.fdr, list(settings.categories)]  # fmt: skip
        signature = hashlib.sha256(json.dumps(inputs).encode()).hexdigest()
        st.button("Run over every window", key="geo_batch_run", icon=":material/play_arrow:", on_click=ask_for_batch,
                  args=("geo_batch", signature))  # fmt: skip

        wh = common.warehouse()  # here: the work runs on a thread of its own

        def work(progress: compute.BatchProgress) -> pd.DataFrame:
            return batch_hotspots(
                wh, dataset.name, mapping, version=str(dataset.created_at),
                width=pd.Timedelta(weeks=int(weeks)), resolutions=tuple(resolutions), k=settings.k, fdr=settings.fdr,
                categories=settings.categories, handle=compute.client(), progress=progress,
            )  # fmt: skip

        table = run_batch("geo_batch", signature, work, label="Testing every window for hot spots…",
                          limit_s=BATCH_SECONDS)  # fmt: skip
        if table is None:
            return
        st.plotly_chart(batch_figure(table), key="geo_batch_chart")
        shown = table.drop(columns=["hot cells"])
        st.dataframe(shown, hide_index=True, width="stretch", key="geo_batch_table")
        common.csv_button(lambda: shown, f"{dataset.name}_windows.csv", key="geo_batch_csv")
        st.markdown("**Cells hot in the most windows**")
        st.dataframe(persistent_cells(table).head(50), hide_index=True, width="stretch")


def _overlays(dataset_name: str) -> pd.DataFrame | None:
    """The overlay layers the analyst picks (other capabilities' located findings on this dataset), stacked."""
    wh = common.warehouse()
    names = map_layers(wh)
    if not names:
        return None
    chosen = st.multiselect(
        "Overlays",
        names,
        key="geo_overlays",
        format_func=lambda n: n.replace("_", " "),
        help="Located findings other pages wrote for this dataset, e.g. the Intel page's hits.",
    )
    frames = [map_layer(wh, name, dataset_name).assign(layer=name) for name in chosen]
    return pd.concat(frames, ignore_index=True) if frames else None


def _legend():
    """The Gi* bins as a small table, each row on its own colour."""
    rows = legend_rows()
    frame = pd.DataFrame({"Gi* bin": [label for _, label in rows]})
    colours = [colour for colour, _ in rows]
    return frame.style.apply(lambda _: [f"background-color: {c}; color: black" for c in colours], axis=0)
