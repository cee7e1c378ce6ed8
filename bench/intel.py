"""Benchmark: threat-intel extraction and matching against the tools analysts use, in one run, one JSON line a figure.

    python bench/intel.py [--skip-anchors] [--anchor-timeout 30] [--queries 1000000] [--parts PART...]

Extraction (one core): CTAS `extract` against ioc-finder, iocextract and iocsearcher (requirements-bench.txt) on the
shared AnnoCTR texts: MB/s, per-type precision and recall against the majority vote of the three anchors (a value
two of them report), the worst single-document time, adversarial 256 KB documents, and the dev cases passed.
Each anchor runs in a process of its own with a per-document time limit (iocextract's e-mail pattern backtracks
for minutes on some documents; a document over the limit counts its limit as time and gives nothing).
Matching: IPv4, CIDR and domain lookups per second against numpy searchsorted, a DuckDB join and Python sets, on
the shared honeypot events against ipsum and maltrail; domain index load time and memory; feed load times.
Part 2 (bench/intel_attack.py): ATT&CK load and group x technique matrix, the technique mapper's report-grouped 5-fold
micro and macro F1 beside TF-IDF + linear SVM, the correlation graph's build and explanation times.
"""

from __future__ import annotations

import argparse
import gzip
import ipaddress
import json
import multiprocessing
import signal
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import intel_attack  # noqa: E402  (bench/intel_attack.py: part 2's figures)
from timing import median_seconds  # noqa: E402

from core.intel import _kernels, service  # noqa: E402
from core.intel.extract import TYPES, by_type, extract  # noqa: E402
from core.intel.feeds import read_ipsum, read_maltrail  # noqa: E402
from core.intel.match import CidrIndex, DomainIndex, ipv4_numbers  # noqa: E402
from core.intel.names import FILE_EXTENSION_TLDS  # noqa: E402
from core.intel.store import IntelStore  # noqa: E402
from core.warehouse import Warehouse  # noqa: E402

INTEL = REPO.parent / "shared" / "data" / "intel"
GEO = REPO.parent / "shared" / "data" / "geo" / "aws_honeypot_marx_geo_2013-03_06.csv.gz"
ADVERSARIAL_BYTES = 256 * 1024
PARTS = ("extraction", "matching", "attack", "mapper", "graph")


def emit(**figure: object) -> None:
    print(json.dumps(figure, default=str), flush=True)


def corpus() -> dict[str, str]:
    return {
        p.name: gzip.open(p, "rt", encoding="utf-8").read()
        for p in sorted((INTEL / "annoctr" / "text").glob("*.txt.gz"))
    }


# ------------------------------------------------------------------ normal forms shared by every extractor's output
def _address(kind: str, value: str) -> str | None:
    try:
        if kind == "ipv4":
            return str(ipaddress.IPv4Address(".".join(str(int(p)) for p in value.split("."))))
        return ipaddress.IPv6Address(value.strip("[]").split("%")[0]).compressed
    except ValueError:
        return None


def _url(value: str) -> str:
    scheme, sep, rest = value.partition("://")
    if not sep:
        return value.rstrip("/")
    host, slash, path = rest.partition("/")
    return f"{scheme.lower()}://{host.lower()}{slash}{path}".rstrip("/")


def _normal(kind: str, value: str) -> str | None:
    """One extractor's value in the form every extractor's is compared in (URLs without one trailing '/')."""
    value = value.strip()
    if kind in ("ipv4", "ipv6"):
        return _address(kind, value)
    if kind == "url":
        return _url(value)
    if kind == "domain":
        return value.lower().rstrip(".")
    return value.upper() if kind in ("cve", "attack_technique") else value.lower()


def _ctas(text: str) -> list[tuple[str, str]]:
    return [(i.type, i.value) for i in extract(text)]


def _ioc_finder():
    import ioc_finder

    kinds = {
        "ipv4s": "ipv4",
        "ipv6s": "ipv6",
        "domains": "domain",
        "urls": "url",
        "email_addresses": "email",
        "md5s": "md5",
        "sha1s": "sha1",
        "sha256s": "sha256",
        "cves": "cve",
        "attack_techniques": "attack_technique",
    }

    def run(text: str) -> list[tuple[str, str]]:
        found = ioc_finder.find_iocs(text, included_ioc_types=list(kinds))
        out = []
        for key, kind in kinds.items():
            values = found.get(key, [])
            values = [v for group in values.values() for v in group] if isinstance(values, dict) else values
            out += [(kind, v) for v in values]
        return out

    return run


def _iocextract():
    import iocextract

    def run(text: str) -> list[tuple[str, str]]:
        out = [("ipv6" if ":" in ip else "ipv4", ip) for ip in iocextract.extract_ips(text, refang=True)]
        out += [("url", u) for u in iocextract.extract_urls(text, refang=True)]
        out += [("email", e) for e in iocextract.extract_emails(text, refang=True)]
        out += [
            ({32: "md5", 40: "sha1", 64: "sha256"}[len(h)], h)
            for h in iocextract.extract_hashes(text)
            if len(h) in (32, 40, 64)
        ]
        return out

    return run


def _iocsearcher():
    from iocsearcher.searcher import Searcher

    searcher = Searcher()
    kinds = {
        "ip4": "ipv4",
        "ip6": "ipv6",
        "fqdn": "domain",
        "url": "url",
        "email": "email",
        "md5": "md5",
        "sha1": "sha1",
        "sha256": "sha256",
        "cve": "cve",
        "ttp": "attack_technique",
    }

    def run(text: str) -> list[tuple[str, str]]:
        return [(kinds[i.name], i.value) for i in searcher.search_data(text, targets=set(kinds))]

    return run


EXTRACTORS = {"ctas": lambda: _ctas, "ioc-finder": _ioc_finder, "iocextract": _iocextract, "iocsearcher": _iocsearcher}


def _timeout(signum, frame):
    raise TimeoutError


def _run_extractor(name: str, documents: dict[str, str], limit_s: float, out) -> None:
    """In a process of its own: each document's normalised output and time (the limit's, on a time-out)."""
    run = EXTRACTORS[name]()
    run("warm up 1.2.3.4 example.com")
    signal.signal(signal.SIGALRM, _timeout)
    results = {}
    for doc, text in documents.items():
        signal.setitimer(signal.ITIMER_REAL, limit_s)
        started = time.perf_counter()
        try:
            found = run(text)
            timed_out = False
        except TimeoutError:
            found, timed_out = [], True
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        seconds = time.perf_counter() - started
        values: dict[str, set[str]] = {}
        for kind, value in found:
            if (normal := _normal(kind, value)) is not None:
                values.setdefault(kind, set()).add(normal)
        results[doc] = (seconds, timed_out, {k: sorted(v) for k, v in values.items()})
    out.put(results)


def run_extractor(name: str, documents: dict[str, str], limit_s: float) -> dict:
    queue = multiprocessing.get_context("fork").Queue()
    process = multiprocessing.get_context("fork").Process(target=_run_extractor, args=(name, documents, limit_s, queue))
    process.start()
    results = queue.get()
    process.join()
    return results


def extraction(skip_anchors: bool, limit_s: float, unescaped: bool) -> None:
    """Speed and quality; `unescaped`: every extractor reads the texts with markdown's `\\_` written as `_` (the
    AnnoCTR texts escape underscores, which cuts the anchors' URLs and e-mails short; CTAS reads `\\_` as `_`)."""
    documents = corpus()
    if unescaped:
        documents = {name: text.replace("\\_", "_") for name, text in documents.items()}
    input_form = "markdown unescaped" if unescaped else "as stored"
    megabytes = sum(len(t.encode()) for t in documents.values()) / 1e6
    names = ["ctas"] if skip_anchors else list(EXTRACTORS)
    results = {name: run_extractor(name, documents, limit_s) for name in names}
    for name, by_doc in results.items():
        seconds = sum(r[0] for r in by_doc.values())
        worst = max(by_doc.items(), key=lambda item: item[1][0])
        emit(
            figure="extraction_speed",
            input=input_form,
            extractor=name,
            documents=len(by_doc),
            megabytes=round(megabytes, 2),
            seconds=round(seconds, 3),
            mb_per_s=round(megabytes / seconds, 2),
            timed_out=sum(r[1] for r in by_doc.values()),
            worst_document=worst[0],
            worst_seconds=round(worst[1][0], 3),
        )
    if skip_anchors:
        return
    ctas = results["ctas"]
    emit(
        figure="extraction_speed_ratio",
        ctas_over_ioc_finder=round(
            sum(r[0] for r in results["ioc-finder"].values()) / sum(r[0] for r in ctas.values()), 1
        ),
    )
    anchors = [n for n in names if n != "ctas"]
    for kind in [*TYPES, "url_with_scheme"]:
        source = "url" if kind == "url_with_scheme" else kind
        found_total, hit_total = Counter(), Counter()
        majority_size = 0
        missed: Counter = Counter()
        unlisted: list[str] = []
        for doc in documents:
            counts = Counter(v for a in anchors for v in results[a][doc][2].get(source, []))
            majority = {v for v, c in counts.items() if c >= 2}
            if kind == "url_with_scheme":
                majority = {v for v in majority if "://" in v}
            majority_size += len(majority)
            for name in names:
                found = set(results[name][doc][2].get(source, []))
                found_total[name] += len(found)
                hit_total[name] += len(found & majority)
                if name == "ctas":
                    for value in sorted(majority - found):
                        why = _why_not_reported(kind, value)
                        missed[why] += 1
                        if why == "other" and len(unlisted) < 12:
                            unlisted.append(value)
        emit(
            figure="ctas_missed_majority", input=input_form, type=kind, by_reason=dict(missed), other_examples=unlisted
        )
        for name in names:
            emit(
                figure="extraction_quality",
                input=input_form,
                type=kind,
                extractor=name,
                majority=majority_size,
                reported=found_total[name],
                precision=round(hit_total[name] / found_total[name], 4) if found_total[name] else None,
                recall=round(hit_total[name] / majority_size, 4) if majority_size else None,
            )


def _why_not_reported(kind: str, value: str) -> str:
    """Which rule of the dev cases' README a majority value CTAS did not report falls under, if any."""
    if kind == "domain":
        labels = value.split(".")
        if labels[-1] in FILE_EXTENSION_TLDS:
            return "file name (extension is a TLD)"
        if value.startswith("2f"):
            return "glued to a %-escape"
        if labels[0] in ("com", "org", "net", "android", "java") and len(labels) >= 3:
            return "reverse-DNS package name"
    if kind == "url" and "://" not in value:
        return "no scheme (host/path)"
    return "other"


def adversarial() -> None:
    units = {
        "a@": "a@",
        "A*n+.": "A",
        "base64": "TVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAA+/",
        "hex dump": "4d5a9000 0300 ",
        "dotted digits": "1.",
        "urls in urls": "http://a",
        "defangs": "x[.]",
        "colons": "::a",
        "hyphens": "a-",
        "escapes": "%2F",
        "technique ids": "T1059.",
        "parentheses": "http://a.com/(",
        "long name": "ab.",
        "emails": "a.b@c.d",
        "numbered list": "0: ",
    }
    documents = {
        name: (unit * (ADVERSARIAL_BYTES // len(unit) + 1))[:ADVERSARIAL_BYTES] for name, unit in units.items()
    }
    # periodic text with one different ending: CJK labels, then a Latin one (trimming them was quadratic)
    documents["CJK labels, Latin end"] = ("中a." * (ADVERSARIAL_BYTES // 3))[: ADVERSARIAL_BYTES - 1] + "x"
    # lists of distinct indicators, one after another: every one is new, so nothing is cached
    documents |= {
        "distinct IPv4 list": _distinct(lambda i: f"{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}.7 "),
        "distinct IPv6 list": _distinct(lambda i: f"2001:db8:{i:x}::{i % 65535:x} "),
        "distinct URL list": _distinct(lambda i: f"http://h{i}.example{i % 97}.com/p/{i} "),
        "distinct defanged domains": _distinct(lambda i: f"host{i}[.]evil{i % 89}[.]net "),
        "distinct e-mails": _distinct(lambda i: f"user{i}@mail{i % 71}.example.org "),
        "distinct IDN names": _distinct(lambda i: f"ä{i}.ä.ä.ä.ä.ä.ä.com "),
        "distinct IDN URLs": _distinct(lambda i: f"http://ä{i}.ä.ä.ä.ä.com/ "),
        "distinct IDN labels": _distinct(lambda i: f"ä{i}.ö{i}.ü{i}.com "),
        "distinct IDN e-mails": _distinct(lambda i: f"u{i}@ä{i}.com "),
        "distinct IPv4-mapped IPv6": _distinct(lambda i: f"::ffff:{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}.9 "),
        "distinct global IPv6": _distinct(lambda i: f"2a00:{i:x}::{i % 65535:x} "),
        "distinct defanged URLs": _distinct(lambda i: f"hxxp://h{i}[.]evil[.]com/x "),
        "distinct IPv4 URLs": _distinct(lambda i: f"http://{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}.7/ "),
        "distinct IPv4 with ports": _distinct(lambda i: f"{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}.7:{i % 65535} "),
        "distinct leading-zero IPv4": _distinct(lambda i: f"0{(i >> 16) & 255}.0{(i >> 8) & 255}.0{i & 255}.07 "),
        "distinct CVE ids": _distinct(lambda i: f"CVE-2021-{10000 + i} "),
        "distinct technique ids": _distinct(lambda i: f"T{1000 + i % 9000}.{i % 1000:03d} "),
    }
    for name, text in documents.items():
        times = []
        for _ in range(3):
            started = time.perf_counter()
            extract(text + ".")
            times.append(time.perf_counter() - started)
        emit(
            figure="adversarial_document",
            input=name,
            kilobytes=256,
            median_seconds=round(statistics.median(times), 4),
            limit_seconds=0.25,
        )


def _distinct(make: Callable[[int], str]) -> str:
    """256 KB of distinct indicators `make(0)`, `make(1)`, …"""
    parts, size, i = [], 0, 0
    while size < ADVERSARIAL_BYTES:
        parts.append(make(i))
        size += len(parts[-1])
        i += 1
    return "".join(parts)[:ADVERSARIAL_BYTES]


def dev_cases() -> None:
    cases = [json.loads(line) for line in (INTEL / "ioc_cases_dev.jsonl").read_text("utf-8").splitlines()]
    passed = 0
    for case in cases:
        found = by_type(extract(case["text"]))
        ok = all(
            {v.rstrip("/") for v in vals} <= {f.rstrip("/") for f in found[k]} for k, vals in case["expected"].items()
        )
        ok = ok and not any(set(vals) & set(found[k]) for k, vals in case["forbidden"].items())
        passed += ok
    emit(figure="dev_cases", passed=passed, cases=len(cases))


def matching(queries: int) -> None:
    ipsum, maltrail = read_ipsum(INTEL / "ipsum.txt.gz"), read_maltrail(INTEL / "maltrail_static_trails.csv.gz")
    bad_ips = sorted(set(ipsum.indicators["value"]) | set(maltrail.indicators.query("type == 'ipv4'")["value"]))
    keys = np.unique(ipv4_numbers(bad_ips))
    events = pd.read_csv(GEO, usecols=["srcstr"])["srcstr"].astype(str).tolist()
    numbers = ipv4_numbers(events)
    rng = np.random.default_rng(20261203)
    big = np.concatenate([numbers, rng.integers(0, 2**32, 10_000_000 - numbers.size)])  # 10 M lookups
    _kernels.sorted_member(keys, big[:10])
    hits = int((_kernels.sorted_member(keys, numbers) >= 0).sum())
    ctas = median_seconds(lambda: _kernels.sorted_member(keys, big))
    from_text = median_seconds(lambda: _kernels.sorted_member(keys, ipv4_numbers(events)))
    numpy = median_seconds(lambda: np.minimum(np.searchsorted(keys, big), keys.size - 1))
    bad = set(bad_ips)
    python = median_seconds(lambda: [e in bad for e in events], 3) * big.size / len(events)
    con = duckdb.connect()
    con.register("events", pd.DataFrame({"ip": events}))
    con.register("bad", pd.DataFrame({"ip": bad_ips}))
    join = (
        median_seconds(lambda: con.sql("SELECT count(*) FROM events JOIN bad USING (ip)").fetchall(), 3)
        * big.size
        / len(events)
    )
    emit(
        figure="ipv4_lookups",
        events=len(events),
        indicators=int(keys.size),
        event_hits=hits,
        lookups=int(big.size),
        ctas_per_s=round(big.size / ctas),
        numpy_searchsorted_per_s=round(big.size / numpy),
        duckdb_join_per_s=round(big.size / join),
        python_set_per_s=round(big.size / python),
        ratio_to_numpy=round(numpy / ctas, 2),
        ctas_honeypot_from_text_seconds=round(from_text, 4),
    )

    networks = sorted({str(ipaddress.IPv4Network(f"{ip}/24", strict=False)) for ip in ipsum.indicators["value"]})
    cidrs = CidrIndex.build(networks)
    cidrs.lookup(big[:10])
    ctas = median_seconds(lambda: cidrs.lookup(big))
    starts = np.array([int(ipaddress.IPv4Network(n).network_address) for n in networks])
    numpy = median_seconds(lambda: starts[np.maximum(np.searchsorted(starts, big, side="right") - 1, 0)] + 256 > big)
    emit(
        figure="cidr_lookups",
        ranges=len(networks),
        note="ipsum addresses as /24 networks",
        lookups=int(big.size),
        ctas_per_s=round(big.size / ctas),
        numpy_searchsorted_per_s=round(big.size / numpy),
        ratio_to_numpy=round(numpy / ctas, 2),
    )

    domains = maltrail.indicators.query("type == 'domain'")["value"].tolist()
    tracemalloc.start()
    started = time.perf_counter()
    index = DomainIndex.build(domains)
    load = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    sample = rng.choice(np.asarray(domains, dtype=object), queries)
    asked = [f"www.{d}" if i % 3 == 0 else (f"x{d}" if i % 3 == 1 else d) for i, d in enumerate(sample)]
    index.lookup(asked[:10])
    ctas = median_seconds(lambda: index.lookup(asked), 3)
    names = set(domains)

    def walk() -> int:
        found = 0
        for name in asked:
            labels = name.split(".")
            found += any(".".join(labels[i:]) in names for i in range(len(labels)))
        return found

    python = median_seconds(walk, 3)
    emit(
        figure="domain_lookups",
        domains=len(domains),
        lookups=queries,
        ctas_per_s=round(queries / ctas),
        python_parent_walk_per_s=round(queries / python),
        ratio_to_python=round(python / ctas, 1),
        index_load_seconds=round(load, 2),
        index_peak_megabytes=round(peak / 2**20, 1),
        table_megabytes=round(index.table.nbytes / 2**20, 1),
    )


def feed_loads(folder: Path) -> None:
    """Each known feed read and upserted into a new warehouse, then reloaded; Python's peak memory on a third load."""
    for feed in service.KNOWN_FEEDS:
        warehouse = Warehouse(folder / f"{feed.file_name}.duckdb")
        store = IntelStore(warehouse)
        started = time.perf_counter()
        held = service.load_known_feed(store, feed)
        seconds = time.perf_counter() - started
        reload = median_seconds(lambda store=store, feed=feed: service.load_known_feed(store, feed), 3)
        tracemalloc.start()
        service.load_known_feed(store, feed)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        emit(
            figure="feed_load",
            feed=feed.name,
            indicators=held,
            first_load_seconds=round(seconds, 2),
            reload_median_seconds=round(reload, 2),
            python_peak_megabytes=round(peak / 2**20, 1),
        )
        warehouse.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-anchors", action="store_true", help="time CTAS only")
    parser.add_argument("--anchor-timeout", type=float, default=30.0, help="seconds per document and extractor")
    parser.add_argument("--queries", type=int, default=1_000_000, help="domain lookups to time")
    parser.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS), help="which figures (default: all)")
    args = parser.parse_args()
    parts = set(args.parts)
    if "extraction" in parts:
        dev_cases()
        adversarial()
        extraction(args.skip_anchors, args.anchor_timeout, unescaped=False)
        extraction(args.skip_anchors, args.anchor_timeout, unescaped=True)
    if "matching" in parts:
        matching(args.queries)
        with tempfile.TemporaryDirectory() as folder:
            feed_loads(Path(folder))
    intel_attack.run(INTEL, GEO, parts, emit)


if __name__ == "__main__":
    main()
