"""Threat map page on the shipped honeypot sample: figures, resolution change, FDR, a fine-resolution warning,
category filter, a dataset without coordinates."""

from __future__ import annotations

import io
from datetime import timedelta

import h3
import pandas as pd

from core.warehouse import open_warehouse, resolve_path


def _figures(at) -> dict[str, str]:
    return {m.label: m.value for m in at.main.metric}


def _sample_cells(res: int) -> int:
    sample = pd.read_csv("data/samples/honeypot_events_2013.csv", usecols=["latitude", "longitude"]).dropna()
    sample = sample[sample["latitude"].abs().le(90)]
    return len({h3.latlng_to_cell(a, b, res) for a, b in zip(sample["latitude"], sample["longitude"], strict=True)})


def test_sample_renders_map_and_figures_that_match_the_data(app) -> None:
    at = app("pages/threat_map.py")
    assert not at.exception
    figures = _figures(at)
    assert figures["Events"] == "21,059"
    assert figures["Located"] == "20,875"
    assert figures["Cells"] == f"{_sample_cells(3):,}"
    assert int(figures["Hot-spot cells"].replace(",", "")) > 10
    assert int(figures["Clusters"]) >= 5
    top = at.main.dataframe[1].value
    assert top["threat score"].is_monotonic_decreasing
    assert any("left out" in w.value for w in at.warning)


def test_resolution_change_recounts_cells_and_warns_when_too_fine(app) -> None:
    at = app("pages/threat_map.py")
    at.slider(key="geo_res").set_value(2).run()
    assert _figures(at)["Cells"] == f"{_sample_cells(2):,}"
    assert not any("GeoIP" in w.value for w in at.warning)
    at.slider(key="geo_res").set_value(8).run()
    assert not at.exception
    assert any("GeoIP centroids" in w.value for w in at.warning)


def test_fdr_and_category_filter_shrink_the_result(app) -> None:
    at = app("pages/threat_map.py")
    hot = int(_figures(at)["Hot-spot cells"].replace(",", ""))
    at.toggle(key="geo_fdr").set_value(True).run()
    assert int(_figures(at)["Hot-spot cells"].replace(",", "")) < hot
    at.multiselect(key="geo_cat_honeypot_events_2013").set_value(["ICMP"]).run()
    icmp = pd.read_csv("data/samples/honeypot_events_2013.csv", usecols=["proto"])["proto"].eq("ICMP").sum()
    assert _figures(at)["Events"] == f"{icmp:,}"


def test_dataset_without_usable_coordinates_gets_a_message_not_a_traceback(app) -> None:
    warehouse = open_warehouse(resolve_path())
    rows = "lat,lon,when\n" + "".join(f"north,{i},2024-01-0{1 + i % 9}\n" for i in range(20))
    warehouse.ingest_csv(io.BytesIO(rows.encode()), "no_coordinates")
    at = app("pages/threat_map.py")
    at.selectbox(key="geo_dataset").set_value("no_coordinates").run()
    assert not at.exception
    assert any("usable coordinates" in e.value for e in at.error)


def test_dataset_without_coordinate_columns_asks_for_them(app) -> None:
    warehouse = open_warehouse(resolve_path())
    warehouse.ingest_csv(io.BytesIO(b"amount,label\n1,a\n2,b\n3,c\n"), "aaa_no_geo")
    at = app("pages/threat_map.py")
    assert at.selectbox(key="geo_dataset").value == "honeypot_events_2013"  # mappable datasets come first
    at.selectbox(key="geo_dataset").set_value("aaa_no_geo").run()
    assert not at.exception
    assert not at.error
    assert any("choose them" in i.value for i in at.info)
    at.selectbox(key="geo_aaa_no_geo_lat").set_value("amount").run()
    at.selectbox(key="geo_aaa_no_geo_lon").set_value("amount").run()
    assert any("two different columns" in e.value for e in at.error)


def test_week_steps_and_play_move_the_time_window(app) -> None:
    at = app("pages/threat_map.py")
    first, last = at.slider(key="geo_window").value
    at.toggle(key="geo_play").set_value(True).run()
    assert not at.exception
    start, end = at.slider(key="geo_window").value
    assert (start, (end - start).days) == (first, 28)  # playback starts on four weeks
    events = _figures(at)["Events"]
    at.session_state["geo_play_due"] = True  # what the player's timer sets
    at.run()
    assert at.slider(key="geo_window").value[0] == start + timedelta(days=7)
    assert _figures(at)["Events"] != events
    at.toggle(key="geo_play").set_value(False).run()
    at.button(key="geo_forward").click().run()
    assert at.slider(key="geo_window").value[0] == start + timedelta(days=14)
    assert last > end


def test_one_day_far_future_and_missing_times_do_not_break_the_page(app) -> None:
    warehouse = open_warehouse(resolve_path())
    rows = "lat,lon,seen,severity\n"
    rows += "".join(
        f"{40 + i % 5},{10 + i % 7},2024-05-01 10:{i % 60:02d}:00,{'' if i % 3 else 4}\n" for i in range(40)
    )
    rows += "41,11,12000-01-01 00:00:00,5\n42,12,,5\n43,13,not a time,\n"
    warehouse.ingest_csv(io.BytesIO(rows.encode()), "aaa_one_day")
    at = app("pages/threat_map.py")
    at.selectbox(key="geo_dataset").set_value("aaa_one_day").run()
    assert not at.exception
    assert any("no time window to choose" in c.value for c in at.caption)
    assert _figures(at)["Events"] == "43"  # no window: events without a (usable) time stay in
    scores = at.main.dataframe[1].value["threat score"]
    assert scores.notna().all()
