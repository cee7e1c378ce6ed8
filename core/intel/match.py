"""Match event values against every indicator: exact IPv4, CIDR ranges, a domain and its parents, URLs, hashes.

`IndicatorIndex` is built once from the warehouse's indicators (`IntelStore.indicators`): IPv4 addresses as a sorted
uint32 array, CIDR ranges as elementary intervals owned by their most specific range, domain names as sorted 64-bit
hashes (a hit is checked against the name itself), URLs and hashes as Python sets. Lookups run in `_kernels`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.intel import _kernels
from core.intel.values import classify, url_key

MATCH_TYPES = ("ipv4", "domain", "url", "hash", "email")
_SAMPLE = 500


def _buffer(values: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Newline-joined UTF-8 bytes of `values` and their line starts (a newline inside a value becomes a space)."""
    joined = "\n".join(values)
    if joined.count("\n") != max(0, len(values) - 1):
        joined = "\n".join(v.replace("\n", " ") for v in values)
    buffer = np.frombuffer(joined.encode("utf-8", "surrogatepass"), np.uint8)
    return buffer, _kernels.line_starts(buffer)


def ipv4_numbers(values: list[str]) -> np.ndarray:
    """Dotted-quad strings as integers (-1 where a value is not one)."""
    if not values:
        return np.empty(0, np.int64)
    return _kernels.parse_ipv4(*_buffer(values))


@dataclass
class DomainIndex:
    """Domain names by two backwards FNV-1a hashes of their bytes, in an open-addressing table."""

    names: np.ndarray
    table: np.ndarray  # slot -> (first hash, second hash, index in names + 1)

    @classmethod
    def build(cls, names: list[str]) -> DomainIndex:
        if not names:
            return cls(np.empty(0, object), np.zeros((1, 4), np.uint64))
        keys, checks = _kernels.name_hashes(*_buffer(names))
        return cls(np.asarray(names, dtype=object), _kernels.hash_table(keys, checks))

    def lookup(self, queries: list[str]) -> np.ndarray:
        """For each host name, the longest of it and its parents that is indexed (an object array, None for none)."""
        out = np.full(len(queries), None, dtype=object)
        if not queries or not self.names.size:
            return out
        found = _kernels.domain_lookup(self.table, *_buffer(queries))
        hit = found >= 0
        out[hit] = self.names[found[hit]]
        return out


@dataclass
class CidrIndex:
    """IPv4 ranges cut into elementary intervals, each owned by the most specific range covering it."""

    bounds: np.ndarray
    owners: np.ndarray
    networks: list[str]

    @classmethod
    def build(cls, networks: list[str]) -> CidrIndex:
        parsed = sorted(
            (ipaddress.IPv4Network(n, strict=False) for n in networks),
            key=lambda n: (n.prefixlen, int(n.network_address)),
        )
        if not parsed:
            return cls(np.empty(0, np.int64), np.empty(0, np.int64), [])
        starts = np.array([int(n.network_address) for n in parsed], np.int64)
        ends = np.array([int(n.broadcast_address) + 1 for n in parsed], np.int64)
        bounds = np.unique(np.concatenate([starts, ends]))
        owners = np.full(bounds.size, -1, np.int64)
        for k in range(len(parsed)):  # broad ranges first: a more specific range paints over them
            owners[np.searchsorted(bounds, starts[k]) : np.searchsorted(bounds, ends[k])] = k
        return cls(bounds, owners, [str(n) for n in parsed])

    def lookup(self, addresses: np.ndarray) -> np.ndarray:
        """For each address (int, -1 for none), the index of its most specific range in `networks`, or -1."""
        if not self.networks:
            return np.full(addresses.size, -1, np.int64)
        found = _kernels.interval_owner(self.bounds, self.owners, addresses)
        found[addresses < 0] = -1
        return found


@dataclass
class IndicatorIndex:
    """Every indicator value of the warehouse, by type, ready for lookups."""

    ipv4_keys: np.ndarray
    cidrs: CidrIndex
    domains: DomainIndex
    urls: dict[str, str]
    hashes: dict[str, str]
    emails: set[str]

    @classmethod
    def build(cls, values: dict[str, list[str]]) -> IndicatorIndex:
        """From the distinct values of each indicator type (`IntelStore.values_by_type`)."""
        ips = ipv4_numbers(values.get("ipv4", []))
        urls = {}
        for url in values.get("url", []):
            if key := url_key(url):
                urls.setdefault(key, url)
        return cls(
            np.unique(ips[ips >= 0]),
            CidrIndex.build(values.get("cidr", [])),
            DomainIndex.build(values.get("domain", [])),
            urls,
            {v: kind for kind in ("md5", "sha1", "sha256") for v in values.get(kind, [])},
            set(values.get("email", [])),
        )

    def match_ipv4(self, numbers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(exact key index or -1, CIDR index or -1) for each address number."""
        exact = _kernels.sorted_member(self.ipv4_keys, numbers) if self.ipv4_keys.size else np.full(numbers.size, -1)
        exact[numbers < 0] = -1
        return exact, self.cidrs.lookup(numbers)


def detect_type(values: pd.Series) -> str | None:
    """What a column of event values holds (ipv4, domain, url, hash or email), read from a sample; None if none."""
    sample = values.dropna().astype(str).head(_SAMPLE)
    if sample.empty:
        return None
    kinds = pd.Series([(classify(v) or ("", ""))[0] for v in sample]).replace(
        {"md5": "hash", "sha1": "hash", "sha256": "hash", "cidr": "ipv4"}
    )
    counts = kinds[kinds != ""].value_counts()
    if counts.empty or counts.iloc[0] < 0.5 * len(sample):
        return None
    return str(counts.index[0])


def _hits(rows: np.ndarray, observed: list[str], kinds: list[str], found: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"row": rows, "observed": observed, "indicator_type": kinds, "indicator": found})


def match_values(index: IndicatorIndex, values: pd.Series, kind: str) -> pd.DataFrame:
    """Hits of one column read as `kind`: row (position in `values`), observed value, indicator type and value."""
    text = values.astype("string").fillna("").tolist()
    matchers: dict[str, Callable[[IndicatorIndex, list[str]], pd.DataFrame]] = {
        "ipv4": _match_ipv4,
        "domain": _match_domains,
        "url": _match_urls,
        "hash": _match_hashes,
        "email": _match_emails,
    }
    return matchers[kind](index, text)


def _match_ipv4(index: IndicatorIndex, text: list[str]) -> pd.DataFrame:
    numbers = ipv4_numbers([t.strip() for t in text])
    exact, ranges = index.match_ipv4(numbers)
    frames = []
    hit = np.flatnonzero(exact >= 0)
    frames.append(
        _hits(
            hit, [text[i] for i in hit], ["ipv4"] * hit.size, [str(ipaddress.IPv4Address(int(numbers[i]))) for i in hit]
        )
    )
    hit = np.flatnonzero(ranges >= 0)
    frames.append(
        _hits(hit, [text[i] for i in hit], ["cidr"] * hit.size, [index.cidrs.networks[ranges[i]] for i in hit])
    )
    return pd.concat(frames, ignore_index=True)


def _match_domains(index: IndicatorIndex, text: list[str]) -> pd.DataFrame:
    found = index.domains.lookup(text)
    hit = np.flatnonzero(found != None)  # noqa: E711 (element-wise on an object array)
    return _hits(hit, [text[i] for i in hit], ["domain"] * hit.size, list(found[hit]))


def _match_urls(index: IndicatorIndex, text: list[str]) -> pd.DataFrame:
    keys = [url_key(t) or "" for t in text]
    hit = [i for i, key in enumerate(keys) if key in index.urls]
    frames = [
        _hits(np.array(hit, np.int64), [text[i] for i in hit], ["url"] * len(hit), [index.urls[keys[i]] for i in hit])
    ]
    hosts = [key.split("/", 1)[0].rsplit(":", 1)[0] for key in keys]
    by_host = _match_domains(index, hosts)
    by_host["observed"] = [text[i] for i in by_host["row"]]
    frames.append(by_host)
    return pd.concat(frames, ignore_index=True)


def _match_hashes(index: IndicatorIndex, text: list[str]) -> pd.DataFrame:
    lowered = [t.strip().lower() for t in text]
    hit = [i for i, value in enumerate(lowered) if value in index.hashes]
    return _hits(
        np.array(hit, np.int64),
        [text[i] for i in hit],
        [index.hashes[lowered[i]] for i in hit],
        [lowered[i] for i in hit],
    )


def _match_emails(index: IndicatorIndex, text: list[str]) -> pd.DataFrame:
    lowered = [t.strip().lower() for t in text]
    hit = [i for i, value in enumerate(lowered) if value in index.emails]
    frames = [_hits(np.array(hit, np.int64), [text[i] for i in hit], ["email"] * len(hit), [lowered[i] for i in hit])]
    by_domain = _match_domains(index, [value.rpartition("@")[2] for value in lowered])
    by_domain["observed"] = [text[i] for i in by_domain["row"]]
    frames.append(by_domain)
    return pd.concat(frames, ignore_index=True)
