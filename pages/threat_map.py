"""Threat map: where attacks come from, whether the concentration is significant, and how it moves in time."""

from dataclasses import asdict

import streamlit as st

from core.geo.analysis import ThreatMapError
from core.geo.events import detect_mapping
from core.warehouse import WarehouseError
from ui import common
from ui.common import md_escape
from ui.threat_map import analysis, batch_panel, choose_settings, draw, mapping_form

wh = common.warehouse()
st.title("Threat map")
st.caption("Events binned into H3 hexagons, Getis-Ord Gi* hot spots (ArcGIS legend), DBSCAN clusters and trends.")
datasets = wh.list_datasets()
if not datasets:
    st.info(
        "The warehouse holds no dataset yet: upload a CSV with coordinates on the Data page.", icon=":material/info:"
    )
    st.stop()
# datasets whose coordinates are recognised come first: the page opens on something it can map
datasets.sort(key=lambda d: detect_mapping([c.name for c in d.columns]) is None)
names = [d.name for d in datasets]
link = common.linked()
if link.get("dataset") in names:  # a link from Investigations: the dataset (and resolution) of its hot spot
    st.session_state["geo_dataset"] = link["dataset"]
    res = common.number(link.get("res"))
    res = res if res is not None and res <= 10 else None
    if res is not None:
        st.session_state["geo_res"] = res
    where = "" if res is None else f" at resolution {res}"
    common.from_investigation(f"the hot spots of {md_escape(link['dataset'])}{where}")
name = st.selectbox("Dataset", names, key="geo_dataset")
dataset = next(d for d in datasets if d.name == name)
columns = [c.name for c in dataset.columns]
mapping = mapping_form(columns, detect_mapping(columns), dataset.name)
if mapping is None:
    st.stop()
path = str(wh.path)
try:
    settings = choose_settings(mapping, dataset, path)
    with st.status("Indexing events into H3 cells and testing for hot spots…", expanded=False) as status:
        result = analysis(path, dataset.name, str(dataset.created_at), tuple(mapping.roles().items()),
                           tuple(asdict(settings).items()))  # fmt: skip
        status.update(label=f"Analysed {result.events:,} events into {len(result.cells):,} cells", state="complete")
except (ThreatMapError, WarehouseError) as exc:
    st.error(md_escape(exc), icon=":material/error:")
    st.stop()
draw(result, dataset.name, settings)
batch_panel(dataset, mapping, settings)
