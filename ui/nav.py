"""The page registry: app.py builds the navigation from it and Home links to every page in it."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st
from streamlit.navigation.page import StreamlitPage


@dataclass(frozen=True)
class PageSpec:
    """A page of the app: its file, title, icon and the one line Home shows for it."""

    path: str
    title: str
    icon: str
    summary: str
    default: bool = False


HOME = PageSpec(
    "pages/home.py",
    "Home",
    ":material/shield:",
    "What CTAS is and where to start.",
    default=True,
)
DATA = PageSpec(
    "pages/data.py",
    "Data",
    ":material/database:",
    "Upload CSV files, check delimiter, encoding, types and malformed rows, and manage the warehouse's datasets.",
)
FBAS = PageSpec(
    "pages/fbas.py",
    "FBAS topology",
    ":material/hub:",
    "Stellar-style quorum systems: quorum intersection, top tier, blocking and splitting sets, what-if edits.",
)
THREAT_MAP = PageSpec(
    "pages/threat_map.py",
    "Threat map",
    ":material/public:",
    "Events on H3 hexagons: Gi* hot spots, clusters, trends over time, threat scores per cell.",
)
HOST_MONITOR = PageSpec(
    "pages/host_monitor.py",
    "Host monitor",
    ":material/monitor_heart:",
    "This host's metrics live, with anomaly detection, alert rules and acknowledgement; or score a metric file.",
)
AUTOML = PageSpec(
    "pages/automl.py",
    "AutoML",
    ":material/model_training:",
    "Time-boxed model search on a data set: leaderboard, diagnostics, model registry and batch prediction.",
)
BEHAVIOUR = PageSpec(
    "pages/behaviour.py",
    "Behaviour",
    ":material/fingerprint:",
    "Keystroke, mouse and app-usage dynamics: enrolment, continuous verification, alerts, evaluation.",
)
INTEL = PageSpec(
    "pages/intel.py",
    "Threat intelligence",
    ":material/policy:",
    "Indicators from reports, indicator feeds in the warehouse, and matching a dataset's events against them.",
)
INVESTIGATIONS = PageSpec(
    "pages/investigations.py",
    "Investigations",
    ":material/troubleshoot:",
    "Every capability's signals in one stream: entities across them, a triage queue, cases with reports.",
)
BITCOIN = PageSpec(
    "pages/bitcoin.py",
    "Bitcoin network",
    ":material/currency_bitcoin:",
    "Double-spend risk and safe confirmations, mining concentration, majority-attack and fee-spike alerts.",
)
PAGES = (HOME, INVESTIGATIONS, DATA, THREAT_MAP, INTEL, FBAS, BITCOIN, HOST_MONITOR, AUTOML, BEHAVIOUR)


def navigation() -> StreamlitPage:
    """The app's navigation, one entry per registered page."""
    return st.navigation(
        [st.Page(p.path, title=p.title, icon=p.icon, default=p.default) for p in PAGES],
        position="sidebar",
    )
