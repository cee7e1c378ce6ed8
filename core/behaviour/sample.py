"""The shipped behaviour sample (data/behaviour): synthetic enrolment sessions of three personas, and a live
session in which someone else takes over alice's desk for a while. Regenerate with `python -m core.behaviour.sample`.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from core.behaviour import synthetic
from core.behaviour.events import EventLog, group_events

SAMPLE_DIR = Path(__file__).resolve().parent.parent.parent / "data" / "behaviour"
ENROLMENT = SAMPLE_DIR / "enrolment.jsonl.gz"
LIVE = SAMPLE_DIR / "live.jsonl.gz"
LIVE_START_US = 1_764_064_800_000_000  # 2025-11-25 10:00 UTC, a day after enrolment
ENROL_SECONDS = 900.0
LIVE_PLAN = (("alice", "alice", 150.0), ("alice", "bob", 150.0), ("alice", "alice", 120.0))
"""(desk owner, who actually sits there, seconds): alice works, bob takes over her session, alice returns."""
CAROL_LIVE_SECONDS = 420.0


def _tagged(user: str, events: list[dict]) -> list[dict]:
    return [{**event, "user": user} for event in events]


def build() -> tuple[list[dict], list[dict]]:
    """The enrolment and live events of the sample."""
    enrolment = []
    for seed, persona in enumerate(synthetic.PERSONAS, start=1):
        enrolment += _tagged(persona.name, synthetic.events(persona, seconds=ENROL_SECONDS, seed=seed))
    live, start = [], LIVE_START_US
    for seed, (desk, actor, seconds) in enumerate(LIVE_PLAN, start=10):
        live += _tagged(desk, synthetic.events(synthetic.persona(actor), seconds=seconds, seed=seed, start_us=start))
        start += round(seconds * 1e6)
    carol = synthetic.persona("carol")
    live += _tagged("carol", synthetic.events(carol, seconds=CAROL_LIVE_SECONDS, seed=20, start_us=LIVE_START_US))
    live.sort(key=lambda e: e["ts"])
    return enrolment, live


def read_events(path: Path) -> list[dict]:
    """A gzip JSON-lines file of events."""
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def enrolment_logs() -> dict[str, EventLog]:
    """The sample's enrolment sessions, per user."""
    return group_events(read_events(ENROLMENT), "user")[0]


def live_events() -> list[dict]:
    """The sample's live session events, in time order."""
    return read_events(LIVE)


def write() -> None:
    """Regenerate the sample files."""
    enrolment, live = build()
    SAMPLE_DIR.mkdir(parents=True, exist_ok=True)
    for path, events in ((ENROLMENT, enrolment), (LIVE, live)):
        with gzip.GzipFile(path, "wb", mtime=0) as handle:
            handle.write(synthetic.jsonl(events).encode())


SESSION_S = 75.0


def labelled_sessions() -> tuple[list[dict], dict[str, bool]]:
    """The live sample cut into 75 s sessions per desk, each labelled impostor (True) when someone else sat there:
    events carry a `session` field, as the evaluation view expects of an uploaded file."""
    events, labels = [], {}
    for event in live_events():
        offset = (event["ts"] - LIVE_START_US) / 1e6
        session = f"{event['user']}-{int(offset // SESSION_S) + 1:02d}"
        events.append({**event, "session": session})
        if session not in labels:
            labels[session] = _actor(event["user"], offset) != event["user"]
    return events, labels


def _actor(desk: str, offset_s: float) -> str:
    """Who sat at `desk` `offset_s` seconds into the live session."""
    start = 0.0
    for owner, actor, seconds in LIVE_PLAN:
        if owner == desk and start <= offset_s < start + seconds:
            return actor
        start += seconds if owner == desk else 0.0
    return desk


if __name__ == "__main__":
    write()
