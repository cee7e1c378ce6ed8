"""A fixed key vocabulary: every key name a capture tool may send maps to one small integer code and one key class.

Letters fold to lower case (Shift is its own key event), so `KeyA`, `a` and `A` are one key. Codes are stable: a
feature slot that names a key or a pair of keys means the same key in every window, session and model.
"""

from __future__ import annotations

import string

import numpy as np

# Key classes (the per-class dwell and flight features use these).
LETTER, DIGIT, SPACE, BACKSPACE, MODIFIER, PUNCTUATION, NAVIGATION, OTHER = range(8)
CLASS_NAMES = ("letter", "digit", "space", "backspace", "modifier", "punctuation", "navigation", "other")

_SPECIAL = {
    "space": SPACE,
    "backspace": BACKSPACE,
    "delete": BACKSPACE,
    "shift": MODIFIER,
    "ctrl": MODIFIER,
    "alt": MODIFIER,
    "meta": MODIFIER,
    "capslock": MODIFIER,
    "enter": OTHER,
    "tab": OTHER,
    "escape": OTHER,
    "left": NAVIGATION,
    "right": NAVIGATION,
    "up": NAVIGATION,
    "down": NAVIGATION,
    "home": NAVIGATION,
    "end": NAVIGATION,
    "pageup": NAVIGATION,
    "pagedown": NAVIGATION,
    "insert": OTHER,
    "function": OTHER,
}
_PRINTABLE = string.ascii_lowercase + string.digits + "".join(c for c in string.punctuation)

KEY_NAMES: tuple[str, ...] = ("unknown", *_PRINTABLE, *_SPECIAL)
"""Code → canonical name; code 0 is any key the vocabulary does not know."""
UNKNOWN = 0
KEY_CODES: dict[str, int] = {name: code for code, name in enumerate(KEY_NAMES)}


def _class_of(name: str) -> int:
    if name in _SPECIAL:
        return _SPECIAL[name]
    if name in string.ascii_lowercase:
        return LETTER
    if name in string.digits:
        return DIGIT
    if name in string.punctuation:
        return PUNCTUATION
    return OTHER


KEY_CLASS = np.array([_class_of(name) for name in KEY_NAMES], dtype=np.int8)
"""Code → key class."""

_ALIASES = {
    " ": "space",
    "spacebar": "space",
    "bksp": "backspace",
    "back_space": "backspace",
    "del": "delete",
    "shiftleft": "shift",
    "shiftright": "shift",
    "shift_l": "shift",
    "shift_r": "shift",
    "control": "ctrl",
    "controlleft": "ctrl",
    "controlright": "ctrl",
    "control_l": "ctrl",
    "control_r": "ctrl",
    "altleft": "alt",
    "altright": "alt",
    "alt_l": "alt",
    "alt_r": "alt",
    "altgr": "alt",
    "iso_level3_shift": "alt",
    "metaleft": "meta",
    "metaright": "meta",
    "super_l": "meta",
    "super_r": "meta",
    "win": "meta",
    "os": "meta",
    "caps_lock": "capslock",
    "return": "enter",
    "kp_enter": "enter",
    "numpadenter": "enter",
    "esc": "escape",
    "arw_left": "left",
    "arw_right": "right",
    "arw_up": "up",
    "arw_down": "down",
    "arrowleft": "left",
    "arrowright": "right",
    "arrowup": "up",
    "arrowdown": "down",
    "prior": "pageup",
    "next": "pagedown",
    "page_up": "pageup",
    "page_down": "pagedown",
    "minus": "-",
    "equal": "=",
    "period": ".",
    "comma": ",",
    "slash": "/",
    "backslash": "\\",
    "semicolon": ";",
    "quote": "'",
    "apostrophe": "'",
    "backquote": "`",
    "grave": "`",
    "bracketleft": "[",
    "bracketright": "]",
}

# JavaScript keyCode values (the Aalto study logged them) for the keys whose character was not recorded.
_JS_KEYCODES = {8: "backspace", 9: "tab", 13: "enter", 16: "shift", 17: "ctrl", 18: "alt", 20: "capslock", 27: "escape",
                32: "space", 37: "left", 38: "up", 39: "right", 40: "down", 46: "delete", 186: ";", 187: "=", 188: ",",
                189: "-", 190: ".", 191: "/", 192: "`", 219: "[", 220: "\\", 221: "]", 222: "'"}  # fmt: skip


def key_code(name: str) -> int:
    """The vocabulary code of a key name from any common capture tool (browser `KeyA`, X11 `Shift_L`, `BKSP`, `a`)."""
    if len(name) == 1:
        lowered = name.lower()
        return KEY_CODES.get(_ALIASES.get(lowered, lowered), UNKNOWN)
    lowered = name.strip().lower()
    if not lowered:
        return KEY_CODES["space"] if name else UNKNOWN
    if lowered.startswith("key") and len(lowered) == 4:
        lowered = lowered[3]
    elif lowered.startswith(("digit", "numpad")) and lowered[-1].isdigit() and len(lowered) in (6, 7):
        lowered = lowered[-1]
    elif lowered[0] == "f" and lowered[1:].isdigit():
        lowered = "function"
    return KEY_CODES.get(_ALIASES.get(lowered, lowered), UNKNOWN)


def js_key_name(keycode: int) -> str:
    """A key name for a JavaScript keyCode, for logs that recorded the code but not the character."""
    if 65 <= keycode <= 90 or 48 <= keycode <= 57:
        return chr(keycode).lower()
    return _JS_KEYCODES.get(keycode, "unknown")
