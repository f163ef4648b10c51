"""Differences between two JSON-like values as a set of JSON paths."""

from __future__ import annotations

import re
from typing import Any

_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    if _PLAIN_KEY.match(key):
        return f"{path}.{key}" if path else key
    return f'{path}["{key}"]'


def _keyed_by_name(value: Any) -> dict[str, Any] | None:
    """A list of objects with unique names (env, containers, ports, volumes) as a
    map: Kubernetes merges these lists by name, so their order carries no meaning."""
    if not isinstance(value, list) or not value:
        return None
    if not all(isinstance(item, dict) and isinstance(item.get("name"), str) for item in value):
        return None
    names = [item["name"] for item in value]
    if len(set(names)) != len(names):
        return None
    return {name: item for name, item in zip(names, value, strict=True)}


def differences(expected: Any, actual: Any, path: str = "") -> dict[str, tuple[Any, Any]]:
    """Leaf paths where `actual` differs from `expected`: (expected, actual).

    A key missing on one side is reported with the sentinel `<absent>`. Lists of
    named objects are compared by name (`env[name=HOME]`), other lists element by
    element up to the longer one.
    """
    found: dict[str, tuple[Any, Any]] = {}
    by_name_expected, by_name_actual = _keyed_by_name(expected), _keyed_by_name(actual)
    if by_name_expected is not None and by_name_actual is not None:
        for name in sorted(set(by_name_expected) | set(by_name_actual)):
            sub = f"{path}[name={name}]"
            if name not in by_name_expected:
                found[sub] = ("<absent>", by_name_actual[name])
            elif name not in by_name_actual:
                found[sub] = (by_name_expected[name], "<absent>")
            else:
                found.update(differences(by_name_expected[name], by_name_actual[name], sub))
        return found
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key in sorted(set(expected) | set(actual)):
            sub = join(path, key)
            if key not in expected:
                found[sub] = ("<absent>", actual[key])
            elif key not in actual:
                found[sub] = (expected[key], "<absent>")
            else:
                found.update(differences(expected[key], actual[key], sub))
        return found
    if isinstance(expected, list) and isinstance(actual, list):
        for index in range(max(len(expected), len(actual))):
            sub = join(path, index)
            if index >= len(expected):
                found[sub] = ("<absent>", actual[index])
            elif index >= len(actual):
                found[sub] = (expected[index], "<absent>")
            else:
                found.update(differences(expected[index], actual[index], sub))
        return found
    if expected != actual or type(expected) is not type(actual):
        found[path] = (expected, actual)
    return found
