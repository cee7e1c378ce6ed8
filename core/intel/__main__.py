"""Command line: `python -m core.intel extract FILE... [--json]`, `match DATASET [--json]`, `load [FEED...]`,
`map FILE [--json]` (sentences to ATT&CK techniques).

`extract` reads text files and PDFs (their text, read by `core.intel.pdftext`; offsets are into that text). Bad
input (a binary file, one over the size cap, a damaged or hostile PDF, a hostile JSON feed) exits 2 with one line
on stderr and writes nothing; `match` and `load` write to the warehouse at $CTAS_WAREHOUSE only when they succeed.
`map` answers one object per input object (null for one without a text) and, when no mapper is registered in
$CTAS_WAREHOUSE, trains and registers one first (about half a minute, from the shared TRAM sentences and ATT&CK
bundle).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from core import safejson
from core.cli import Parser, fail, terminal_safe
from core.errors import CtasError
from core.intel import service
from core.intel.attack import training
from core.intel.extract import extract
from core.intel.feeds import decode
from core.intel.pdftext import PdfText, is_pdf, pdf_text
from core.intel.store import IntelStore
from core.warehouse import open_warehouse

MAX_DOCUMENT_BYTES = 20 * 2**20


def read_bytes(path: Path) -> bytes:
    """A regular file named on the command line, of at most 20 MiB."""
    if not path.is_file():
        raise CtasError(f"{path} is not a readable file.")
    size = path.stat().st_size
    if size > MAX_DOCUMENT_BYTES:
        raise CtasError(f"{path} is {size / 2**20:,.1f} MiB; at most {MAX_DOCUMENT_BYTES // 2**20} MiB is read.")
    return path.read_bytes()[: MAX_DOCUMENT_BYTES + 1]


def read_document(path: Path) -> str:
    """A text document named on the command line: a regular file of at most 20 MiB of UTF-8 text."""
    return decode(read_bytes(path), str(path))


def read_report(path: Path) -> tuple[str, PdfText | None]:
    """A report named on the command line: UTF-8 text, or a PDF's text (with what was read of the PDF)."""
    data = read_bytes(path)
    if is_pdf(data):
        read = pdf_text(data, str(path))
        return read.text, read
    return decode(data, str(path)), None


def _extract(args) -> int:
    documents = [(path, *read_report(path)) for path in args.files]  # every file checked before any output
    for path, text, pdf in documents:
        found = extract(text)
        if args.json:
            by_type: dict[str, list[dict]] = {}
            for item in found:
                by_type.setdefault(item.type, []).append(
                    {"value": item.value, "benign": item.benign, "offsets": [list(o) for o in item.offsets]}
                )
            answer: dict = {"file": str(path), "indicators": by_type}
            if pdf is not None:  # offsets are into the PDF's text, as read
                answer["pdf"] = {"pages": pdf.pages, "pages_read": pdf.pages_read, "truncated": pdf.truncated}
            print(json.dumps(answer, ensure_ascii=False))
        else:
            print(terminal_safe(f"{path}: {len(found)} indicators"))
            for item in found:
                flag = f"  (benign: {item.benign})" if item.benign else ""
                print(terminal_safe(f"  {item.type:17} {item.value}{flag}"))
    return 0


def _match(args) -> int:
    store = IntelStore(open_warehouse())
    columns = dict(service.suggest_columns(store, args.dataset))
    if not columns:
        raise CtasError(f"No column of {args.dataset} holds IPs, domains, URLs, hashes or e-mail addresses.")
    result = service.match_dataset(store, args.dataset, columns, time_column=args.time)
    summary = {
        "dataset": args.dataset,
        "run_id": result.run_id,
        "events": result.events,
        "hits": len(result.hits),
        "columns": columns,
        "by_source": result.hits.groupby("source").size().to_dict() if len(result.hits) else {},
    }
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
    else:
        print(
            terminal_safe(f"{args.dataset}: {result.events:,} events, {len(result.hits):,} hits (run {result.run_id})")
        )
    return 0


def _load(args) -> int:
    wanted = set(args.feeds) or {f.name for f in service.KNOWN_FEEDS}
    unknown = wanted - {f.name for f in service.KNOWN_FEEDS}
    if unknown:
        raise CtasError(
            f"Unknown feed {sorted(unknown)[0]!r}; known: {', '.join(f.name for f in service.KNOWN_FEEDS)}."
        )
    store = IntelStore(open_warehouse())
    for feed in service.KNOWN_FEEDS:
        if feed.name in wanted:
            print(terminal_safe(f"{feed.name}: {service.load_known_feed(store, feed):,} indicators"))
    return 0


def _map(args) -> int:
    items = safejson.loads(read_document(args.file), what=str(args.file), max_bytes=MAX_DOCUMENT_BYTES)
    if not isinstance(items, list):
        raise CtasError(f"{args.file} is not a JSON list of objects with a text field.")
    texts = [item["text"] if isinstance(item, dict) and isinstance(item.get("text"), str) else "" for item in items]
    mapper, _ = training.load(open_warehouse())
    predicted = mapper.predict(texts)
    if args.json:
        print(json.dumps([{"technique": t, "confidence": round(p, 6)} for t, p in predicted]))
    else:
        for text, (technique, confidence) in zip(texts, predicted, strict=True):
            print(terminal_safe(f"{technique or '-':10} {confidence:.3f}  {text[:100]}"))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = Parser(
        prog="python -m core.intel", description="Threat intelligence: extract, load feeds, match, map to techniques."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    extract_cmd = commands.add_parser("extract", help="indicators in text files and PDFs")
    extract_cmd.add_argument("files", nargs="+", type=Path)
    extract_cmd.add_argument("--json", action="store_true", help="one JSON object per file")
    match_cmd = commands.add_parser("match", help="match a warehouse dataset against every loaded indicator")
    match_cmd.add_argument("dataset")
    match_cmd.add_argument("--time", help="the column holding event times")
    match_cmd.add_argument("--json", action="store_true")
    load_cmd = commands.add_parser("load", help="load known feeds into the warehouse")
    load_cmd.add_argument("feeds", nargs="*", help="feed names (default: all)")
    map_cmd = commands.add_parser("map", help="ATT&CK technique of each sentence in a JSON list of {text: ...}")
    map_cmd.add_argument("file", type=Path)
    map_cmd.add_argument("--json", action="store_true", help="a JSON list of {technique, confidence}, in order")
    args = parser.parse_args(argv)
    try:
        return {"extract": _extract, "match": _match, "load": _load, "map": _map}[args.command](args)
    except CtasError as exc:
        return fail(exc)


if __name__ == "__main__":
    sys.exit(main())
