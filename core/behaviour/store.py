"""Behaviour profiles in the warehouse: each enrolment is a new version (explicit re-enrolment, never silent drift);
the newest version of a user's profile is the one that scores them."""

from __future__ import annotations

import json

from core import artifacts
from core.behaviour.profiles import UserProfile
from core.warehouse import Warehouse


class ProfileStoreError(ValueError):
    """A profile could not be saved or loaded; the message says why."""


def save(warehouse: Warehouse, profile: UserProfile) -> int:
    """Store `profile` as the user's next version; returns the version."""
    folder = warehouse.models_folder

    def write_file(version: int) -> tuple[str, str]:
        return artifacts.write(folder, f"behaviour-{profile.user}-v{version}", profile)

    entry = {
        "user": profile.user,
        "enrolled_at": profile.enrolled_at.replace(tzinfo=None),
        "method": profile.method,
        "modalities": list(profile.modalities),
        "windows": json.dumps(profile.windows),
    }
    try:
        return warehouse.save_behaviour_profile(entry, write_file)
    except artifacts.ArtifactError as exc:
        raise ProfileStoreError(f"The profile of {profile.user!r} could not be saved: {exc}") from exc


def save_all(warehouse: Warehouse, profiles: dict[str, UserProfile]) -> dict[str, int]:
    """Store several profiles in one transaction (all or none; files of a failed batch are removed)."""
    before = set(warehouse.models_folder.iterdir())
    try:
        with warehouse.transaction():
            return {user: save(warehouse, profile) for user, profile in profiles.items()}
    except BaseException:
        for path in set(warehouse.models_folder.iterdir()) - before:
            path.unlink(missing_ok=True)
        raise


def load_all(warehouse: Warehouse) -> dict[str, UserProfile]:
    """The active profile of every enrolled user."""
    profiles = {}
    for row in warehouse.behaviour_profiles().itertuples(index=False):
        what = f"the behaviour profile of {row.user!r} v{row.version}"
        try:
            profile = artifacts.read(warehouse.models_folder, row.file, row.sha256, what)
        except artifacts.ArtifactError as exc:
            raise ProfileStoreError(str(exc)) from exc
        if not isinstance(profile, UserProfile):
            raise ProfileStoreError(f"The file of {what} does not hold a behaviour profile.")
        profiles[row.user] = profile
    return profiles
