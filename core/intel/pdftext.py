"""The text of a PDF report, for indicator extraction.

pypdf reads the file in a child process of its own, with a memory limit, a CPU-time limit and a wall-clock
deadline: a hostile PDF (a decompression bomb, a reference loop, a parser bug) can exhaust or hang that child only,
and the caller gets one `PdfError` sentence. Pages past `MAX_PAGES` and text past `MAX_TEXT_CHARS` are left out
and said so. Run as `python -m core.intel.pdftext` it is that child: the PDF on stdin, one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from pypdf import PdfReader
from pypdf.errors import LimitReachedError, PyPdfError

from core.errors import CtasError

MAX_PDF_BYTES = 20 * 2**20
MAX_PAGES = 500
MAX_TEXT_CHARS = 5_000_000
TIME_LIMIT_S = 60.0
MEMORY_LIMIT_BYTES = 2 * 2**30
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
    """Whether the bytes are a PDF file (its header within the first KiB, as readers allow)."""
    return b"%PDF-" in data[:1024]


def pdf_text(
    data: bytes,
    name: str = "the file",
    *,
    max_pages: int = MAX_PAGES,
    max_chars: int = MAX_TEXT_CHARS,
    time_limit_s: float = TIME_LIMIT_S,
) -> PdfText:
    """The text of the PDF `data`, read in a limited child process; `PdfError` when it cannot be read."""
    if len(data) > MAX_PDF_BYTES:
        raise PdfError(
            f"{name} is {len(data) / 2**20:,.1f} MiB; PDFs of at most {MAX_PDF_BYTES // 2**20} MiB are read."
        )
    if not is_pdf(data):
        raise PdfError(f"{name} is not a PDF file.")
    command = [sys.executable, "-m", "core.intel.pdftext", "--max-pages", str(max_pages), "--max-chars", str(max_chars)]
    command += ["--cpu-seconds", str(max(1, int(time_limit_s)))]
    try:
        done = subprocess.run(  # noqa: S603 (our own interpreter and module; the PDF goes to its stdin)
            command,
            input=data,
            capture_output=True,
            timeout=time_limit_s,
            cwd=_REPO,
            env={**os.environ, "PYTHONPATH": str(_REPO)},
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise PdfError(f"Reading the text of {name} took longer than {time_limit_s:g} s; it was stopped.") from None
    try:
        answer = json.loads(done.stdout)
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise PdfError(f"The text of {name} could not be read: the PDF reader stopped (it ran out of memory or time).")
    if "error" in answer:
        raise PdfError(f"The text of {name} could not be read: {answer['error']}")
    return PdfText(answer["text"], answer["pages"], answer["pages_read"], answer["truncated"])


def _read(data: bytes, max_pages: int, max_chars: int) -> dict:
    """In the child: the text of the PDF, or the reason it cannot be read."""
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            return {"error": "it is encrypted with a password; save an unprotected copy and upload that."}
        pages = len(reader.pages)
        texts, size = [], 0
        for page in reader.pages[:max_pages]:
            text = page.extract_text() or ""
            texts.append(text[: max_chars - size])
            size += len(texts[-1])
            if size >= max_chars:
                break
    except (LimitReachedError, MemoryError):
        return {"error": "a stream in it expands past what a report may use (a decompression bomb, say)."}
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError):
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
    data = sys.stdin.buffer.read(MAX_PDF_BYTES + 1)
    print(json.dumps(_read(data, args.max_pages, args.max_chars)))


if __name__ == "__main__":
    _child()
