"""ATT&CK releases CTAS can load: the bundles found beside the checkout or shipped as samples, and uploads."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core import tasks
from core.intel.attack.bundle import AttackBundleError, read_bundle
from core.intel.attack.store import AttackStore
from core.intel.service import find_file

MAX_NAME = 80


@dataclass(frozen=True)
class KnownBundle:
    """A public ATT&CK bundle: its default release name and file."""

    name: str
    file_name: str


KNOWN_BUNDLES = (
    KnownBundle("enterprise v18.1", "enterprise-attack.json.gz"),
    KnownBundle("ics v18.1", "ics-attack.json.gz"),
)


def known_bundle_path(bundle: KnownBundle) -> Path | None:
    """The first copy of a known bundle in the feed folders, or None."""
    return find_file(bundle.file_name)


def release_name(name: str) -> str:
    """A release name as given, refused unless it is 1 to 80 printable characters."""
    name = name.strip()
    if not name or len(name) > MAX_NAME or not name.isprintable():
        raise AttackBundleError(f"A release name is 1 to {MAX_NAME} printable characters.")
    return name


def load_release(store: AttackStore, data: bytes, file_name: str, name: str | None = None) -> str:
    """Read a bundle's bytes and store it as release `name` (by default its domain and version or date)."""
    given = release_name(name) if name else None  # refused before the bundle is read
    release = read_bundle(data, file_name)
    tasks.check()  # a cancelled load writes nothing
    default = f"{release.domain.removesuffix('-attack')} {release.version or release.last_modified[:10] or 'release'}"
    chosen = given or release_name("".join(c for c in default if c.isprintable())[:MAX_NAME])
    store.save(release, chosen)
    return chosen


def load_known_release(store: AttackStore, bundle: KnownBundle) -> str:
    """Load a known bundle under its default name."""
    path = known_bundle_path(bundle)
    if path is None:
        raise AttackBundleError(f"No copy of {bundle.file_name} was found.")
    return load_release(store, path.read_bytes(), bundle.file_name, bundle.name)
