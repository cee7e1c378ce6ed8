"""Indicator feeds read into one frame shape: ipsum, maltrail, signature-base, and an analyst's CSV files.

Every reader returns a `Feed`: its indicators (`FEED_COLUMNS`), the date its publisher gave it where it has one,
and how many lines were skipped. Readers bound what they read and refuse input that is not the format with one
`FeedError` sentence.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from core.errors import CtasError
from core.intel.values import FEED_TYPES, classify

FEED_COLUMNS = ("type", "value", "confidence", "family", "tags", "first_seen", "last_seen")
MAX_FEED_BYTES = 256 * 2**20  # uncompressed
MAX_UPLOAD_BYTES = 50 * 2**20
_READ_CHUNK = 1 << 20
MALTRAIL_CONFIDENCE = {"malware": 80, "malicious": 70, "suspicious": 40}
_IPSUM_DATE = re.compile(r"#\s*Last update:\s*(.{10,40})")


class FeedError(CtasError, ValueError):
    """A feed file that cannot be read as the format it claims; the message says why."""


@dataclass
class Feed:
    """Indicators read from one feed file."""

    indicators: pd.DataFrame
    published: datetime | None = None
    skipped: int = 0
    notes: list[str] = field(default_factory=list)


def frame(rows: list[tuple] | pd.DataFrame) -> pd.DataFrame:
    """Indicator rows (in `FEED_COLUMNS` order) as a frame, one row per (type, value): the most confident kept (the
    first written among equally confident ones)."""
    data = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(rows, columns=list(FEED_COLUMNS))
    data["confidence"] = pd.to_numeric(data["confidence"], errors="coerce").fillna(50).clip(0, 100).astype("int64")
    for column in ("first_seen", "last_seen"):
        if data[column].isna().all():  # most feeds give no dates: no per-value parse of a column of None
            data[column] = _no_dates(data.index)
        else:
            data[column] = pd.to_datetime(data[column], errors="coerce", utc=True, format="mixed").dt.tz_localize(None)
    return data.iloc[most_confident(data["type"], data["value"], data["confidence"].to_numpy())].reset_index(drop=True)


def _no_dates(index: pd.Index) -> pd.Series:
    return pd.Series(pd.NaT, index=index, dtype="datetime64[us]")


def most_confident(
    types: Column, values: Column, confidence: np.ndarray, written: np.ndarray | None = None
) -> np.ndarray:
    """The rows to keep so that each (type, value) is kept once: its most confident row, the first written (least
    `written`, by default the row's position) of equally confident ones. One hash pass (Arrow's dictionary
    encoding) and one sort of integers; the rows come back in the order they were given."""
    if len(confidence) == 0:
        return np.arange(0)
    key = pc.binary_join_element_wise(_arrow(types), _arrow(values), "\x00")
    codes = pc.dictionary_encode(key)
    codes = (codes.combine_chunks() if isinstance(codes, pa.ChunkedArray) else codes).indices.to_numpy()
    written = np.arange(len(codes)) if written is None else written
    order = np.lexsort((written, -confidence, codes))  # by key, then most confident, then first written
    ranked = codes[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = ranked[1:] != ranked[:-1]
    return np.sort(order[first])


Column = pd.Series | pa.Array | pa.ChunkedArray


def _arrow(column: Column) -> pa.Array | pa.ChunkedArray:
    """A column as Arrow strings, a missing value as a lone NUL (no joined key is one)."""
    if isinstance(column, pd.Series):
        column = pa.array(column.astype("string"), type=pa.string())
    return pc.fill_null(column, "\x00")


def read_text(path: Path, limit: int = MAX_FEED_BYTES) -> str:
    """A feed file's text (gzip or plain), refusing one larger than `limit` once decompressed."""
    opener = gzip.open if path.suffix == ".gz" else open
    chunks, size = [], 0
    try:
        with opener(path, "rb") as handle:
            while chunk := handle.read(_READ_CHUNK):  # in pieces: one read of `limit` bytes would reserve them all
                size += len(chunk)
                if size > limit:
                    raise FeedError(f"{path.name} is larger than {limit / 2**20:,.0f} MiB.")
                chunks.append(chunk)
    except (OSError, EOFError) as exc:
        raise FeedError(f"{path.name} cannot be read: {exc.__class__.__name__}.") from None
    return decode(b"".join(chunks), path.name)


def decode(data: bytes, name: str) -> str:
    """UTF-8 text of an upload or a file, refusing binary data."""
    if b"\x00" in data[:65536]:
        raise FeedError(f"{name} is a binary file, not text.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FeedError(f"{name} is not UTF-8 text.") from None


def read_ipsum(path: Path) -> Feed:
    """stamparm/ipsum: `IP<TAB>number of blacklists`; confidence 10 per list, at most 100."""
    text = read_text(path)
    published = None
    if match := _IPSUM_DATE.search(text[:2000]):
        try:
            published = parsedate_to_datetime(match.group(1).strip()).astimezone(UTC).replace(tzinfo=None)
        except (TypeError, ValueError):
            published = None
    rows, skipped = [], 0
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        value, _, lists = line.partition("\t")
        found = classify(value, "ipv4")
        if found is None or not lists.strip().isdigit():
            skipped += 1
            continue
        rows.append((*found, min(100, 10 * int(lists)), None, f"blacklists:{int(lists)}", None, None))
    return Feed(frame(rows), published, skipped)


def read_maltrail(path: Path) -> Feed:
    """stamparm/maltrail's static trails as flattened CSV: indicator, kind, family, category, aliases, reference.

    `ip_port` trails become IPv4 indicators tagged with the port; URL trails without a host (a bare path) are
    skipped. Read, reshaped and made one row per indicator column-wise with Arrow (1.8 M rows)."""
    needed = ["indicator", "kind", "family", "category"]
    try:
        table = pacsv.read_csv(
            path,
            convert_options=pacsv.ConvertOptions(
                include_columns=needed, column_types=dict.fromkeys(needed, pa.string())
            ),
        )
    except (OSError, pa.ArrowInvalid) as exc:
        raise FeedError(f"{path.name} is not maltrail's trail CSV: {exc}.") from None
    table = table.append_column("row", pa.array(np.arange(table.num_rows)))
    parts = [_maltrail_part(table.filter(pc.equal(table["kind"], kind)), kind) for kind in _MALTRAIL_KINDS]
    kept = pa.concat_tables(parts)
    kept = kept.filter(pc.greater(pc.utf8_length(kept["value"]), 0))
    confidence = pc.take(
        pa.array([*MALTRAIL_CONFIDENCE.values(), 50]),
        pc.fill_null(pc.index_in(kept["category"], value_set=pa.array(list(MALTRAIL_CONFIDENCE))), 3),
    ).to_numpy()
    keep = most_confident(kept["type"], kept["value"], confidence, kept["row"].to_numpy())
    indicators = kept.take(pa.array(keep)).select(["type", "value", "family", "tags"]).to_pandas()
    indicators["confidence"] = confidence[keep]
    indicators["first_seen"] = indicators["last_seen"] = _no_dates(indicators.index)
    return Feed(indicators[list(FEED_COLUMNS)], None, table.num_rows - kept.num_rows)


_MALTRAIL_KINDS = ("domain", "ipv4", "url", "ip_port")


def _maltrail_part(part: pa.Table, kind: str) -> pa.Table:
    """One kind of trail as (type, value, family, tags, category, row): domains lower-cased without a root dot,
    `ip:port` split into the address and a `port:` tag, URLs only with a host."""
    value = pc.utf8_trim_whitespace(part["indicator"])
    tags = part["category"]
    if kind == "domain":
        value = pc.utf8_rtrim(pc.utf8_lower(value), ".")
    elif kind == "ip_port":
        port = pc.replace_substring_regex(value, r"^.*:", "")
        value = pc.replace_substring_regex(value, r":[0-9]*$", "")
        tags = pc.binary_join_element_wise(tags, pc.binary_join_element_wise("port:", port, ""), ",")
    elif kind == "url":
        has_host = pc.match_substring_regex(value, r"^[^/]+\.[^/]+")
        part, value, tags = part.filter(has_host), value.filter(has_host), tags.filter(has_host)
    return pa.table(
        {
            "type": pa.repeat("ipv4" if kind == "ip_port" else kind, part.num_rows).cast(pa.string()),
            "value": value,
            "family": part["family"],
            "tags": tags,
            "category": part["category"],
            "row": part["row"],
        }
    )


def read_signature_hashes(path: Path) -> Feed:
    """Neo23x0/signature-base hash IOCs: `hash;description`."""
    rows, skipped = [], 0
    for line in read_text(path).splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        value, _, description = line.partition(";")
        found = classify(value)
        if found is None or found[0] not in ("md5", "sha1", "sha256"):
            skipped += 1
            continue
        rows.append((*found, 80, description.strip()[:200] or None, None, None, None))
    return Feed(frame(rows), None, skipped)


def read_signature_c2(path: Path) -> Feed:
    """Neo23x0/signature-base C2 IOCs: a domain or IP per line, under `#` comments naming the campaign."""
    rows, skipped, family = [], 0, None
    for raw in read_text(path).splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            comment = line.lstrip("#").strip()
            if comment and not set(comment) <= set("-=# "):
                family = comment[:200]
            continue
        found = classify(line)
        if found is None or found[0] not in ("ipv4", "domain", "cidr", "url"):
            skipped += 1
            continue
        rows.append((*found, 80, family, None, None, None))
    return Feed(frame(rows), None, skipped)


_CSV_VALUE = ("value", "indicator", "ioc", "observable")
_CSV_OPTIONAL = {
    "type": ("type", "kind", "ioc_type"),
    "confidence": ("confidence", "score"),
    "family": ("family", "malware", "threat", "description"),
    "tags": ("tags", "tag", "category"),
    "first_seen": ("first_seen", "firstseen", "first seen"),
    "last_seen": ("last_seen", "lastseen", "last seen"),
}


def read_csv_indicators(data: bytes, name: str) -> Feed:
    """An analyst's CSV: a value column (value, indicator, ioc or observable) and optional type, confidence,
    family, tags, first_seen and last_seen columns. Types are read from the values where none is given."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise FeedError(f"{name} is larger than the {MAX_UPLOAD_BYTES / 2**20:,.0f} MiB upload limit.")
    reader = csv.reader(io.StringIO(decode(data, name)))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except (StopIteration, csv.Error):
        raise FeedError(f"{name} is empty or not CSV.") from None
    value_at = next((header.index(c) for c in _CSV_VALUE if c in header), None)
    if value_at is None:
        raise FeedError(f"{name} has no indicator column: name one of {', '.join(_CSV_VALUE)}.")
    columns = {key: next((header.index(c) for c in names if c in header), None) for key, names in _CSV_OPTIONAL.items()}
    rows, skipped = [], 0
    try:
        for record in reader:
            if len(record) <= value_at:
                skipped += 1
                continue

            def cell(key: str, record: list[str] = record) -> str | None:
                at = columns[key]
                return record[at].strip() or None if at is not None and at < len(record) else None

            kind = (cell("type") or "").lower() or None
            found = classify(record[value_at], kind if kind in FEED_TYPES else None)
            if found is None:
                skipped += 1
                continue
            rows.append(
                (*found, cell("confidence"), cell("family"), cell("tags"), cell("first_seen"), cell("last_seen"))
            )
    except csv.Error as exc:
        raise FeedError(f"{name} is not valid CSV: {exc}.") from None
    if not rows:
        raise FeedError(f"{name} holds no indicator CTAS can read ({skipped:,} rows skipped).")
    return Feed(frame(rows), None, skipped)
