"""The text of a PDF report, for indicator extraction.

pypdf reads the file in a child process of its own, with a memory limit, a CPU-time limit and a wall-clock
deadline: a hostile PDF (a decompression bomb, a reference loop, a parser bug) can exhaust or hang that child only,
and the caller gets one `PdfError` sentence. Pages past `MAX_PAGES` and text past `MAX_TEXT_CHARS` are left out
and said so. Run as `python -m core.intel.pdftext` it is that child: the PDF on stdin, one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import math
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from pypdf import PdfReader
from pypdf.errors import DependencyError, LimitReachedError

from core.errors import CtasError

MAX_PDF_BYTES = 20 * 2**20
MAX_PAGES = 500
MAX_TEXT_CHARS = 5_000_000
TIME_LIMIT_S = 60.0
MEMORY_LIMIT_BYTES = 2 * 2**30
MAX_READERS = 2  # children reading at once in this process (each may use MEMORY_LIMIT_BYTES)
_READERS = threading.BoundedSemaphore(MAX_READERS)
_POLL_S = 0.25
_MAX_ANSWER_BYTES = 8 * MAX_TEXT_CHARS + 2**20  # JSON of MAX_TEXT_CHARS characters, escaped
_REPO = Path(__file__).resolve().parents[2]


class PdfError(CtasError, ValueError):
    """A PDF whose text cannot be read; the message says why."""


@dataclass(frozen=True)
class PdfText:
    """A PDF's text: its pages' text joined by blank lines, how many pages it has and how many were read."""

    text: str
    pages: int
    pages_read: int
    truncated: bool  # pages or characters were left out


def is_pdf(data: bytes) -> bool:
    """Whether the bytes are a PDF file: they start with its header (a text that quotes one later is not)."""
    return data[:1024].lstrip().startswith(b"%PDF-")


def pdf_text(
    data: bytes,
    name: str = "the file",
    *,
    max_pages: int = MAX_PAGES,
    max_chars: int = MAX_TEXT_CHARS,
    time_limit_s: float = TIME_LIMIT_S,
    waiting: Callable[[float], object] | None = None,
) -> PdfText:
    """The text of the PDF `data`, read in a limited child process; `PdfError` when it cannot be read.

    `waiting(seconds)` is called about every quarter second while the child reads (a page shows progress there,
    and an exception it raises, a page's rerun or stop, ends the child). At most `MAX_READERS` children run at
    once in this process; more wait their turn."""
    if len(data) > MAX_PDF_BYTES:
        size = f"{len(data) / 2**20:,.1f} MiB"
        raise PdfError(f"{name} is {size}; PDFs of at most {MAX_PDF_BYTES // 2**20} MiB are read.")
    if b"%PDF-" not in data[:1024]:  # where readers look for the header
        raise PdfError(f"{name} is not a PDF file.")
    command = [sys.executable, "-m", "core.intel.pdftext", "--max-pages", str(max_pages), "--max-chars", str(max_chars)]
    command += ["--cpu-seconds", str(max(1, math.ceil(time_limit_s)))]
    with _turn(waiting), tempfile.TemporaryFile() as answer_file:
        started = time.monotonic()
        child = subprocess.Popen(  # noqa: S603 (our own interpreter and module; the PDF goes to its stdin)
            command,
            stdin=subprocess.PIPE,
            stdout=answer_file,
            stderr=subprocess.DEVNULL,  # the reader's warnings can run to gigabytes on a crafted file
            cwd=_REPO,
            env={**os.environ, "PYTHONPATH": str(_REPO)},
        )
        try:
            _feed(child, data)
            while child.poll() is None:
                elapsed = time.monotonic() - started
                if elapsed > time_limit_s:
                    raise PdfError(f"Reading the text of {name} took longer than {time_limit_s:g} s; it was stopped.")
                if waiting is not None:
                    waiting(elapsed)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    child.wait(min(_POLL_S, max(time_limit_s - elapsed, 0.001)))
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
        answer_file.seek(0)
        answer = _answer(answer_file.read(_MAX_ANSWER_BYTES + 1))
    if answer is None:
        raise PdfError(f"The text of {name} could not be read: the PDF reader stopped (it ran out of memory or time).")
    if "error" in answer:
        raise PdfError(f"The text of {name} could not be read: {answer['error']}")
    return PdfText(answer["text"], answer["pages"], answer["pages_read"], answer["truncated"])


@contextlib.contextmanager
def _turn(waiting: Callable[[float], object] | None) -> Iterator[None]:
    """A reader's turn: one of `MAX_READERS`, waited for with `waiting` called meanwhile (so a page can stop)."""
    queued = time.monotonic()
    while not _READERS.acquire(timeout=_POLL_S):
        if waiting is not None:
            waiting(time.monotonic() - queued)
    try:
        yield
    finally:
        _READERS.release()


def _feed(child: subprocess.Popen, data: bytes) -> None:
    """Hand the PDF to the child (a child that stopped early, on its limits, just stops listening)."""
    with contextlib.suppress(BrokenPipeError):
        child.stdin.write(data)
    with contextlib.suppress(BrokenPipeError):
        child.stdin.close()


def _answer(raw: bytes) -> dict | None:
    if len(raw) > _MAX_ANSWER_BYTES:
        return None
    try:
        answer = json.loads(raw)
    except ValueError:
        return None
    return answer if isinstance(answer, dict) else None


def _read(data: bytes, max_pages: int, max_chars: int) -> dict:
    """In the child: the text of the PDF, or the reason it cannot be read."""
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            return {"error": "it is encrypted with a password; save an unprotected copy and upload that."}
        pages = len(reader.pages)
        texts, size = [], 0
        for page in reader.pages[:max_pages]:
            text = (page.extract_text() or "")[: max_chars - size]
            texts.append(text.encode("utf-8", "replace").decode("utf-8"))  # a lone surrogate from a font's map: '?'
            size += len(texts[-1])
            if size >= max_chars:
                break
    except (LimitReachedError, MemoryError, RecursionError):
        return {"error": "it is larger or deeper than a report may be (a decompression bomb or a page tree, say)."}
    except (DependencyError, NotImplementedError):
        return {"error": "it uses an encryption or a compression the reader does not support."}
    except Exception:  # whatever a hostile file makes the reader raise, the analyst gets a sentence
        return {"error": "it is damaged, or not a PDF the reader understands."}
    return {
        "text": "\n\n".join(texts),
        "pages": pages,
        "pages_read": len(texts),
        "truncated": len(texts) < pages or size >= max_chars,
    }


def _child(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Read a PDF's text from stdin (the PDF reader's child process).")
    parser.add_argument("--max-pages", type=int, required=True)
    parser.add_argument("--max-chars", type=int, required=True)
    parser.add_argument("--cpu-seconds", type=int, required=True)
    args = parser.parse_args(argv)
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT_BYTES, MEMORY_LIMIT_BYTES))
    resource.setrlimit(resource.RLIMIT_CPU, (args.cpu_seconds, args.cpu_seconds))
    logging.disable(logging.CRITICAL)  # pypdf's warnings: one per broken line of a crafted file
    warnings.simplefilter("ignore")
    answer, sys.stdout = sys.stdout, sys.stderr  # only the answer goes to stdout
    data = sys.stdin.buffer.read(MAX_PDF_BYTES + 1)
    answer.write(json.dumps(_read(data, args.max_pages, args.max_chars)))
    answer.flush()


if __name__ == "__main__":
    _child()
