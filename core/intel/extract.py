"""Indicators of compromise from text: IPs, domains, URLs, e-mails, hashes, CVE ids and ATT&CK technique ids.

The text is refanged once (`refang`), then each indicator type is found by one scan. A scan starts at a literal or
a character class (so the engine skips ahead to candidates), every repetition is possessive or bounded, and a run of
text around a candidate is read once (a guard refuses to start inside a run another match read): the work is linear
in the text. Candidates are then checked in Python with rules of bounded cost (`names`, `benign`).
"""

from __future__ import annotations

import bisect
import contextlib
import gc
import ipaddress
import re
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from core.intel import benign
from core.intel.names import FILE_EXTENSIONS, host_domain, written_domain
from core.intel.refang import Refanged, refang
from core.intel.values import HASH_TYPES, ipv4

TYPES = ("ipv4", "ipv6", "domain", "url", "email", "md5", "sha1", "sha256", "cve", "attack_technique")
MAX_OFFSETS = 50  # where an indicator occurs: the first this many places
MAX_INNER_URLS = 4
_IPV4_MAPPED = bytes(10) + b"\xff\xff"

_URL_BODY = re.compile(r"[^\s\"'<>`{}|\\^\u2018-\u201d\u2026\u2190-\u21ff]*+")
_URL_CONTINUATION = re.compile(r"[ \t\xa0]*+\r?\n(?=[\w%~.-])([^\s\"'<>`{}|\\^\u2018-\u201d\u2026\u2190-\u21ff]++)")
_STARTS_WITH_SCHEME = re.compile(r"[a-z][a-z0-9+.-]{0,15}:", re.I)
_PATH_SEPARATOR = re.compile(r"[/?=]")
_SCHEME = re.compile(r"(h[tx][tx]ps?|f[tx]p)\Z", re.I)
_DOT_ANCHOR = re.compile(r"\.[\w-]")
_RUN = re.compile(r"[\w.-]*+")
_DOTTED = re.compile(r"[\w-]++(?:\.[\w-]++)++")
_DOTTED_NUMBER = re.compile(r"[0-9](?<![\w.][0-9])[0-9]*+(?:\.[0-9]++)++")
_VERSION_WORD = re.compile(r"\b(?:version|ver\.|release|build|firmware|v)\s{0,3}:?\s{0,3}$", re.I)
_VERSION_WORD_ENDS = frozenset("nN.eEdDvV")  # the last characters of the words above
_IPV6_ANCHOR = re.compile(r":[0-9a-fA-F:]")
_IPV6_RUN = re.compile(r"[0-9a-fA-F:.]*+")
_ZONE = re.compile(r"%[\w-]{1,32}+")
_LOCAL_PART = re.compile(r"[\w.+%-]*+")
_EMAIL_DOMAIN = re.compile(r"[\w-]++(?:\.[\w-]++)++")
_EMAIL_AT = re.compile(r"@(?=[\w-]++\.[\w-])")  # an '@' where `_EMAIL_DOMAIN` matches: '@' runs are skipped in C
_HASH = re.compile(r"[0-9a-fA-F](?<![0-9a-zA-Z][0-9a-fA-F])[0-9a-fA-F]{31,63}+(?![0-9a-zA-Z])")
_CVE = re.compile(r"[Cc](?<![\w-][Cc])[Vv][Ee][-\u2010-\u2015]([0-9]{4})[-\u2010-\u2015]([0-9]{4,12}+)(?![0-9])")
# ATT&CK technique ids are T1xxx (Enterprise, Mobile) and T08xx on (ICS): TA0011 mistyped as T0011 is none
_TECHNIQUE = re.compile(r"T(?<![\w.]T)(?:1[0-9]{3}|0[89][0-9]{2})(?:\.[0-9]{3})?(?![\w]|\.[0-9])")
_LOCAL_PART_TAIL = re.compile(r"[\w.+%-]{0,64}@")
_CJK = "\u3000-\u9fff\uac00-\ud7af\uf900-\ufaff"
_CJK_PREFIX = re.compile(f"[{_CJK}]+")
_CJK_CHAR = re.compile(f"[{_CJK}]")
_TRAILING = ".,;:!?'\"*\u00b7\u2022"  # sentence punctuation, emphasis, a table's middle dot or bullet


@dataclass
class Indicator:
    """One indicator: its type, normalised value, why it is benign (None when not) and where it occurs."""

    type: str
    value: str
    benign: str | None = None
    offsets: list[tuple[int, int]] = field(default_factory=list)


class _Found:
    """Indicators by type and value, with the places they occur in the refanged text. Benign reasons and offsets
    into the original text are worked out once per indicator, in `indicators`."""

    def __init__(self, source: Refanged) -> None:
        self.source = source
        self.spans: dict[str, dict[str, list[int]]] = {kind: {} for kind in TYPES}
        self.reasons: dict[str, dict[str, Callable[[], str | None]]] = {kind: {} for kind in TYPES}

    def add(self, kind: str, value: str, start: int, end: int, reason: Callable[[], str | None] | None = None) -> None:
        """Record an occurrence; `reason` says why the indicator is benign (asked once, in `indicators`)."""
        of_kind = self.spans[kind]
        spans = of_kind.get(value)
        if spans is None:
            of_kind[value] = [start, end]
            if reason is not None:
                self.reasons[kind][value] = reason
        elif len(spans) < 2 * MAX_OFFSETS and not (start in spans and _has_place(spans, start, end)):
            spans += (start, end)  # a place read twice (a URL's host, then as a name or an e-mail's domain) once

    def indicators(self) -> list[Indicator]:
        """Every indicator found, sorted by type and value, with its benign reason and original offsets."""
        found = []
        edited = self.source.edited
        for kind, of_kind in self.spans.items():
            reason_of, asked = _BENIGN_REASON.get(kind, _never_benign), self.reasons[kind]
            for value in sorted(of_kind):
                spans = of_kind[value]
                why = asked[value]() if value in asked else reason_of(value)
                if edited:
                    offsets = self.source.original_spans(spans)
                elif len(spans) == 2:  # the common case: once, in text refanging left alone
                    offsets = [(spans[0], spans[1])]
                else:
                    offsets = list(zip(spans[::2], spans[1::2], strict=True))
                found.append(Indicator(kind, value, why, offsets))
        return found


def _has_place(spans: list[int], start: int, end: int) -> bool:
    """Whether the flat list of spans (start, end, start, end, ...) holds (start, end)."""
    return any(spans[i] == start and spans[i + 1] == end for i in range(0, len(spans), 2))


def _never_benign(_value: str) -> None:
    return None


_BENIGN_REASON: dict[str, Callable[[str], str | None]] = {
    "ipv4": benign.ipv4_reason,
    "ipv6": benign.ipv6_reason,
    "domain": benign.domain_reason,
}


def ipv6(token: str) -> str | None:
    """An IPv6 address in RFC 5952 form (zone id dropped), or None."""
    packed = ipv6_packed(token)
    return None if packed is None else rfc5952(packed)


def rfc5952(packed: bytes) -> str:
    """The RFC 5952 text of an address: compressed, lower-case, an IPv4-mapped one in mixed notation."""
    if packed.startswith(_IPV4_MAPPED):
        return "::ffff:" + socket.inet_ntop(socket.AF_INET, packed[12:])
    text = socket.inet_ntop(socket.AF_INET6, packed)
    # the C library writes some other addresses with a dotted tail too ('::1.2.3.4', '::0.0.0.2'): not RFC 5952's
    return ipaddress.IPv6Address(packed).compressed if "." in text else text


def ipv6_packed(token: str) -> bytes | None:
    """The IPv6 address a token spells, as 16 bytes (its zone id and trailing sentence punctuation left out), or
    None. Parsed by the C library: the same addresses as `ipaddress`, at a tenth of the cost."""
    token = token.split("%", 1)[0]
    if not token.endswith("::"):
        token = token.rstrip(".:")
    groups = token.split(":")
    if len(groups) < 3 or not token.strip(":.") or not token.isascii():
        return None
    if len(groups) == 8 and all(len(g) == 2 for g in groups):
        return None  # an EUI-64 hardware address, not an IPv6 address
    try:
        return socket.inet_pton(socket.AF_INET6, token)
    except (OSError, ValueError):
        return None


def _before_cjk_labels(text: str, start: int, end: int) -> int:
    """Where the dotted name text[start:end] ends once the labels at its end that begin with a CJK character are
    left out. One scan back over the labels (a regular expression searched forward rescanned them from every dot)."""
    while (dot := text.rfind(".", start, end)) != -1 and dot + 1 < end and _CJK_CHAR.match(text, dot + 1):
        end = dot
    return end


def _continues_path(token: str) -> bool:
    """Whether the first token of the next line continues a URL cut after its '/' (a wrapped table cell:
    'd/8812/stage2.bin', 'payload.exe'): a path, a query or a file name, not the next URL ('https://…'), a host and
    its path ('evil.com/gate.php') nor a word of prose ('The', '6.Type')."""
    token = token.rstrip(_TRAILING)
    if _STARTS_WITH_SCHEME.match(token):
        return False
    if any(c in token for c in "/?="):
        first = _PATH_SEPARATOR.split(token, 1)[0]
        return _is_file_name(first) or not (_DOTTED.fullmatch(first) and host_domain(first))
    return _is_file_name(token)


def _is_file_name(token: str) -> bool:
    return bool(_DOTTED.fullmatch(token)) and token.rpartition(".")[2].lower() in FILE_EXTENSIONS


def _trim_url(body: str) -> str:
    """Cut a URL body at an unbalanced closing bracket and drop trailing punctuation."""
    if ")" not in body and "]" not in body:
        return body.rstrip(_TRAILING)
    depth = {")": 0, "]": 0}
    opener = {"(": ")", "[": "]"}
    for i, char in enumerate(body):
        if char in opener:
            depth[opener[char]] += 1
        elif char in depth:
            if depth[char] == 0:
                body = body[:i]
                break
            depth[char] -= 1
    return body.rstrip(_TRAILING)


def _split_authority(body: str) -> tuple[str, str, str]:
    """(user-info with its '@', host with its port, the rest) of a URL body."""
    end = len(body)
    for sep in "/?#":
        at = body.find(sep)
        if at != -1:
            end = min(end, at)
    authority, rest = body[:end], body[end:]
    at = authority.rfind("@")
    return authority[: at + 1], authority[at + 1 :], rest


def _url_host(hostport: str) -> tuple[str, str, str] | None:
    """(type, normalised host, port text) of a URL's host and port, or None when the host is not an indicator."""
    if hostport.startswith("["):
        inner, bracket, port = hostport[1:].partition("]")
        address = ipv6(inner) if bracket and (not port or (port[0] == ":" and port[1:].isdigit())) else None
        return ("ipv6", address, port) if address else None
    host, colon, port = hostport.partition(":")
    if colon and not port.isdigit():
        return None
    if address := ipv4(host):
        return "ipv4", address, colon + port
    name = host_domain(host)
    return ("domain", name, colon + port) if name else None


class _Extraction:
    def __init__(self, text: str) -> None:
        self.source = refang(text)
        self.text = self.source.text
        self.reversed = self.text[::-1]
        self.found = _Found(self.source)
        self.url_spans: list[tuple[int, int]] = []
        self.url_hosts: dict[tuple[int, int], str] = {}  # the type of each URL's host, by its span
        self.ascii = self.text.isascii()

    def run(self) -> list[Indicator]:
        if "://" in self.text:
            self.urls()
        self.dotted_runs()
        if ":" in self.text:
            self.ipv6s()
        if "@" in self.text:
            self.emails()
        self.hashes()
        self.cves()
        self.techniques()
        return self.found.indicators()

    def _run_start(self, run: re.Pattern[str], end: int) -> int:
        """Where the run of `run`'s characters that ends at `end` starts (one scan of the reversed text)."""
        before = run.match(self.reversed, len(self.text) - end)
        return end - (before.end() - before.start())

    def _runs(self, anchor: re.Pattern[str], run: re.Pattern[str]) -> Iterator[tuple[re.Match[str], int, int]]:
        """(anchor match, start, end) of each run of `run`'s characters around a match of `anchor`, each run once:
        its start found by one scan of the reversed text, its end by one scan forward, and the next anchor searched
        for after it. Anchor first: the engine skips ahead to the next '.' or ':' in C, so prose costs little."""
        text = self.text
        match = anchor.search(text)
        while match is not None:
            done = run.match(text, match.start()).end()
            yield match, self._run_start(run, match.start()), done
            match = anchor.search(text, done)

    def urls(self) -> None:
        """Every http, https or ftp URL; inside one, the first `MAX_INNER_URLS` URLs it carries (a redirect's
        target) are read too, so the work stays linear."""
        text, done, inner = self.text, 0, 0
        at = text.find("://")
        while at != -1:
            scheme_match = _SCHEME.search(text, max(0, at - 5), at)
            start = scheme_match.start() if scheme_match else at
            if scheme_match and not (start and text[start - 1].isascii() and text[start - 1].isalnum()):
                if at >= done:
                    done, inner = self._url(scheme_match.group(1), start, at + 3), 0
                elif inner < MAX_INNER_URLS:
                    inner += 1
                    self._url(scheme_match.group(1), start, at + 3)
            at = text.find("://", at + 3)

    def _url(self, written_scheme: str, start: int, body_start: int) -> int:
        """Record the URL whose body starts at `body_start`; return where it ends (after trimming, so a URL right
        behind it, as in a markdown link's target, is read too)."""
        text = self.text
        scheme = written_scheme.lower().replace("x", "t")
        scheme = "ftp" if scheme.startswith("f") else scheme
        end = _URL_BODY.match(text, body_start).end()
        body = text[body_start:end]
        continued = False
        if body.endswith("/") and (more := _URL_CONTINUATION.match(text, end)) and _continues_path(more.group(1)):
            body, end, continued = body + more.group(1), more.end(), True
        trimmed = _trim_url(body)
        span_end = end - (len(body) - len(trimmed)) if continued else body_start + len(trimmed)
        userinfo, hostport, rest = _split_authority(trimmed)
        host = _url_host(hostport)
        if host is None:
            return max(span_end, body_start)
        kind, value, port = host
        shown = f"[{value}]" if kind == "ipv6" else value
        host_start = body_start + len(userinfo) + (1 if kind == "ipv6" else 0)
        written_host = hostport[: len(hostport) - len(port)]
        host_end = host_start + len(written_host.rstrip(".") if kind == "domain" else written_host)
        host_end -= 2 if kind == "ipv6" else 0  # its brackets
        self.found.add(kind, value, host_start, host_end)
        self.url_hosts[(host_start, host_end)] = kind
        self.found.add("url", f"{scheme}://{userinfo}{shown}{port}{rest}", start, span_end)
        self.url_spans.append((start, span_end))
        return span_end

    def _defanged(self, start: int, end: int) -> bool:
        return self.source.original(end - 1) - self.source.original(start) != end - 1 - start

    def dotted_runs(self) -> None:
        """Domains and IPv4 addresses: each run of word characters, dots and hyphens holding a dot, read once."""
        text = self.text
        for anchor, run_start, done in self._runs(_DOT_ANCHOR, _RUN):
            start = run_start
            while text[start] == ".":  # '.onmicrosoft.com'
                start += 1
            token = text[start:done].rstrip(".")
            if token.replace(".", "").isdigit():  # the common case, a run that is one dotted number
                self._ipv4(token, start, start + len(token))
            elif text[anchor.end() - 1].isdigit() or text[start].isdigit():  # the anchor is '.' and one character
                self._ipv4s(start, done)
            if (start == 0 or text[start - 1] not in "@%") and not text[done - 1].isdigit():
                self._domain(start, done)

    def _domain(self, start: int, end: int) -> None:
        text = self.text
        if self.url_hosts.get((start, end)) == "domain" and (self.ascii or not _CJK_CHAR.search(text, start, end)):
            return  # read already, as a URL's host (a run with CJK characters reads differently here: '中国evil.com')
        if (
            start
            and text[start - 1] in "/\\"
            and not text.startswith(("//", "\\\\"), start - 2)
            and text[start : start + 4].lower() != "www."
        ):
            return  # a path segment ('/dl/loader.sh'), not a host (unless it reads as one: '/www.example.com')
        match = _DOTTED.match(text, start, end)
        if match is None:
            return
        start, end = match.span()
        if not self.ascii and not text[start:end].isascii():
            if cjk := _CJK_PREFIX.match(text, start, end):  # '恶意域名evil.com': the name starts after the Han text
                start = cjk.end()
            end = _before_cjk_labels(text, start, end)  # 'evil.com。访问': and ends before the sentence's stop
        if _LOCAL_PART_TAIL.match(text, end) and not text.startswith("\\\\", start - 2):  # 'first.name+x@…'
            return  # an e-mail's local part (a UNC host before '@SSL' or '@80' stays a host)
        written = text[start:end]
        defanged = self._defanged(start, end)
        if not written[-1:].isalpha() or (text.startswith("(", end) and not defanged):
            return  # 'AES.new(key)': a call in code
        name = written_domain(written, defanged)
        if name is not None:
            self.found.add("domain", name, start, end)

    def _ipv4s(self, start: int, end: int) -> None:
        text = self.text
        for match in _DOTTED_NUMBER.finditer(text, start, end):
            number_end = match.end()
            if number_end < len(text) and (text[number_end].isalnum() or text[number_end] == "_"):
                continue
            self._ipv4(match.group(), match.start(), number_end)

    def _ipv4(self, token: str, start: int, end: int) -> None:
        if self.url_hosts.get((start, end)) == "ipv4":
            return  # read already, as a URL's host
        address = ipv4(token)
        if address is not None and not (start and self._after_version_word(start)):
            self.found.add("ipv4", address, start, end)

    def _after_version_word(self, start: int) -> bool:
        """Whether the text before `start` ends with 'version', 'v', 'build:' and the like (a version number, not an
        address). The last letter before any spaces and colon is looked at first: most addresses stop there."""
        before = self.text[max(0, start - 12) : start].rstrip()
        if before.endswith(":"):
            before = before[:-1].rstrip()
        return (
            before[-1:] in _VERSION_WORD_ENDS and _VERSION_WORD.search(self.text, max(0, start - 12), start) is not None
        )

    def ipv6s(self) -> None:
        text = self.text
        for _, start, done in self._runs(_IPV6_ANCHOR, _IPV6_RUN):
            end = zone.end() if (zone := _ZONE.match(text, done)) else done
            if start and (text[start - 1].isalnum() or text[start - 1] == "_"):
                continue
            if end < len(text) and (text[end].isalnum() or text[end] == "_"):
                continue
            packed = ipv6_packed(text[start:end])
            if packed is not None:
                while text[end - 1] in ".:" and not text.startswith("::", end - 2):
                    end -= 1  # sentence punctuation after the address
                self.found.add("ipv6", rfc5952(packed), start, end, lambda p=packed: benign.ipv6_reason(p))

    def _in_url(self, start: int) -> bool:
        i = bisect.bisect_left(self.url_spans, (start, start)) - 1
        return i >= 0 and self.url_spans[i][0] < start < self.url_spans[i][1]

    def emails(self) -> None:
        for at in _EMAIL_AT.finditer(self.text):
            self._email(at.start())

    def _email(self, at: int) -> None:
        text = self.text
        start = self._run_start(_LOCAL_PART, at)
        domain_match = _EMAIL_DOMAIN.match(text, at + 1)
        if domain_match is None or (start and text[start - 1] == "@"):
            return
        local = text[start:at].strip(".")
        if self._in_url(at):  # 'ftp://user:pass@host/', '?to=bob@example.org': not an e-mail, the host is a domain
            if domain := host_domain(domain_match.group()):
                self.found.add("domain", domain, at + 1, domain_match.end())
            return
        if not local:  # '****@example.org', 'name @example.org': the host is still a domain
            domain = written_domain(domain_match.group(), self._defanged(*domain_match.span()))
            if domain is not None:
                self.found.add("domain", domain, at + 1, domain_match.end())
            return
        domain = host_domain(domain_match.group())
        if domain is None:
            return
        local_start = start + text[start:at].index(local)
        self.found.add("email", f"{local.lower()}@{domain}", local_start, domain_match.end())
        self.found.add("domain", domain, at + 1, domain_match.end())

    def hashes(self) -> None:
        for match in _HASH.finditer(self.text):
            token = match.group()
            kind = HASH_TYPES.get(len(token))
            if kind is not None and len(set(token)) > 2:
                self.found.add(kind, token.lower(), *match.span())

    def cves(self) -> None:
        for match in _CVE.finditer(self.text):
            self.found.add("cve", f"CVE-{match.group(1)}-{match.group(2)}", *match.span())

    def techniques(self) -> None:
        for match in _TECHNIQUE.finditer(self.text):
            self.found.add("attack_technique", match.group(), *match.span())


def extract(text: str) -> list[Indicator]:
    """Every indicator in `text`, refanged, normalised, typed and flagged benign where it is, sorted by type."""
    with _collector_paused():
        return _Extraction(text).run()


_pause_lock = threading.Lock()
_pauses = [0, False]  # extractions running, and whether the cycle collector was on when the first began


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector while extracting. An extraction makes tens of thousands of small objects and
    no reference cycles (reference counting frees them all); left on, the collector rescans the process's objects
    every few hundred allocations, which doubled the time of an indicator-dense document."""
    with _pause_lock:
        if _pauses[0] == 0:
            _pauses[1] = gc.isenabled()
            gc.disable()
        _pauses[0] += 1
    try:
        yield
    finally:
        with _pause_lock:
            _pauses[0] -= 1
            if _pauses[0] == 0 and _pauses[1]:
                gc.enable()


def by_type(indicators: list[Indicator]) -> dict[str, list[str]]:
    """Values by type, every type present (empty lists included)."""
    grouped: dict[str, list[str]] = {kind: [] for kind in TYPES}
    for item in indicators:
        grouped[item.type].append(item.value)
    return grouped
