"""Investigations: every capability's signals in one stream, entities across them, a triage queue with a score
that shows its terms, and cases with frozen evidence, notes, an audit log and reports.

Capabilities publish through `publish` with `Signal` and `Entity` from here; this package never imports one of them.
"""

from core.cases.signals import ENTITY_KINDS, SEVERITIES, SOURCES, Entity, Signal, SignalError, built, link, local_host
from core.cases.store import CaseStore
from core.warehouse import Warehouse


def publish(warehouse: Warehouse, signals: list[Signal]) -> int:
    """Add signals to the stream (a key already published is skipped); returns how many were new."""
    return CaseStore(warehouse).publish(signals)


__all__ = [
    "ENTITY_KINDS",
    "SEVERITIES",
    "SOURCES",
    "Entity",
    "Signal",
    "SignalError",
    "built",
    "link",
    "local_host",
    "publish",
]
