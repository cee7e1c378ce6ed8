"""Signed artifacts: a file loads only if its tag verifies under this installation's key, kept outside the warehouse."""

from __future__ import annotations

import hashlib
import hmac
import stat
from pathlib import Path

import joblib
import pytest

from core import artifacts


@pytest.fixture
def own_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "keys" / "artifact.key"
    monkeypatch.setenv(artifacts.KEY_ENV, str(path))
    return path


def test_the_key_is_made_once_readable_by_its_owner_only(own_key: Path, tmp_path: Path) -> None:
    file, tag = artifacts.write(tmp_path, "model", {"weights": [1, 2]})
    assert stat.S_IMODE(own_key.stat().st_mode) == 0o600 and len(own_key.read_bytes()) == artifacts.KEY_BYTES
    assert tag.startswith(artifacts.TAG_PREFIX)
    assert artifacts.read(tmp_path, file, tag, "model") == {"weights": [1, 2]}


class Payload:
    """Stands for a pickle that runs code when loaded."""

    loaded = False

    def __reduce__(self):
        return (Payload._mark, ())

    @staticmethod
    def _mark() -> None:
        Payload.loaded = True


def test_a_file_planted_by_someone_who_can_write_the_warehouse_is_never_loaded(own_key: Path, tmp_path: Path) -> None:
    artifacts.write(tmp_path, "genuine", 1)  # the key exists
    planted = tmp_path / "planted.joblib"
    joblib.dump(Payload(), planted)
    plain = hashlib.sha256(planted.read_bytes()).hexdigest()
    forged = artifacts.TAG_PREFIX + hmac.new(b"x" * 32, planted.read_bytes(), hashlib.sha256).hexdigest()
    with pytest.raises(artifacts.ArtifactError, match="saved before files were signed"):
        artifacts.read(tmp_path, planted.name, plain, "model 'm' v1")
    with pytest.raises(artifacts.ArtifactError, match="not signed by this installation's key"):
        artifacts.read(tmp_path, planted.name, forged, "model 'm' v1")
    with pytest.raises(artifacts.ArtifactError, match="points outside"):
        artifacts.read(tmp_path / "sub", "../planted.joblib", forged, "model 'm' v1")
    assert not Payload.loaded


def test_a_key_others_may_read_is_refused(own_key: Path, tmp_path: Path) -> None:
    file, tag = artifacts.write(tmp_path, "model", 1)
    own_key.chmod(0o644)
    with pytest.raises(artifacts.ArtifactError, match="may be read by other users"):
        artifacts.read(tmp_path, file, tag, "model")
