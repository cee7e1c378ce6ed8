"""Data page: upload, preview, ingest, refuse bad files with a clear message, inspect and delete datasets."""

from __future__ import annotations

from pathlib import Path

from core.warehouse import open_warehouse, resolve_path

RAGGED = b"a,b,c\n1,x,2020-01-01\n2,y,2020-01-02\n3,z\n4,w,2020-01-03\n"


def _metrics(at) -> dict[str, str]:
    """Metric values by label; the first one wins (the preview comes before the dataset detail)."""
    found: dict[str, str] = {}
    for metric in at.main.metric:
        found.setdefault(metric.label, metric.value)
    return found


def test_upload_preview_ingest_inspect_and_delete(app, shared_data: Path) -> None:
    at = app("pages/data.py")
    source = shared_data / "automl" / "credit_g.csv"
    at.file_uploader[0].upload("credit_g.csv", source.read_bytes(), "text/csv").run()
    assert not at.exception
    preview = _metrics(at)
    assert (preview["Rows"], preview["Columns"], preview["Delimiter"], preview["Header row"]) == (
        "1,000",
        "21",
        "comma",
        "yes",
    )
    assert at.text_input[0].value == "credit_g"

    at.button(key="data_ingest").click().run()
    assert not at.exception
    assert "Stored **1,000** rows of credit\\_g.csv as **credit_g**." in at.success[0].value
    assert at.selectbox(key="data_selected").value == "credit_g"
    assert len(at.file_uploader) == 1 and at.file_uploader[0].value is None  # a fresh uploader
    assert {d.name for d in open_warehouse(resolve_path()).list_datasets()} == {
        "credit_g",
        "german_credit_risk",
        "honeypot_events_2013",
    }

    at.button(key="data_delete").click().run()
    assert "cannot be undone" in at.warning[0].value
    at.button(key="data_delete_no").click().run()
    assert not at.warning
    at.button(key="data_delete").click().run()
    at.button(key="data_delete_yes").click().run()
    assert not at.exception
    assert at.success[0].value == "Deleted **credit_g**."
    assert at.selectbox(key="data_selected").options == ["german_credit_risk", "honeypot_events_2013"]


def test_binary_upload_gets_a_clear_error_and_no_ingest_button(app) -> None:
    at = app("pages/data.py")
    at.file_uploader[0].upload("capture.csv", b"\x00\x01\x02binary" * 100, "text/csv").run()
    assert not at.exception
    assert "capture.csv cannot be read" in at.error[0].value
    assert "binary data" in at.error[0].value
    assert not [b for b in at.button if b.key == "data_ingest"]


def test_malformed_rows_are_listed_refused_then_skipped_on_request(app) -> None:
    at = app("pages/data.py")
    at.file_uploader[0].upload("ragged.csv", RAGGED, "text/csv").run()
    assert "1 malformed row(s)" in at.warning[0].value
    problems = at.main.dataframe[0].value
    assert problems["line"].tolist() == [4]

    at.button(key="data_ingest").click().run()
    assert not at.exception
    assert "1 malformed row(s) found (first on line 4); nothing was stored" in at.error[0].value
    assert "ragged" not in {d.name for d in open_warehouse(resolve_path()).list_datasets()}

    at.radio(key="data_bad_rows").set_value("Leave them out and count them").run()
    at.button(key="data_ingest").click().run()
    assert not at.exception
    assert "1 malformed rows left out" in at.success[0].value
    assert open_warehouse(resolve_path()).dataset("ragged").rows == 3


def test_invalid_dataset_name_is_explained(app) -> None:
    at = app("pages/data.py")
    at.file_uploader[0].upload("ok.csv", b"a,b\n1,2\n", "text/csv").run()
    at.text_input[0].set_value("Robert'); DROP TABLE x;--").run()
    at.button(key="data_ingest").click().run()
    assert not at.exception
    assert "is not allowed" in at.error[0].value


def test_header_only_file_is_refused_at_preview(app) -> None:
    at = app("pages/data.py")
    at.file_uploader[0].upload("empty.csv", b"a,b,c\n", "text/csv").run()
    assert not at.exception
    assert "cannot be ingested" in at.error[0].value
    assert not [b for b in at.button if b.key == "data_ingest"]
