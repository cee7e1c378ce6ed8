"""The one schema every capability publishes in: a `Signal` (time, source, kind, rule, severity, entities, a one-line
summary, evidence and a link back to the page that produced it) about `Entity` values, each normalised so the same
IP, host, user or domain is one entity whichever capability names it."""

from __future__ import annotations

import ipaddress
import json
import logging
import math
import re
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit, urlunsplit

import h3

from core.errors import CtasError

log = logging.getLogger("ctas.cases")
T = TypeVar("T")
SOURCES = ("host monitor", "behaviour", "intel", "threat map", "fbas", "bitcoin")
SEVERITIES = ("info", "low", "medium", "high", "critical")
ENTITY_KINDS = (
    "host", "user", "ip", "cidr", "domain", "url", "hash", "email", "h3", "validator", "organization", "pool", "network"
)  # fmt: skip
PAGES = ("host_monitor", "behaviour", "intel", "threat_map", "fbas", "bitcoin", "investigations")
MAX_VALUE = 512
MAX_SUMMARY = 300
MAX_ENTITIES = 50
MAX_EVIDENCE_BYTES = 64 * 1024
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_HOST = re.compile(r"[a-z0-9_]([a-z0-9_-]{0,62})(\.[a-z0-9_]([a-z0-9_-]{0,62}))*")
_EMAIL = re.compile(r"[^@\s]{1,64}@[a-z0-9_-]+(\.[a-z0-9_-]+)+")
_HASH_LENGTHS = (32, 40, 64)
_VALIDATOR = re.compile(r"G[A-Z2-7]{55}")
_POOL = re.compile(r"[^\s]{1,64}")  # mining-pool slugs are lower-case names without spaces: "f2pool", "cn/tt"


class SignalError(CtasError, ValueError):
    """A signal or entity that does not fit the schema; the message says which part."""


def one_line(value: object, what: str, limit: int) -> str:
    """`value` as one line of text (control characters and runs of spaces made one space), refused when empty or
    longer than `limit`."""
    text = " ".join(_CONTROL.sub(" ", str(value)).split())
    if not text:
        raise SignalError(f"{what} is empty.")
    if len(text) > limit:
        raise SignalError(f"{what} is longer than {limit} characters.")
    return text


def _ip(raw: str) -> str:
    address = ipaddress.ip_address(raw.strip("[]"))
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.compressed


def _domain(raw: str) -> str:
    name = raw.lower().rstrip(".")
    if not name.isascii():
        name = name.encode("idna").decode("ascii")
    if len(name) > 253 or not _HOST.fullmatch(name):
        raise ValueError(name)
    return name


def _url(raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme.lower() not in ("http", "https", "ftp") or not parts.hostname:
        raise ValueError(raw)
    host = _domain(parts.hostname) if not parts.hostname.replace(".", "").isdigit() else _ip(parts.hostname)
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", parts.query, ""))


def _hash(raw: str) -> str:
    value = raw.lower()
    if len(value) not in _HASH_LENGTHS or any(c not in "0123456789abcdef" for c in value):
        raise ValueError(raw)
    return value


def _email(raw: str) -> str:
    value = raw.lower()
    if not _EMAIL.fullmatch(value):
        raise ValueError(raw)
    return value


def _cell(raw: str) -> str:
    value = raw.lower()
    if not h3.is_valid_cell(value):
        raise ValueError(raw)
    return value


def _pool(raw: str) -> str:
    value = raw.lower()
    if not _POOL.fullmatch(value):
        raise ValueError(raw)
    return value


def _validator(raw: str) -> str:
    if not _VALIDATOR.fullmatch(raw):
        raise ValueError(raw)
    return raw


_NORMALISE = {
    "host": lambda raw: raw.lower(),
    "user": lambda raw: raw,
    "ip": _ip,
    "cidr": lambda raw: ipaddress.ip_network(raw, strict=False).compressed,
    "domain": _domain,
    "url": _url,
    "hash": _hash,
    "email": _email,
    "h3": _cell,
    "validator": _validator,
    "organization": lambda raw: raw,
    "pool": _pool,
    "network": _pool,
}


def normalise(kind: str, value: object) -> str:
    """The one spelling of an entity value: addresses compressed, names and hashes lower-case, URLs with a lower-case
    scheme and host. Raises SignalError for a value that is not of its kind."""
    if kind not in _NORMALISE:
        raise SignalError(f"Unknown entity kind {kind!r}; use one of {', '.join(ENTITY_KINDS)}.")
    raw = one_line(value, f"A {kind} entity", MAX_VALUE)
    try:
        normalised = _NORMALISE[kind](raw)
    except (ValueError, UnicodeError, OverflowError, TypeError):
        raise SignalError(f"{raw[:80]!r} is not a valid {kind} entity.") from None
    if kind == "cidr" and "/" not in raw:
        raise SignalError(f"{raw[:80]!r} is not a network in CIDR notation.")
    return normalised


@dataclass(frozen=True)
class Entity:
    """A thing signals are about; an IP may carry where it was seen (latitude, longitude) to link it to H3 cells."""

    kind: str
    value: str
    lat: float | None = None
    lon: float | None = None

    @classmethod
    def of(cls, kind: str, value: object, lat: float | None = None, lon: float | None = None) -> Entity:
        """An entity with its value normalised; a location is kept only when it is a valid latitude and longitude."""
        located = lat is not None and lon is not None and _finite(lat) and _finite(lon)
        located = located and -90 <= float(lat) <= 90 and -180 <= float(lon) <= 180
        return cls(kind, normalise(kind, value), float(lat) if located else None, float(lon) if located else None)


def _finite(value: object) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def _plain(value: object, depth: int = 0) -> object:
    """`value` with NaN and infinities as None, so the evidence is valid JSON; nesting is bounded."""
    if depth > 8:
        raise SignalError("A signal's evidence is nested more than 8 levels deep.")
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v, depth + 1) for v in value]
    return value


def built(items: Iterable[T], build: Callable[[T], Signal]) -> list[Signal]:
    """The signals `build` makes of `items`, leaving out (and logging) any that do not fit the schema: a capability's
    own write never fails because one of its findings cannot be published."""
    signals = []
    for item in items:
        try:
            signals.append(build(item))
        except SignalError as exc:
            log.warning("signal left out: %s", exc.message)
    return signals


def local_host() -> str:
    """The name of the host CTAS runs on: the one its host monitor samples and its behaviour feed verifies."""
    return socket.gethostname() or "localhost"


def link(page: str, **state: object) -> str:
    """A link that reopens `page` in the given state (query parameters), e.g. `intel?run=4`."""
    if page not in PAGES:
        raise SignalError(f"Unknown page {page!r} for a signal's link.")
    params = {k: str(v) for k, v in state.items() if v is not None}
    return page + ("?" + urlencode(params) if params else "")


@dataclass(frozen=True)
class Signal:
    """What an analyst must look at, in the one schema every capability publishes.

    `key` identifies the signal in the whole stream (start it with the source's own prefix; publishing it again
    changes nothing); `rule` names what raised it
    (an alert rule, a feed, a hot-spot category): signals of one rule about one entity are duplicates and collapse.
    """

    source: str
    kind: str
    rule: str
    key: str
    ts: datetime
    severity: str
    summary: str
    entities: tuple[Entity, ...]
    evidence: dict[str, Any] = field(default_factory=dict)
    link: str = ""

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise SignalError(f"Unknown signal source {self.source!r}; use one of {', '.join(SOURCES)}.")
        if self.severity not in SEVERITIES:
            raise SignalError(f"Severity must be one of {', '.join(SEVERITIES)}, not {self.severity!r}.")
        for name, limit in (("kind", 80), ("rule", MAX_VALUE), ("key", MAX_VALUE), ("summary", MAX_SUMMARY)):
            object.__setattr__(self, name, one_line(getattr(self, name), f"A signal's {name}", limit))
        if not isinstance(self.ts, datetime):
            raise SignalError("A signal's time must be a datetime.")
        if self.ts.tzinfo is not None:
            object.__setattr__(self, "ts", self.ts.astimezone(UTC).replace(tzinfo=None))
        if not self.entities or len(self.entities) > MAX_ENTITIES:
            raise SignalError(f"A signal names between 1 and {MAX_ENTITIES} entities, not {len(self.entities)}.")
        for entity in self.entities:
            if not isinstance(entity, Entity) or normalise(entity.kind, entity.value) != entity.value:
                raise SignalError("A signal's entities are made with Entity.of (their values normalised).")
        if self.link and self.link.split("?", 1)[0] not in PAGES:
            raise SignalError(f"A signal's link must open a CTAS page, not {self.link[:80]!r}.")
        if len(self.evidence_json) > MAX_EVIDENCE_BYTES:
            raise SignalError(f"A signal's evidence is larger than {MAX_EVIDENCE_BYTES // 1024} KiB.")

    @property
    def evidence_json(self) -> str:
        """The evidence as JSON text (values JSON cannot hold are written as text)."""
        return json.dumps(_plain(self.evidence), default=str, ensure_ascii=False, allow_nan=False, sort_keys=True)

    @property
    def primary(self) -> Entity:
        """The entity the signal is mainly about (its first): duplicates collapse on it."""
        return self.entities[0]
