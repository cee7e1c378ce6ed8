"""Home: what CTAS is, the pages it has, and the warehouse at a glance."""

import streamlit as st

from core.datasets import catalogue_frame
from core.report import Report
from ui import common, nav

wh = common.warehouse()

st.title("CTAS — Convergent Threat Analysis System")
st.markdown(
    "A workbench for security operations analysts. Load event, network and host data into a local "
    "**DuckDB warehouse**, explore it, test what-if changes, and export self-contained reports for your "
    "case notes. Everything runs on this machine: no data leaves it."
)

st.subheader("Pages")
for spec in nav.PAGES:
    if spec is nav.HOME:
        continue
    with st.container(border=True):
        st.page_link(spec.path, label=spec.title, icon=spec.icon)
        st.caption(spec.summary)

st.subheader("Warehouse")
datasets = wh.list_datasets()
cols = st.columns(3)
cols[0].metric("Datasets", len(datasets))
cols[1].metric("Rows", f"{sum(d.rows for d in datasets):,}")
cols[2].metric("Schema version", wh.schema_version)
if datasets:
    overview = catalogue_frame(datasets)[["dataset", "file", "rows", "columns", "ingested (UTC)"]]
    st.dataframe(overview, hide_index=True, width="stretch", column_config=common.COUNT_COLUMNS)
else:
    st.info("The warehouse is empty. Open **Data** to upload a CSV file.", icon=":material/info:")


def _report() -> Report:
    report = Report("CTAS overview", subtitle=f"Warehouse {wh.path}")
    current = wh.list_datasets()
    report.add_markdown(
        f"The warehouse holds **{len(current)}** dataset(s), **{sum(d.rows for d in current):,}** rows in all."
    )
    report.add_table(catalogue_frame(current), caption="Datasets")
    return report


common.report_button(_report, "CTAS overview", key="home_report")
