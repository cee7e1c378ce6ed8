"""What the Intel page and CLI do with the store: load the known feeds, read uploads, run a match over a dataset."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd

from core import tasks
from core.intel import feeds, stix
from core.intel.match import IndicatorIndex, detect_type, match_values
from core.intel.store import HIT_COLUMNS, IntelStore, digest

REPO = Path(__file__).resolve().parents[2]
SAMPLE_FEEDS = REPO / "data" / "intel"
STALE_AFTER = timedelta(days=7)


@dataclass(frozen=True)
class KnownFeed:
    """A public feed CTAS knows how to read: its name, file, reader and what it is."""

    name: str
    file_name: str
    reader: Callable[[Path], feeds.Feed]
    description: str


KNOWN_FEEDS = (
    KnownFeed("ipsum", "ipsum.txt.gz", feeds.read_ipsum, "stamparm/ipsum: IPs on 1 to 10 public blacklists"),
    KnownFeed(
        "maltrail",
        "maltrail_static_trails.csv.gz",
        feeds.read_maltrail,
        "stamparm/maltrail static trails: malware, malicious and suspicious domains, IPs and URLs by family",
    ),
    KnownFeed(
        "signature-base hashes",
        "signature-base_hash-iocs.txt",
        feeds.read_signature_hashes,
        "Neo23x0/signature-base: MD5, SHA-1 and SHA-256 of malware with a description",
    ),
    KnownFeed(
        "signature-base C2",
        "signature-base_c2-iocs.txt",
        feeds.read_signature_c2,
        "Neo23x0/signature-base: C2 domains and IPs by campaign",
    ),
)


def feed_folders() -> list[Path]:
    """Where known feeds are looked for: $CTAS_INTEL_FEEDS, the shared data beside the checkout, the samples."""
    folders = []
    if configured := os.environ.get("CTAS_INTEL_FEEDS"):
        folders.append(Path(configured))
    folders += [REPO.parent / "shared" / "data" / "intel", SAMPLE_FEEDS]
    return folders


def find_file(file_name: str) -> Path | None:
    """The first copy of a file in the feed folders, or None."""
    return next((folder / file_name for folder in feed_folders() if (folder / file_name).is_file()), None)


def known_feed_path(feed: KnownFeed) -> Path | None:
    """The first copy of a known feed's file, or None."""
    return find_file(feed.file_name)


def load_known_feed(store: IntelStore, feed: KnownFeed) -> int:
    """Read a known feed from its file and upsert it; returns the indicators it holds."""
    path = known_feed_path(feed)
    if path is None:
        raise feeds.FeedError(
            f"No copy of {feed.file_name} was found (looked in {', '.join(map(str, feed_folders()))})."
        )
    read = feed.reader(path)
    tasks.check()  # a cancelled load writes nothing
    return store.load_feed(feed.name, feed.name, str(path), read, digest(path.read_bytes()))


def load_upload(store: IntelStore, name: str, file_name: str, data: bytes) -> int:
    """Read an uploaded CSV, STIX bundle or MISP event and upsert it as feed `name`."""
    if not name.strip() or len(name) > 80 or not name.isprintable():
        raise feeds.FeedError("A feed name is 1 to 80 printable characters.")
    if file_name.lower().endswith(".json"):
        read = stix.read_json_feed(data, file_name)
        kind = "stix" if '"bundle"' in data[:4096].decode("utf-8", "replace") else "misp"
    else:
        read = feeds.read_csv_indicators(data, file_name)
        kind = "csv"
    return store.load_feed(name.strip(), kind, f"upload: {file_name}"[:200], read, digest(data))


def feed_ages(store: IntelStore, now: datetime | None = None) -> pd.DataFrame:
    """Every feed with its age (from the publisher's date where it gave one, else when it was loaded) and whether
    it is stale (older than `STALE_AFTER`)."""
    table = store.feeds()
    now = now or datetime.now(UTC).replace(tzinfo=None)
    as_of = table["published_at"].fillna(table["loaded_at"]) if len(table) else pd.Series(dtype="datetime64[ns]")
    table["age_days"] = ((now - as_of).dt.total_seconds() / 86400).round(1) if len(table) else []
    table["stale"] = table["age_days"] > STALE_AFTER.days if len(table) else []
    return table


@dataclass
class MatchResult:
    """A finished match run: its id, how many events were read, and its hits with provenance."""

    run_id: int
    events: int
    hits: pd.DataFrame
    seconds: float


def match_dataset(
    store: IntelStore,
    dataset: str,
    columns: dict[str, str],
    *,
    time_column: str | None = None,
    geo: tuple[str, str] | None = None,
) -> MatchResult:
    """Match each column (read as its kind: ipv4, domain, url, hash, email) against every indicator; record the
    run and its hits."""
    started = time.perf_counter()
    index = IndicatorIndex.build(store.values_by_type())
    events = store.event_values(dataset, list(columns), time_column, geo)
    frames = []
    for column, kind in columns.items():
        tasks.check()
        found = match_values(index, events[f"v:{column}"], kind)
        found["column_name"] = column
        frames.append(found)
    hits = with_provenance(store, pd.concat(frames, ignore_index=True)) if frames else pd.DataFrame()
    if len(hits):
        rows = hits["row"].to_numpy()
        hits["row_number"] = events["row_number"].to_numpy()[rows]
        for column in ("event_time", "lat", "lon"):
            hits[column] = events[column].to_numpy()[rows]
    else:
        hits = pd.DataFrame(columns=list(HIT_COLUMNS))
    seconds = time.perf_counter() - started
    tasks.check()  # a cancelled run records nothing
    run_id = store.save_hits(dataset, list(columns), len(events), seconds, hits)
    return MatchResult(run_id, len(events), hits.drop(columns=["row"], errors="ignore"), seconds)


def with_provenance(store: IntelStore, hits: pd.DataFrame) -> pd.DataFrame:
    """Hits joined to every feed entry of their indicator: source, family, confidence."""
    if hits.empty:
        return hits
    entries = store.lookup(hits[["indicator_type", "indicator"]].drop_duplicates().set_axis(["type", "value"], axis=1))
    entries = entries.rename(columns={"type": "indicator_type", "value": "indicator"})
    return hits.merge(entries, on=["indicator_type", "indicator"], how="inner")


def suggest_columns(store: IntelStore, dataset: str) -> dict[str, str]:
    """Columns of a dataset that hold indicators, with what they hold (read from a sample of rows)."""
    sample = store.sample_rows(dataset, 500)
    found = {}
    for name in sample.columns:
        kind = detect_type(sample[name])
        if kind is not None:
            found[name] = kind
    return found
