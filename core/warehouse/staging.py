"""An upload on disk: staged under a name of ours (a path is never a glob), its checksum and encoding found in the
background while DuckDB reads it, and DuckDB's messages about it without our temporary paths."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import duckdb

from core import csvformat
from core.csvformat import CsvFormatError, FileFacts
from core.warehouse.errors import IngestError
from core.warehouse.sql import duckdb_message

Source = str | os.PathLike[str] | bytes | BinaryIO


@dataclass(frozen=True)
class IngestLimits:
    """Upper bounds on what one CSV ingest accepts."""

    max_bytes: int = 200 * 1024 * 1024
    max_rows: int = 20_000_000
    max_columns: int = 2_000

    def __post_init__(self) -> None:
        for name in ("max_bytes", "max_rows", "max_columns"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")


class StagedCsv:
    """An uploaded CSV file on disk. Its checksum and encoding are found in the background while DuckDB reads it."""

    def __init__(self, path: Path, folder: Path, facts: Future[FileFacts], head_is_utf8: bool) -> None:
        self.raw_path = path
        self.folder = folder
        self._facts = facts
        self._utf8_path: Path | None = None
        self.head_is_utf8 = head_is_utf8

    @property
    def facts(self) -> FileFacts:
        """Size, sha256 and encoding (waits for the background scan)."""
        try:
            return self._facts.result()
        except CsvFormatError as exc:
            raise IngestError(str(exc)) from None

    @property
    def is_utf8(self) -> bool:
        return self.facts.encoding in ("utf-8", "utf-8-sig")

    def utf8_path(self) -> Path:
        """The file as UTF-8: itself, or a transcoded copy of a Latin-1 / Windows-1252 file."""
        if self.is_utf8:
            return self.raw_path
        if self._utf8_path is None:
            self._utf8_path = self.folder / "upload.utf8.csv"
            csvformat.transcode_to_utf8(self.raw_path, self.facts.encoding, self._utf8_path)
        return self._utf8_path


class NotUtf8Error(Exception):
    """The file looked like UTF-8 at its start but is not: read it again, transcoded."""


@contextmanager
def stage_upload(source: Source, limits: IngestLimits) -> Iterator[StagedCsv]:
    """The source as a file on disk, its facts under way; temporary copies are removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="ctas-ingest-") as tmp, ThreadPoolExecutor(1) as pool:
        path = _stage(source, Path(tmp) / "upload.csv", limits)
        try:
            head = csvformat.read_head(path)
        except CsvFormatError as exc:
            raise IngestError(str(exc)) from None
        yield StagedCsv(path, Path(tmp), pool.submit(csvformat.scan_file, path), csvformat.head_is_utf8(head))


def _stage(source: Source, target: Path, limits: IngestLimits) -> Path:
    too_big = IngestError(
        f"The file is larger than the {limits.max_bytes / 2**20:,.0f} MiB limit: split it or filter it first."
    )
    if isinstance(source, bytes):
        if len(source) > limits.max_bytes:
            raise too_big
        target.write_bytes(source)
        return target
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        if not path.is_file():
            raise IngestError(f"There is no file at {path}.")
        if path.stat().st_size > limits.max_bytes:
            raise too_big
        target.symlink_to(path.resolve())  # DuckDB reads a name of ours: a path is never a glob pattern
        return target
    copied = 0
    with target.open("wb") as out:
        while chunk := source.read(1 << 20):
            copied += len(chunk)
            if copied > limits.max_bytes:
                raise too_big
            out.write(chunk)
    return target


def message(exc: duckdb.Error, staged: StagedCsv) -> str:
    """DuckDB's message for the analyst, without the paths of our temporary copies."""
    text = duckdb_message(exc)
    if "not possible to automatically detect the CSV parsing dialect" in text:
        return (
            "The file's layout could not be detected: its delimiter, quoting or line ends are not consistent. "
            "Check that it is a CSV file, or choose the delimiter and header row under the reading options."
        )
    return re.sub(re.escape(str(staged.folder)) + r"/[\w.]+", "the file", text)
