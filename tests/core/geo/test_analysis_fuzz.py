"""Fuzz: any small CSV with any values in the mapped columns gives a threat map or a ThreatMapError, never another
exception, and the analysis writes nothing to the warehouse but the emerging hot spots it publishes to the
investigations stream."""

from __future__ import annotations

import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.geo.analysis import ThreatMapError, ThreatMapSettings, analyse
from core.geo.events import ColumnMapping
from core.warehouse import Warehouse, WarehouseError

cell_values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(10**6), 10**6).map(str),
    st.sampled_from(["", "north", "NaN", "1e400", "-0", "12,5", "2024-01-01", "🙂", "=cmd()"]),
)
times = st.one_of(st.just(""), st.datetimes().map(lambda t: t.isoformat(sep=" ")), st.text(max_size=5))


@st.composite
def csv_rows(draw):
    rows = draw(st.lists(st.tuples(cell_values, cell_values, times, st.sampled_from(["TCP", "UDP", ""])), max_size=40))
    body = "".join(f'"{a}","{b}","{t}","{c}"\n' for a, b, t, c in rows)
    return "lat,lon,seen,kind\n" + body


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(csv_rows(), st.integers(0, 8), st.integers(1, 3))
def test_any_csv_gives_a_map_or_a_clear_refusal(text, res, k):
    warehouse = Warehouse(":memory:")
    try:
        warehouse.ingest_csv(io.BytesIO(text.encode()), "fuzz")
    except WarehouseError:  # the ingest's own refusals are tested with the warehouse
        warehouse.close()
        return
    before = _tables(warehouse)
    mapping = ColumnMapping(lat="lat", lon="lon", time="seen", category="kind")
    try:
        result = analyse(warehouse, "fuzz", mapping, ThreatMapSettings(res=res, k=k, cluster_min_events=2))
    except ThreatMapError as exc:
        assert str(exc)
        assert _tables(warehouse) == before
    else:
        assert result.located == result.cells["events"].sum()
        assert result.cells["gi_bin"].between(-3, 3).all()
        after = _tables(warehouse)
        assert {t for t in after - before if not t.startswith("case_")} == set()
        if after != before:  # the cases component appeared: only for signals of emerging hot spots
            kinds = warehouse.query("SELECT DISTINCT source, kind FROM case_signals")
            assert set(kinds.itertuples(index=False, name=None)) == {("threat map", "emerging hot spot")}
            assert not result.emerging.empty
    warehouse.close()


def _tables(warehouse: Warehouse) -> set[str]:
    return set(warehouse.query("SELECT table_name FROM duckdb_tables()")["table_name"])
