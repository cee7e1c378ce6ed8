"""Bitcoin network page: the shared data's advice, concentration, monitor and fee episodes; uploads checked before
anything is stored; alerts in the investigations stream with links that reopen them; the report offered."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from urllib.parse import parse_qsl

import pandas as pd
from streamlit.testing.v1 import AppTest

from core.chain.store import ChainStore
from core.warehouse import open_warehouse, resolve_path
from tests.conftest import REPO


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.main.metric}


def _table(at: AppTest, column: str) -> pd.DataFrame:
    return next(d.value for d in at.main.dataframe if column in d.value.columns)


def test_the_shared_data_gives_advice_concentration_alerts_and_fee_episodes(app) -> None:
    at = app("pages/bitcoin.py")
    metrics = _metrics(at)
    assert metrics["Majority alerts"] == "0" and metrics["Blocks tested"] == "211,037"
    assert metrics["Episodes"] == "7"
    advice = _table(at, "coalition")
    assert advice["pools"].tolist() == [1, 2, 3]
    assert advice["advice"].iloc[2].startswith("no safe depth")
    assert len(_table(at, "hhi")) == 48  # months of 2021-2024
    assert {"Download report", "Download alerts CSV", "Download episodes CSV"} <= {
        b.proto.label for b in at.get("download_button")
    }
    signals = open_warehouse(resolve_path()).query("SELECT kind FROM case_signals WHERE source = 'bitcoin'")
    assert set(signals["kind"]) == {"burst alert", "run alert", "fee spike"}


def test_the_calculator_gives_each_models_depth(app) -> None:
    at = app("pages/bitcoin.py")
    at.slider(key="chain_q").set_value(0.3).run()
    at.number_input(key="chain_z").set_value(24).run()
    rows = _table(at, "depth needed").set_index("model")
    assert rows.loc["Nakamoto", "depth needed"] == 24 and rows.loc["Rosenfeld", "depth needed"] == 32
    assert rows.loc["Nakamoto", "P(success)"] < 0.001 < rows.loc["Rosenfeld", "P(success)"]


def test_a_bad_block_file_is_refused_and_nothing_is_stored(app, shared_data: Path) -> None:
    at = app("pages/bitcoin.py")
    good = pd.read_parquet(shared_data / "bitcoin" / "pools" / "blocks_2021_2024.parquet").iloc[:3000]
    bad = pd.concat([good.iloc[:10], good.iloc[9:]]).to_csv(index=False).encode()  # height 664,072 twice
    at.file_uploader(key="chain_blocks_file").upload("dup.csv", bad, "text/csv").run()
    at.button(key="chain_blocks_store").click().run()
    assert any("Nothing was stored" in e.value and "repeats it" in e.value for e in at.error)
    assert ChainStore(open_warehouse(resolve_path())).sources("blocks").empty


def test_an_uploaded_block_file_is_stored_and_can_be_chosen(app, shared_data: Path) -> None:
    at = app("pages/bitcoin.py")
    good = pd.read_parquet(shared_data / "bitcoin" / "pools" / "blocks_2021_2024.parquet").iloc[-5000:]
    at.file_uploader(key="chain_blocks_file").upload("recent.csv", good.to_csv(index=False).encode(), "text/csv").run()
    at.text_input(key="chain_blocks_name").input("December 2024").run()
    at.button(key="chain_blocks_store").click().run()
    assert not at.exception
    assert any("Stored as December 2024" in s.value for s in at.success)
    assert at.selectbox(key="chain_blocks").value == "December 2024"
    assert _metrics(at)["Blocks tested"] == f"{5000 - 144 - 2016 + 1:,}"


def test_a_bitcoin_signal_reopens_its_blocks_on_its_alert(app) -> None:
    app("pages/bitcoin.py")
    links = open_warehouse(resolve_path()).query(
        "SELECT link FROM case_signals WHERE kind = 'run alert' ORDER BY ts LIMIT 1"
    )["link"]
    page, _, query = links.iloc[0].partition("?")
    params = dict(parse_qsl(query))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120).run()
    for name, value in params.items():
        at.query_params[name] = value
    at.switch_page(f"pages/{page}.py").run()
    assert not at.exception
    assert at.session_state["chain_blocks"] == params["blocks"]
    assert any(f"alert at height {int(params['height']):,}" in i.value for i in at.info)
    assert _table(at, "detail")["height"].iloc[0] == int(params["height"])


def test_fraud_scoring_trains_on_the_early_steps_and_reports_f1_by_later_step(app) -> None:
    at = app("pages/bitcoin.py")
    at.select_slider(key="chain_fraud_budget").set_value(10).run()
    at.button(key="chain_fraud_train").click().run()
    assert not at.exception, [e.value for e in at.exception]
    overall = _table(at, "precision")
    assert len(overall) == 2 and overall["model"].iloc[1].startswith("random forest")
    assert _table(at, "random forest F1")["step"].tolist() == list(range(35, 50))
    assert any("0.788" in c.value for c in at.main.caption)


def test_a_half_chosen_date_range_is_explained_and_the_other_tabs_stay(app) -> None:
    at = app("pages/bitcoin.py")
    at.selectbox(key="chain_advisor_window").select("a date range").run()
    at.date_input(key="chain_advisor_dates").set_value((date(2024, 3, 1),)).run()
    assert not at.exception and not at.error
    assert any("Pick both ends of the range" in i.value for i in at.info)
    assert _metrics(at)["Episodes"] == "7" and len(_table(at, "hhi")) == 48
    at.date_input(key="chain_advisor_dates").set_value((date(2024, 3, 1), date(2024, 3, 31))).run()
    advice = _table(at, "coalition")
    assert advice["blocks"].iloc[0] > 1000
