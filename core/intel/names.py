"""Host names: which dotted words are domains, normalised to lower-case ASCII (IDNA/UTS-46 punycode).

A name is a domain when its last label is a top-level domain of the IANA root zone (the list in `data/`) or a v3
onion address with a valid checksum. Dotted words that read as something else are not domains: file names whose
extension is also a TLD, code identifiers (.NET namespaces, reverse-DNS package names), and a missing space after a
full stop (`Corp.In`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from functools import lru_cache
from pathlib import Path

import idna

DATA = Path(__file__).with_name("data")
MAX_NAME = 253
# Labels of letters, digits and inner hyphens, at most 63 long, joined by dots. Linear: a label's end is fixed by
# the dot after it, so a failed match backtracks at most 62 steps per label.
_LABELS = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_ONION = re.compile(r"[a-z2-7]{56}")
# Extensions of files that reports name and that are TLDs too: a plainly written two-label name ending in one of
# them is a file name (a defanged one, or a URL's host, is a domain).
FILE_EXTENSION_TLDS = frozenset({
    "py", "md", "sh", "one", "so", "rs", "pl", "tf", "zip", "mov", "ps", "app", "cab", "cat", "key", "pub", "mobi",
    "docs", "data", "java", "pm",
})  # fmt: skip
# Extensions that, before a last label, make a file name with a double extension ('invoice.pdf.zip').
INNER_EXTENSIONS = frozenset({
    "pdf", "doc", "docx", "docm", "xls", "xlsx", "xlsm", "ppt", "pptx", "rtf", "txt", "exe", "dll", "scr", "js", "vbs",
    "jpg", "jpeg", "png", "gif", "lnk", "iso", "img", "bat", "ps1", "hta", "tar", "x64", "x86", "bin", "html", "htm",
})  # fmt: skip
# File extensions: a dotted token ending in one reads as a file name where it could be either (the next line of a
# URL cut after '/': 'payload.exe' continues it, 'evil.com' does not).
FILE_EXTENSIONS = FILE_EXTENSION_TLDS | INNER_EXTENSIONS | frozenset({
    "php", "asp", "aspx", "jsp", "cgi", "json", "xml", "css", "svg", "dat", "log", "tmp", "sys", "msi", "apk", "jar",
    "rar", "7z", "gz", "elf", "dmg", "vbe", "wsf", "jse",
})  # fmt: skip
# A dotted name that starts with one of these and has three or more labels is a reverse-DNS package or class name.
_COMMON_ENDINGS = frozenset({"com", "net", "org"})  # 'android.googleapis.com' is a host; 'com.tencent.mm' is not
_REVERSE_DNS_ROOTS = frozenset({
    "com", "org", "net", "edu", "gov", "io", "android", "androidx", "java", "javax", "kotlin",
})  # fmt: skip
# Names reserved for documentation and testing (RFC 2606, RFC 6761).
DOCUMENTATION_TLDS = frozenset({"test", "example", "invalid", "localhost"})
DOCUMENTATION_DOMAINS = frozenset({"example.com", "example.net", "example.org"})


@lru_cache(maxsize=1)
def top_level_domains() -> frozenset[str]:
    """The IANA root zone's TLDs, lower-case (punycode for IDN TLDs)."""
    lines = (DATA / "tlds-alpha-by-domain.txt").read_text("ascii").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def is_onion_v3(label: str) -> bool:
    """Whether `label` is a v3 onion service address (56 base32 characters with a valid checksum and version 3)."""
    if not _ONION.fullmatch(label):
        return False
    try:
        raw = base64.b32decode(label.upper())
    except binascii.Error:
        return False
    key, checksum, version = raw[:32], raw[32:34], raw[34:]
    digest = hashlib.sha3_256(b".onion checksum" + key + version).digest()
    return version == b"\x03" and digest[:2] == checksum


def to_ascii(name: str) -> str | None:
    """`name` lower-cased in ASCII (UTS-46 for non-ASCII names), or None when it cannot be a host name."""
    name = name.rstrip(".")
    if not name or len(name) > MAX_NAME * 4:
        return None
    if name.isascii():
        name = name.lower()
    else:
        tld = name.rsplit(".", 1)[-1]
        if tld.isascii() and tld.lower() not in top_level_domains() and tld.lower() != "onion":
            return None  # no need to encode a name whose TLD rules it out
        labels = [label.lower() if label.isascii() else _a_labels(label) for label in name.split(".")]
        if None in labels:
            return None
        name = ".".join(labels)
    return name if len(name) <= MAX_NAME else None


@lru_cache(maxsize=65536)
def _a_labels(label: str) -> str | None:
    """One written label, UTS-46 mapped (which refuses disallowed code points) and in punycode; the mapping may
    split it ('⒈' maps to '1.'), so this is one or more labels. None when it cannot be part of a host name.

    Mapping label by label equals mapping the whole name: the dot is valid and a starter, so neither the mapping nor
    NFC reaches across it. IDNA 2008's contextual and bidirectional rules are not re-checked: they decide whether a
    registry may register a name, not which string a report wrote, and they cost more than the rest of extraction."""
    try:
        mapped = idna.uts46_remap(label, std3_rules=False, transitional=False)
        return ".".join(
            part if part.isascii() else "xn--" + part.encode("punycode").decode("ascii") for part in mapped.split(".")
        )
    except (idna.IDNAError, UnicodeError, ValueError):
        return None


def host_domain(name: str) -> str | None:
    """`name` as a normalised domain when its labels and TLD are valid (no reading of context), else None."""
    name = name.rstrip(".")  # as `to_ascii` reads it
    return None if len(name) > MAX_NAME * 4 else _host_domain(name)  # too long for a name: never cached


@lru_cache(maxsize=65536)
def _host_domain(name: str) -> str | None:
    ascii_name = to_ascii(name)
    if ascii_name is None or "." not in ascii_name:
        return None
    tld = ascii_name.rsplit(".", 1)[1]
    if tld == "onion":
        labels = ascii_name.split(".")
        return ascii_name if len(labels) >= 2 and is_onion_v3(labels[-2]) else None
    if tld not in top_level_domains() or not _LABELS.fullmatch(ascii_name):
        return None
    return ascii_name


def _reads_as_code(written: str, labels: list[str]) -> bool:
    if labels[0] in _REVERSE_DNS_ROOTS and len(labels) >= 3 and labels[-1] not in _COMMON_ENDINGS:
        return True
    first, last = written.split(".", 1)[0], written.rsplit(".", 1)[-1]
    if written.isupper() or len(last) < 2:
        return False
    # 'Corp.In', 'System.Net', 'Dr.Web': a capitalised last label; 'System.IO': a capitalised name, then capitals
    return (last[0].isupper() and last[1:].islower()) or (
        first[:1].isupper() and first[1:].islower() and last.isupper()
    )


def is_file_name(labels: list[str]) -> bool:
    """A name whose last label is a file extension that is also a TLD, after a name or another extension."""
    return labels[-1] in FILE_EXTENSION_TLDS and (len(labels) == 2 or labels[-2] in INNER_EXTENSIONS)


def written_domain(written: str, defanged: bool) -> str | None:
    """A dotted word found in prose as a normalised domain, or None when it is not one or reads as something else.

    `defanged` says the writer defanged it (an indicator on purpose): then file-name and code readings are skipped.
    """
    return None if len(written.rstrip(".")) > MAX_NAME * 4 else _written_domain(written, defanged)


@lru_cache(maxsize=65536)
def _written_domain(written: str, defanged: bool) -> str | None:
    name = host_domain(written)
    if name is None:
        return None
    labels = name.split(".")
    if labels[-2] in INNER_EXTENSIONS and labels[-1] in FILE_EXTENSION_TLDS:  # 'invoice[.]pdf[.]zip'
        return None
    if defanged:
        return name
    if is_file_name(labels):
        return None
    return None if _reads_as_code(written.rstrip("."), labels) else name


def is_documentation_domain(name: str) -> bool:
    """Whether `name` is reserved for documentation or testing."""
    labels = name.split(".")
    return labels[-1] in DOCUMENTATION_TLDS or ".".join(labels[-2:]) in DOCUMENTATION_DOMAINS
