"""Enrolment: from each user's events to a profile per modality, and window-by-window scoring against a profile."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from core.behaviour import keystroke, mouse
from core.behaviour.apps import AppProfile
from core.behaviour.events import EventLog
from core.behaviour.models import MIN_ENROL_ROWS, Calibration, EnrolmentError, Verifier
from core.behaviour.windows import DEFAULT_WINDOWS, WindowSpec

MODALITIES = ("keystroke", "mouse", "app")
MAX_USERS = 200
USER_NAME = re.compile(r"^[\w.@-][\w .@-]{0,63}$")
LEARNERS = {"keystroke": "extra_trees", "mouse": "boosting"}
"""Two-class learner per modality, chosen on the dev data (bench/behaviour.py): boosting wins on mouse windows,
extremely randomised trees on the few, gappy keystroke rows."""


def common_bounds(log: EventLog) -> dict[str, int]:
    """start_us/end_us spanning every modality's events (empty when the log has none)."""
    stamps = [t for t in (log.keys.ts, log.mouse.ts, log.apps.ts) if len(t)]
    if not stamps:
        return {}
    return {"start_us": min(int(t[0]) for t in stamps) - 1, "end_us": max(int(t[-1]) for t in stamps)}


def modality_rows(log: EventLog, spec: WindowSpec = DEFAULT_WINDOWS, **bounds: int) -> dict[str, tuple]:
    """Per modality (keystroke, mouse): window end times and feature rows of the windows with enough input."""
    strokes = keystroke.keystrokes(log.keys)
    key_ends, key_rows = keystroke.window_features(strokes, spec, **bounds)
    keep = key_rows[:, 0] >= keystroke.MIN_WINDOW_KEYS
    mouse_ends, mouse_rows = mouse.verify_rows(log.mouse, spec, **bounds)
    moving = mouse.enough_movement(mouse_rows, spec)
    return {"keystroke": (key_ends[keep], key_rows[keep]), "mouse": (mouse_ends[moving], mouse_rows[moving])}


@dataclass
class UserProfile:
    """What CTAS knows of one user: a verifier per modality with enough enrolment data, and their app profile."""

    user: str
    spec: WindowSpec
    method: str
    verifiers: dict[str, Verifier]
    apps: AppProfile | None = None
    app_calibration: Calibration | None = None
    windows: dict[str, int] = field(default_factory=dict)
    reference: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict, repr=False)
    enrolled_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def modalities(self) -> tuple[str, ...]:
        return (*self.verifiers, *(("app",) if self.apps is not None else ()))

    def score(self, log: EventLog, **bounds: int) -> pd.DataFrame:
        """Calibrated scores (0–100) per window end (µs) and modality; NaN where a window lacks input.

        Without bounds, the windows of every modality run from the log's first event to its last, so that one row
        holds the modalities of one window and can be fused.
        """
        bounds = bounds or common_bounds(log)
        rows = modality_rows(log, self.spec, **bounds)
        frames = []
        for modality, verifier in self.verifiers.items():
            ends, features = rows[modality]
            if len(ends):
                frames.append(pd.Series(verifier.score(features), index=ends, name=modality))
        if self.apps is not None and self.app_calibration is not None and len(log.apps):
            ends, raw = self.apps.window_scores(log.apps, self.spec, **bounds)
            known = np.isfinite(raw)
            frames.append(pd.Series(self.app_calibration(raw[known]), index=ends[known], name="app"))
        table = pd.concat(frames, axis=1) if frames else pd.DataFrame()
        return table.reindex(columns=list(MODALITIES)).sort_index().rename_axis("window_end_us")

    def drift(self, log: EventLog, **bounds: int) -> pd.DataFrame:
        """Per feature: how far the recent windows' mean moved from enrolment, in enrolment standard deviations."""
        rows = modality_rows(log, self.spec, **bounds)
        names = {"keystroke": keystroke.KEYSTROKE_FEATURES, "mouse": mouse.VERIFY_FEATURES}
        out = []
        for modality, (mean, std) in self.reference.items():
            recent = rows[modality][1]
            if not len(recent):
                continue
            with np.errstate(invalid="ignore", divide="ignore"):
                shift = (_mean_and_std(recent)[0] - mean) / np.where(std > 0, std, np.nan)
            out.append(pd.DataFrame({"modality": modality, "feature": names[modality], "shift_sd": shift}))
        if not out:
            return pd.DataFrame(columns=["modality", "feature", "shift_sd"])
        return pd.concat(out, ignore_index=True).dropna()


def enrol(
    logs: dict[str, EventLog], *, spec: WindowSpec = DEFAULT_WINDOWS, method: str = "auto", random_state: int = 0
) -> dict[str, UserProfile]:
    """One profile per user from their enrolment events. `method` auto: two-class when another user is enrolled.

    A modality a user gave too little input for is left out of their profile (reported in `windows`); a user with no
    usable modality at all is refused with EnrolmentError.
    """
    if not logs:
        raise EnrolmentError("No users to enrol: the events name no `user`.")
    if len(logs) > MAX_USERS:
        raise EnrolmentError(f"At most {MAX_USERS} users enrol at once; the events name {len(logs):,}.")
    bad = [u for u in logs if not USER_NAME.match(u)]
    if bad:
        raise EnrolmentError(f"User names are 1–64 letters, digits, '.', '_', '-', '@' or spaces; not {bad[0][:80]!r}.")
    rows = {user: modality_rows(log, spec) for user, log in logs.items()}
    profiles = {}
    for user, log in logs.items():
        verifiers, windows, reference = {}, {}, {}
        for modality in ("keystroke", "mouse"):
            own = rows[user][modality][1]
            windows[modality] = len(own)
            others = [rows[o][modality][1] for o in logs if o != user]
            others = np.vstack(others) if others else np.empty((0, own.shape[1]))
            chosen = method if method != "auto" else ("two_class" if len(others) >= MIN_ENROL_ROWS else "one_class")
            try:
                verifiers[modality] = Verifier(chosen, LEARNERS[modality], random_state).fit(own, others)
            except EnrolmentError:
                continue
            reference[modality] = _mean_and_std(own)
        apps, calibration, app_windows = _app_profile(log, spec)
        windows["app"] = app_windows
        if not verifiers and apps is None:
            raise EnrolmentError(f"{user}: not enough keystroke, mouse or app activity to enrol")
        used = ", ".join(sorted({v.method for v in verifiers.values()})) or "app profile only"
        profiles[user] = UserProfile(user, spec, used, verifiers, apps, calibration, windows, reference)
    return profiles


def _mean_and_std(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature mean and standard deviation over the finite values (NaN for a feature never seen)."""
    finite = np.isfinite(rows)
    count = finite.sum(axis=0)
    values = np.where(finite, rows, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = values.sum(axis=0) / count
        std = np.sqrt(np.where(finite, (values - mean) ** 2, 0.0).sum(axis=0) / count)
    return mean, std


def _app_profile(log: EventLog, spec: WindowSpec) -> tuple[AppProfile | None, Calibration | None, int]:
    """The user's app profile calibrated on their own windows (in-sample), and how many windows had focus events;
    needs at least 5 such windows."""
    if len(log.apps) < MIN_ENROL_ROWS:
        return None, None, 0
    profile = AppProfile().fit(log.apps)
    _, raw = profile.window_scores(log.apps, spec)
    raw = raw[np.isfinite(raw)]
    if len(raw) < MIN_ENROL_ROWS:
        return None, None, len(raw)
    return profile, Calibration.genuine_tail(raw), len(raw)
