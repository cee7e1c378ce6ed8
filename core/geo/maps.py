"""Drawing a threat map: the pydeck map (hexagons, country outlines, cluster rings), the plotly timeline, a plotly
hexagon map for self-contained reports, and the report itself."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import h3
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pydeck as pdk

from core.geo.analysis import ThreatMap, ThreatMapSettings
from core.geo.hotspots import BIN_LABELS
from core.report import Report

OUTLINES = Path(__file__).resolve().parent.parent.parent / "data" / "geo" / "ne_110m_countries.geojson"
BIN_COLOURS = {  # the ArcGIS hot-spot legend
    3: (215, 48, 39), 2: (252, 141, 89), 1: (254, 224, 144), 0: (210, 210, 210),
    -1: (224, 243, 248), -2: (145, 191, 219), -3: (69, 117, 180),
}  # fmt: skip
COLOUR_BY = {"Gi* hot spot": "gi_bin", "Events": "events", "Threat score": "threat_score"}
REPORT_CELLS = 3000  # cells drawn in a report's map (the highest threat scores)


@cache
def country_outlines() -> dict:
    """Natural Earth 1:110m country outlines (public domain, shipped in data/geo)."""
    return json.loads(OUTLINES.read_text())


def _ramp(values: pd.Series) -> list[list[int]]:
    """Yellow → dark red by the log of the value (counts and scores are skewed)."""
    v = np.log1p(np.nan_to_num(values.to_numpy(np.float64), nan=0.0).clip(min=0))
    t = v / v.max() if len(v) and v.max() > 0 else np.zeros(len(v))
    low, high = np.array([255, 237, 160]), np.array([177, 0, 38])
    return [[int(c) for c in low + (high - low) * x] + [220] for x in t]


def hexagon_layer_data(cells: pd.DataFrame, colour_by: str) -> pd.DataFrame:
    """What the hexagon layer draws: hex id, fill colour and the tooltip fields."""
    column = COLOUR_BY[colour_by]
    bins = [[*BIN_COLOURS[int(b)], 220] for b in cells["gi_bin"]] if column == "gi_bin" else None
    colours = bins if bins is not None else _ramp(cells[column])
    data = pd.DataFrame(
        {
            "hex": cells["hex"],
            "colour": colours,
            "events": cells["events"].astype(int),
            "gi_z": cells["gi_z"].round(2),
            "gi_p": cells["gi_p"].map(lambda p: f"{p:.2g}"),
            "hot_spot": cells["hot_spot"],
            "threat_score": cells["threat_score"],
            "top": cells["top_categories"].fillna("") if "top_categories" in cells else "",
        }
    )
    return data


def view_of(cells: pd.DataFrame) -> pdk.ViewState:
    """A view that frames the cells holding events (the busiest 98 %, so one stray cell does not zoom out)."""
    centres = cells[["centre_lat", "centre_lon"]].to_numpy() if len(cells) else np.zeros((1, 2))
    weights = cells["events"].to_numpy(np.float64) if len(cells) else np.ones(1)
    lat_lo, lat_hi = np.percentile(centres[:, 0], [1, 99])
    lon_lo, lon_hi = np.percentile(centres[:, 1], [1, 99])
    span = max(lat_hi - lat_lo, (lon_hi - lon_lo) / 2, 1e-3)
    zoom = float(np.clip(np.log2(180 / span) + 0.5, 0.3, 12))
    lat = float(np.average(centres[:, 0], weights=weights))
    lon = float((lon_lo + lon_hi) / 2)
    return pdk.ViewState(latitude=lat, longitude=lon, zoom=zoom, pitch=0, bearing=0)


OVERLAY_COLOUR = [31, 97, 201, 230]


def threat_deck(
    result: ThreatMap,
    colour_by: str,
    *,
    extruded: bool = False,
    online_basemap: bool = False,
    clusters: bool = True,
    overlays: pd.DataFrame | None = None,
) -> pdk.Deck:
    """The pydeck map: country outlines (offline), hexagons coloured as asked, cluster rings, and overlay points
    (`lat`, `lon`: another capability's located findings, drawn as blue dots); tooltips per cell."""
    layers = [
        pdk.Layer(
            "GeoJsonLayer", country_outlines(), stroked=True, filled=True, get_fill_color=[245, 245, 240, 255],
            get_line_color=[150, 150, 150, 255], line_width_min_pixels=0.6, pickable=False,
        ),
        pdk.Layer(
            "H3HexagonLayer", hexagon_layer_data(result.cells, colour_by), get_hexagon="hex", get_fill_color="colour",
            pickable=True, stroked=True, get_line_color=[80, 80, 80, 120], line_width_min_pixels=0.3,
            extruded=extruded, get_elevation="events", elevation_scale=20, auto_highlight=True,
        ),
        # the same cells as dots that never shrink below a few pixels: visible (and hoverable) at world zoom
        pdk.Layer(
            "ScatterplotLayer", hexagon_layer_data(result.cells, colour_by).assign(
                lon=result.cells["centre_lon"], lat=result.cells["centre_lat"]),
            get_position=["lon", "lat"], get_fill_color="colour", get_radius=1, radius_min_pixels=2.5,
            stroked=True, get_line_color=[60, 60, 60, 160], line_width_min_pixels=0.4, pickable=True,
        ),
    ]  # fmt: skip
    if clusters and not result.clusters.empty:
        rings = result.clusters.assign(radius_m=result.clusters["radius_km"].clip(lower=5) * 1000)
        layers.append(
            pdk.Layer(
                "ScatterplotLayer", rings, get_position=["centroid_lon", "centroid_lat"], get_radius="radius_m",
                stroked=True, filled=False, get_line_color=[40, 40, 40, 200], line_width_min_pixels=1.5,
            )
        )  # fmt: skip
    if overlays is not None and not overlays.empty:
        layers.append(
            pdk.Layer(
                "ScatterplotLayer", overlays[["lat", "lon"]], get_position=["lon", "lat"], get_radius=1,
                radius_min_pixels=4, get_fill_color=OVERLAY_COLOUR, stroked=True, get_line_color=[255, 255, 255, 220],
                line_width_min_pixels=1, pickable=False,
            )
        )  # fmt: skip
    # "text", not "html": category and source names come from uploaded data and must never be parsed as HTML
    tooltip = {
        "text": "{hex}\n{events} events · threat score {threat_score}\nGi* z {gi_z}, p {gi_p}\n{hot_spot}\n{top}",
        "style": {"fontSize": "12px"},
    }
    return pdk.Deck(
        layers=layers,
        initial_view_state=view_of(result.cells),
        map_style=pdk.map_styles.CARTO_LIGHT if online_basemap else None,
        tooltip=tooltip,
    )


def legend_rows() -> list[tuple[str, str]]:
    """(colour hex, label) of the Gi* bins, hot to cold."""
    return [("#{:02x}{:02x}{:02x}".format(*BIN_COLOURS[b]), BIN_LABELS[b]) for b in (3, 2, 1, 0, -1, -2, -3)]


def timeline_figure(result: ThreatMap, title: str) -> go.Figure:
    """Events per time bucket."""
    fig = go.Figure(go.Bar(x=result.timeline["bucket"], y=result.timeline["events"], marker_color="#b2182b"))
    fig.update_layout(
        title=title, xaxis_title="Time bucket (start)", yaxis_title="Events", height=300,
        margin={"l": 60, "r": 20, "t": 50, "b": 50}, template="plotly_white",
    )  # fmt: skip
    return fig


def hexagon_figure(result: ThreatMap, title: str) -> go.Figure:
    """A plotly map of the cells (highest threat scores first) over country outlines: self-contained, for reports."""
    fig = go.Figure()
    xs, ys = [], []
    for feature in country_outlines()["features"]:
        geometry = feature["geometry"]
        polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
        for polygon in polygons:
            ring = np.array(polygon[0])
            xs += [*ring[:, 0], None]
            ys += [*ring[:, 1], None]
    fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line={"color": "#999", "width": 0.6}, hoverinfo="skip",
                             showlegend=False))  # fmt: skip
    top = result.cells.nlargest(REPORT_CELLS, "threat_score")
    for level in (-3, -2, -1, 0, 1, 2, 3):
        chosen = top[top["gi_bin"] == level]
        if chosen.empty:
            continue
        xs, ys = [], []
        for hex_id in chosen["hex"]:
            ring = np.array(h3.cell_to_boundary(hex_id))
            xs += [*ring[:, 1], ring[0, 1], None]
            ys += [*ring[:, 0], ring[0, 0], None]
        fill = "rgb({},{},{})".format(*BIN_COLOURS[level])
        fig.add_trace(go.Scatter(x=xs, y=ys, fill="toself", mode="lines", line={"width": 0.3, "color": "#555"},
                                 fillcolor=fill, name=BIN_LABELS[level]))  # fmt: skip
    fig.update_layout(
        title=title, height=560, template="plotly_white", margin={"l": 40, "r": 20, "t": 50, "b": 40},
        xaxis={"title": "Longitude", "range": [-180, 180]}, yaxis={"title": "Latitude", "range": [-60, 85],
        "scaleanchor": "x"}, legend={"orientation": "h", "y": -0.12},
    )  # fmt: skip
    return fig


def threat_report(result: ThreatMap, dataset: str, settings: ThreatMapSettings) -> Report:
    """Headline figures, map, timeline and the tables of hot spots, clusters and emerging hot spots."""
    hot = result.cells[result.cells["gi_bin"] > 0]
    report = Report(f"Threat map: {dataset}")
    report.add_markdown(
        f"- Events: {result.events:,} ({result.located:,} located)\n"
        f"- H3 resolution {settings.res}, Gi* neighbourhood {settings.k} ring(s)"
        f"{', FDR-corrected' if settings.fdr else ''}\n"
        f"- Cells: {len(result.cells):,}; hot spots (90 % or more): {len(hot):,}; clusters: {len(result.clusters):,}\n"
        + "".join(f"- Warning: {w}\n" for w in result.warnings)
    )
    report.add_figure(hexagon_figure(result, "Gi* hot spots (cells with the highest threat scores)"))
    if not result.timeline.empty:
        report.add_figure(timeline_figure(result, "Events over time"))
    report.add_table(top_cells(result), "Top cells by threat score")
    if not result.clusters.empty:
        report.add_table(result.clusters, "Clusters (DBSCAN, haversine)")
    if not result.emerging.empty:
        report.add_table(result.emerging[result.emerging["category"] != "none"], "Emerging hot spots")
    return report


def top_cells(result: ThreatMap, n: int = 50) -> pd.DataFrame:
    """The `n` cells with the highest threat scores, with the columns an analyst reads."""
    top = result.cells.nlargest(n, "threat_score")
    frame = pd.DataFrame({"cell": top["hex"], "threat score": top["threat_score"], "events": top["events"]})
    frame["mean severity"] = top["mean_severity"].round(1)
    frame["sources"] = top["sources"]
    if "top_categories" in top:
        frame["top categories"] = top["top_categories"]
    frame["Gi* z"] = top["gi_z"].round(2)
    frame["Gi* p"] = top["gi_p"].map(lambda p: f"{p:.2g}")
    frame["hot spot"] = top["hot_spot"]
    if "last_seen" in top:
        frame["last seen"] = top["last_seen"]
    return frame.reset_index(drop=True)
