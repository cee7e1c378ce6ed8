"""`python -m core.intel`: extract with offsets and flags, load and match; bad input exits 2 and writes nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from core.warehouse import ENV_VAR, open_warehouse
from core.warehouse.ingest import ingest_csv
from tests.conftest import REPO
from tests.core.intel.pdf_samples import make_pdf


def _run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core.intel", *args], capture_output=True, text=True, cwd=REPO,
                          env=env, timeout=300, check=False)  # fmt: skip


def test_extract_json_gives_one_object_per_file_with_offsets(tmp_path):
    first, second = tmp_path / "a.txt", tmp_path / "b.md"
    text = "beacon to hxxp://evil-updates[.]top/gate.php from 10.0.0.5"
    first.write_text(text)
    url_at, ip_at = text.index("hxxp"), text.index("10.0")
    second.write_text("nothing here")
    run = _run("extract", str(first), str(second), "--json")
    assert run.returncode == 0, run.stderr
    a, b = (json.loads(line) for line in run.stdout.splitlines())
    assert a["file"] == str(first) and b["indicators"] == {}
    (url,) = a["indicators"]["url"]
    assert url["value"] == "http://evil-updates.top/gate.php" and url["offsets"] == [[url_at, ip_at - len(" from ")]]
    assert a["indicators"]["ipv4"] == [{"value": "10.0.0.5", "benign": "bogon", "offsets": [[ip_at, len(text)]]}]


@pytest.mark.parametrize(
    "content",
    [b"\x00\x01\x02binary", b"%PDF-1.7 ...", b"\xff\xfe\xfa not utf-8", b"a" * (20 * 2**20 + 1)],
    ids=["binary", "damaged-pdf", "not-utf8", "too-large"],
)
def test_bad_files_exit_2_with_one_line_and_no_output(tmp_path, content):
    good, bad = tmp_path / "good.txt", tmp_path / "bad.txt"
    good.write_text("1.2.3.4")
    bad.write_bytes(content)
    run = _run("extract", str(good), str(bad), "--json")
    assert run.returncode == 2 and run.stdout == ""
    assert len(run.stderr.strip().splitlines()) == 1 and run.stderr.startswith("error: ")


def test_extract_reads_a_pdf_report_and_says_what_was_read(tmp_path):
    report = tmp_path / "report.pdf"
    report.write_bytes(make_pdf([["C2: hxxps://cdn-upd[.]top/gate and 45.146.165[.]37"], ["CVE-2023-4966"]]))
    run = _run("extract", str(report), "--json")
    assert run.returncode == 0, run.stderr
    answer = json.loads(run.stdout)
    assert answer["pdf"] == {"pages": 2, "pages_read": 2, "truncated": False}
    found = {kind: [i["value"] for i in items] for kind, items in answer["indicators"].items()}
    assert found["url"] == ["https://cdn-upd.top/gate"] and found["ipv4"] == ["45.146.165.37"]
    assert found["cve"] == ["CVE-2023-4966"]


def test_load_and_match_write_a_run_and_its_hits(tmp_path):
    warehouse = tmp_path / "cli.duckdb"
    events = tmp_path / "events.csv"
    events.write_text("ts,ip\n2026-01-01 00:00,77.90.185.20\n2026-01-01 00:01,192.0.2.1\n")
    env = {**os.environ, ENV_VAR: str(warehouse)}
    wh = open_warehouse(warehouse)
    ingest_csv(wh, events, "events")
    wh.close()
    assert _run("load", "ipsum", env=env).returncode == 0
    run = _run("match", "events", "--time", "ts", "--json", env=env)
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    assert summary["events"] == 2 and summary["hits"] == 1 and summary["by_source"] == {"ipsum": 1}
    refused = _run("match", "no_such_dataset", env=env)
    assert refused.returncode == 2 and "no_such_dataset" in refused.stderr and refused.stdout == ""
    assert _run("load", "no-such-feed", env=env).returncode == 2
