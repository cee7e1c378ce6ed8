"""The command line contract: table, monitor and fees as JSON for scripts; bad input is exit 2 and one line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from core.chain.__main__ import main
from tests.conftest import REPO


def _json(capsys: pytest.CaptureFixture, argv: list[str]) -> dict:
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_table_gives_the_whitepaper_values_and_every_models_depths(capsys: pytest.CaptureFixture) -> None:
    table = _json(capsys, ["table", "--json"])
    first = {(row["q"], row["z"]): row for row in table["probabilities"]}
    assert round(first[(0.1, 5)]["Nakamoto"], 7) == 0.0009137
    assert round(first[(0.3, 50)]["Nakamoto"], 7) == 0.0000006
    assert [row["Nakamoto"] for row in table["depths"]] == [5, 8, 11, 15, 24, 41, 89, 340]
    assert [row["Rosenfeld"] for row in table["depths"]] == [6, 9, 13, 20, 32, 58, 133, 539]


def test_monitor_reports_no_majority_alert_on_the_shared_blocks(capsys: pytest.CaptureFixture, shared_data) -> None:
    path = shared_data / "bitcoin" / "pools" / "blocks_2021_2024.parquet"
    result = _json(capsys, ["monitor", str(path), "--json"])
    assert result["blocks"] == 213_196 and result["majority_alerts"] == 0
    assert all({"height", "pool", "level", "probability"} <= set(a) for a in result["alerts"])
    assert {a["level"] for a in result["alerts"]} <= {"burst", "run"}


def test_monitor_reads_csv_too(capsys: pytest.CaptureFixture, shared_data, tmp_path: Path) -> None:
    blocks = pd.read_parquet(shared_data / "bitcoin" / "pools" / "blocks_2021_2024.parquet").iloc[:3000]
    blocks.to_csv(tmp_path / "blocks.csv", index=False)
    assert _json(capsys, ["monitor", str(tmp_path / "blocks.csv"), "--json"])["blocks"] == 3000


def test_fees_prints_the_episodes(capsys: pytest.CaptureFixture, shared_data) -> None:
    result = _json(capsys, ["fees", str(shared_data / "bitcoin" / "blockchain_com_daily_2023_2024"), "--json"])
    days = {(e["start"], e["end"]) for e in result["episodes"]}
    assert any(start <= "2024-04-20" <= end for start, end in days)


@pytest.mark.parametrize(
    "argv",
    [
        ["monitor", "/nonexistent/blocks.parquet"],
        ["monitor", "{bad}"],
        ["fees", "/nonexistent"],
        ["table", "--risk", "2"],
        ["table", "--risk", "nan"],
        ["explode"],
    ],
)
def test_bad_input_exits_2_with_one_line_on_stderr(argv: list[str], tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "core.chain", *argv], check=False, cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1


def test_a_hostile_pool_name_is_refused_and_shown_safely(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "b.csv").write_text("height,pool_slug,date\n1,\x1b[31mevil\u202e,2024-01-01T00:00:00Z\n")
    assert main(["monitor", str(tmp_path / "b.csv")]) == 2
    error = capsys.readouterr().err
    assert "\x1b" not in error and "\u202e" not in error and "not in the mining-pools list" in error
