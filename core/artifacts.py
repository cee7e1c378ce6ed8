"""Files CTAS itself writes beside the warehouse (registered models, behaviour profiles): joblib files signed with
HMAC-SHA256 under a key kept outside the warehouse, checked before every load.

Loading a joblib file runs code, so a file is loaded only if its tag verifies under this installation's key: the
key file ($CTAS_KEY_FILE, default ~/.config/ctas/artifact.key) is created on first use with mode 0600 and never
stored in the warehouse, so whoever can write the warehouse (or the models folder) but not read the key cannot make
CTAS load a file of their choosing. A name that points outside the folder is refused too. Files a user uploads are
never loaded this way.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import stat
import uuid
from pathlib import Path

import joblib

from core.errors import CtasError

KEY_ENV = "CTAS_KEY_FILE"
DEFAULT_KEY_FILE = Path("~/.config/ctas/artifact.key")
TAG_PREFIX = "hmac-sha256:"
KEY_BYTES = 32


class ArtifactError(CtasError, ValueError):
    """An artifact file could not be written or is not the one recorded; the message says why."""


def key_file() -> Path:
    """Where this installation's signing key lives."""
    return Path(os.environ.get(KEY_ENV) or DEFAULT_KEY_FILE).expanduser()


def _key() -> bytes:
    """The signing key, created (mode 0600) on first use; refused if others may read it."""
    path = key_file()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it meanwhile
            pass
        else:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(secrets.token_bytes(KEY_BYTES))
    try:
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ArtifactError(f"The signing key {path} may be read by other users: run `chmod 600 {path}`.")
        key = path.read_bytes()
    except OSError as exc:
        raise ArtifactError(f"The signing key {path} cannot be read: {exc.strerror}.") from None
    if len(key) < KEY_BYTES:
        raise ArtifactError(f"The signing key {path} is shorter than {KEY_BYTES} bytes.")
    return key


def tag(path: Path) -> str:
    """The file's HMAC-SHA256 under this installation's key."""
    mac = hmac.new(_key(), digestmod=hashlib.sha256)
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            mac.update(block)
    return TAG_PREFIX + mac.hexdigest()


def write(folder: Path, stem: str, obj: object) -> tuple[str, str]:
    """Save `obj` under a fresh name starting with `stem`; returns (file name, tag). Nothing is left on failure."""
    file = f"{re.sub(r'[^A-Za-z0-9_.-]', '_', stem)}-{uuid.uuid4().hex[:8]}.joblib"
    staging = folder / f".{file}.part"
    try:
        joblib.dump(obj, staging, compress=3)
        signed = tag(staging)
        staging.replace(folder / file)
    except OSError as exc:
        raise ArtifactError(f"The file could not be written: {exc}") from exc
    finally:
        staging.unlink(missing_ok=True)
    return file, signed


def read(folder: Path, file: str, recorded: str, what: str) -> object:
    """Load a file written by `write`, after checking it is inside `folder` and its tag verifies."""
    folder = folder.resolve()
    path = (folder / file).resolve()
    if path.parent != folder:
        raise ArtifactError(f"{what} points outside {folder}; refused.")
    if not path.is_file():
        raise ArtifactError(f"The file of {what} is missing from {folder}.")
    if not recorded.startswith(TAG_PREFIX):
        raise ArtifactError(f"{what} was saved before files were signed; save it again (train or enrol anew).")
    if not hmac.compare_digest(tag(path), recorded):
        raise ArtifactError(f"The file of {what} is not signed by this installation's key; refused.")
    return joblib.load(path)
