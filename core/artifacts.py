"""Files CTAS itself writes beside the warehouse (registered models, behaviour profiles): joblib files with a sha256
recorded at write time and checked before every load. A file whose hash differs, or a name that points outside the
folder, is refused. Files a user uploads are never loaded this way."""

from __future__ import annotations

import hashlib
import re
import uuid
from pathlib import Path

import joblib

from core.errors import CtasError


class ArtifactError(CtasError, ValueError):
    """An artifact file could not be written or is not the one recorded; the message says why."""


def write(folder: Path, stem: str, obj: object) -> tuple[str, str]:
    """Save `obj` under a fresh name starting with `stem`; returns (file name, sha256). Nothing is left on failure."""
    file = f"{re.sub(r'[^A-Za-z0-9_.-]', '_', stem)}-{uuid.uuid4().hex[:8]}.joblib"
    staging = folder / f".{file}.part"
    try:
        joblib.dump(obj, staging, compress=3)
        staging.replace(folder / file)
    except OSError as exc:
        raise ArtifactError(f"The file could not be written: {exc}") from exc
    finally:
        staging.unlink(missing_ok=True)
    return file, sha256(folder / file)


def read(folder: Path, file: str, digest: str, what: str) -> object:
    """Load a file written by `write`, after checking it is inside `folder` and unchanged (sha256)."""
    folder = folder.resolve()
    path = (folder / file).resolve()
    if path.parent != folder:
        raise ArtifactError(f"{what} points outside {folder}; refused.")
    if not path.is_file():
        raise ArtifactError(f"The file of {what} is missing from {folder}.")
    if sha256(path) != digest:
        raise ArtifactError(f"The file of {what} has changed since it was saved; refused.")
    return joblib.load(path)


def sha256(path: Path) -> str:
    """Hex sha256 of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
