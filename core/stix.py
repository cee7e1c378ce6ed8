"""STIX 2.1 pieces shared by every export: the pattern of each indicator type, CTAS's id namespace (the same
indicator always gets the same id), timestamps and bundles."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

PATTERN = {
    "ipv4": "[ipv4-addr:value = '{}']",
    "cidr": "[ipv4-addr:value = '{}']",
    "ipv6": "[ipv6-addr:value = '{}']",
    "domain": "[domain-name:value = '{}']",
    "url": "[url:value = '{}']",
    "email": "[email-addr:value = '{}']",
    "md5": "[file:hashes.MD5 = '{}']",
    "sha1": "[file:hashes.'SHA-1' = '{}']",
    "sha256": "[file:hashes.'SHA-256' = '{}']",
}
NAMESPACE = uuid.UUID("6f2c1f0e-4b8a-4c55-9d7e-2a4c3f1b9e01")


def timestamp(when: datetime | None = None) -> str:
    """A STIX timestamp (UTC, milliseconds) of `when`, or of now."""
    when = when or datetime.now(UTC)
    when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)  # naive times are UTC here
    return when.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def object_id(kind: str, key: str) -> str:
    """The STIX id of an object of type `kind` named by `key`: the same key always gets the same id."""
    return f"{kind}--{uuid.uuid5(NAMESPACE, key)}"


def indicator(kind: str, value: str, now: str, **extra: object) -> dict | None:
    """A STIX 2.1 indicator for a value of an indicator type (None for a type STIX patterns cannot express)."""
    template = PATTERN.get(kind)
    if template is None:
        return None
    literal = value.replace("\\", "\\\\").replace("'", "\\'")
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": object_id("indicator", f"{kind}:{value}"),
        "created": now,
        "modified": now,
        "name": f"{kind} {value}"[:200],
        "pattern": template.format(literal),
        "pattern_type": "stix",
        "valid_from": now,
        **extra,
    }


def bundle(objects: list[dict]) -> str:
    """A STIX 2.1 bundle of `objects` as indented JSON."""
    return json.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects}, indent=1,
                      ensure_ascii=False)  # fmt: skip
