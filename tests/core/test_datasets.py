"""Catalogue views: tables for pages, the completeness chart and the catalogue report, on the real sample."""

from __future__ import annotations

from core.datasets import catalogue_frame, catalogue_report, completeness_figure, problems_frame
from core.samples import load_samples
from core.warehouse import CsvProblem, Warehouse


def test_catalogue_frame_and_completeness_on_the_sample(warehouse: Warehouse) -> None:
    load_samples(warehouse)
    frame = catalogue_frame(warehouse.list_datasets()).set_index("dataset")
    assert frame.loc["honeypot_events_2013", "rows"] == 21_059
    assert frame.loc["honeypot_events_2013", "delimiter"] == "comma"
    assert frame.loc["german_credit_risk", "rows"] == 1_000
    profile = warehouse.profile_dataset("honeypot_events_2013")
    fig = completeness_figure(profile, 21_059, "honeypot_events_2013")
    share = dict(zip(fig.data[0].y, fig.data[0].x, strict=True))
    assert share["datetime"] == 100.0
    assert share["type"] == round(2184 / 21_059 * 100, 1)  # ICMP type: only ICMP events have one
    assert fig.layout.xaxis.title.text == "non-empty values (%)"


def test_problems_frame_lists_lines() -> None:
    frame = problems_frame((CsvProblem(4, "missing columns", "Expected 3 found 2", "3,z"),))
    assert frame.to_dict("records") == [
        {"line": 4, "problem": "missing columns", "details": "Expected 3 found 2", "text": "3,z"}
    ]


def test_catalogue_report_includes_the_selected_dataset(warehouse: Warehouse) -> None:
    load_samples(warehouse)
    page = catalogue_report(warehouse, "honeypot_events_2013").to_html()
    assert "honeypot_events_2013" in page
    assert "21,059" in page
    assert "First 50 rows" in page
    assert "groucho-oregon" in page
