"""What validation finds in one object, before anyone decides how to report it."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

# Codes (stable, documented in docs/validation.md):
#   E301 schema violation          E302 object metadata (names, labels, annotations, namespace)
#   E303 duplicate list-map key    E304 CEL rule failed
#   E305 no schema for the kind    E306 unreadable document (YAML syntax, duplicate keys)
#   E307 not a Kubernetes object   W301 CEL rule rtc cannot evaluate
Path = tuple[str | int, ...]
_PLAIN_KEY = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$-]*$")
_SHOW_LIMIT = 80


@dataclass(frozen=True)
class Violation:
    code: str
    path: Path
    message: str
    warning: bool = False

    @property
    def location(self) -> str:
        return format_path(self.path)


def format_path(path: Path) -> str:
    """spec.containers[0].env[1].name; odd keys in brackets: metadata.labels["app.kubernetes.io/name"]."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _PLAIN_KEY.match(part):
            text += f".{part}" if text else part
        else:
            text += f"[{json.dumps(part)}]"
    return text or "(document root)"


def show(value: Any) -> str:
    """A value as the user wrote it (JSON), cut short when long."""
    try:
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError):
        text = repr(value)
    if len(text) > _SHOW_LIMIT:
        text = text[: _SHOW_LIMIT - 3] + "..."
    return text


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__
