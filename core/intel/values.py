"""One indicator value on its own (a feed line, a CSV cell, a STIX pattern's literal): its type and normal form.

Feeds and events name indicators one per field, so a value is read whole here; prose goes through `extract`.
"""

from __future__ import annotations

import ipaddress
import re
import socket

from core.intel.names import host_domain

FEED_TYPES = ("ipv4", "cidr", "ipv6", "domain", "url", "email", "md5", "sha1", "sha256")
_HEX = re.compile(r"[0-9a-fA-F]+")
_DOTTED_QUAD = re.compile(r"([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})")
_SCHEME = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]{0,15})://")
HASH_TYPES = {32: "md5", 40: "sha1", 64: "sha256"}
MAX_VALUE = 2048


def ipv4(token: str) -> str | None:
    """A dotted quad in decimal (leading zeros are decimal, not octal), or None."""
    if token[:1].isdigit():  # the C library reads the common, already normal form ('8.8.8.8') ten times faster
        try:
            socket.inet_pton(socket.AF_INET, token)
            return token
        except (OSError, ValueError):
            pass
    match = _DOTTED_QUAD.fullmatch(token)
    if match is None:
        return None
    a, b, c, d = map(int, match.groups())
    return f"{a}.{b}.{c}.{d}" if a <= 255 and b <= 255 and c <= 255 and d <= 255 else None


def url_key(url: str) -> str | None:
    """A URL as matching compares it: no scheme, host lower-case, no trailing '/' (None when there is no host)."""
    rest = _SCHEME.sub("", url.strip(), count=1)
    host, slash, path = rest.partition("/")
    host = host.rpartition("@")[2].lower()
    if not host:
        return None
    return (host + slash + path).rstrip("/")


def classify(raw: str, kind: str | None = None) -> tuple[str, str] | None:
    """(type, normalised value) of one indicator value, or None when it is not one.

    `kind` forces a type (a feed that says what it holds); otherwise the type is read from the value.
    """
    text = raw.strip().strip("\"'")
    if not text or len(text) > MAX_VALUE:
        return None
    if kind in (None, "url") and _SCHEME.match(text):
        return ("url", text) if url_key(text) else None
    if kind in (None, "cidr") and "/" in text and "." in text:
        try:
            network = ipaddress.IPv4Network(text, strict=False)
        except ValueError:
            return None if kind == "cidr" else _other(text, kind)
        return ("ipv4", str(network.network_address)) if network.prefixlen == 32 else ("cidr", str(network))
    return _other(text, kind)


def _without_port(text: str) -> str:
    return text.rsplit(":", 1)[0] if text.count(":") == 1 else text


def _address_or_hash(text: str, kind: str | None) -> tuple[str, str] | None:
    if kind in (None, "ipv4") and (address := ipv4(_without_port(text))):
        return "ipv4", address
    if kind in (None, "ipv6") and ":" in text:
        try:
            return "ipv6", ipaddress.IPv6Address(text.strip("[]").split("%", 1)[0]).compressed
        except ValueError:
            pass
    found = HASH_TYPES.get(len(text))
    if found is not None and kind in (None, found) and _HEX.fullmatch(text):
        return found, text.lower()
    return None


def _name(text: str, kind: str | None) -> tuple[str, str] | None:
    if kind in (None, "email") and text.count("@") == 1:
        local, _, host = text.partition("@")
        domain = host_domain(host)
        if local and domain:
            return "email", f"{local.lower()}@{domain}"
    if kind in (None, "domain") and (domain := host_domain(_without_port(text))):
        return "domain", domain
    if kind == "url" and "/" in text and url_key(text):
        return "url", text
    return None


def _other(text: str, kind: str | None) -> tuple[str, str] | None:
    return _address_or_hash(text, kind) or _name(text, kind)
