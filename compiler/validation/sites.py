"""The checks a JSON Schema validator cannot make: list-map keys, sets, CEL rules.

`find_sites` walks a converted schema once and records where the extensions
sit (``spec.containers[].env`` is a map list keyed by ``name``); `check_sites`
then follows only those paths in an object, so an object costs in proportion
to the few places that matter, not to its size.

Path segments: a field name, ``[]`` for every item of a list, ``{}`` for every
value of a map.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from compiler.validation.cel import Rule, evaluate
from compiler.validation.violations import Violation, format_path, show

EVERY_ITEM = "[]"
EVERY_VALUE = "{}"
_MAX_DEPTH = 40


@dataclass(frozen=True)
class Site:
    path: tuple[str, ...]
    list_type: str = ""  # "map" or "set" (atomic lists need no check)
    keys: tuple[str, ...] = ()
    key_defaults: tuple[tuple[str, Any], ...] = ()
    rules: tuple[Rule, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "path": list(self.path),
            "listType": self.list_type,
            "keys": list(self.keys),
            "keyDefaults": [list(pair) for pair in self.key_defaults],
            "rules": [
                {
                    "rule": r.rule,
                    "message": r.message,
                    "messageExpression": r.message_expression,
                    "fieldPath": r.field_path,
                }
                for r in self.rules
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Site:
        return cls(
            path=tuple(data["path"]),
            list_type=data["listType"],
            keys=tuple(data["keys"]),
            key_defaults=tuple((k, v) for k, v in data["keyDefaults"]),
            rules=tuple(Rule.from_schema(r) for r in data["rules"]),
        )


def find_sites(schema: dict[str, Any]) -> list[Site]:
    defs = schema.get("$defs", {})
    found: dict[tuple[str, ...], list[Site]] = {}
    _walk(schema, (), defs, (), found)
    return [site for path in sorted(found) for site in found[path]]


def _resolve(
    node: dict[str, Any], defs: dict[str, Any], refs: tuple[str, ...]
) -> tuple[dict[str, Any], tuple[str, ...]]:
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        name = ref[len("#/$defs/") :]
        if name in refs or name not in defs:
            return {}, refs
        merged = {**defs[name], **{k: v for k, v in node.items() if k != "$ref"}}
        return _resolve(merged, defs, (*refs, name))
    return node, refs


def _walk(
    node: Any,
    path: tuple[str, ...],
    defs: dict[str, Any],
    refs: tuple[str, ...],
    found: dict[tuple[str, ...], list[Site]],
) -> None:
    if not isinstance(node, dict) or len(path) > _MAX_DEPTH:
        return
    node, refs = _resolve(node, defs, refs)
    list_type = node.get("x-kubernetes-list-type")
    rules = tuple(Rule.from_schema(r) for r in node.get("x-kubernetes-validations", ()) if isinstance(r, dict))
    if list_type in ("map", "set") or rules:
        keys = tuple(node.get("x-kubernetes-list-map-keys", ())) if list_type == "map" else ()
        item, _ = _resolve(node.get("items") or {}, defs, refs)
        item_props = item.get("properties", {}) if isinstance(item, dict) else {}
        defaults = tuple(
            (key, item_props[key]["default"])
            for key in keys
            if isinstance(item_props.get(key), dict) and "default" in item_props[key]
        )
        site = Site(path, list_type if list_type in ("map", "set") else "", keys, defaults, rules)
        sites = found.setdefault(path, [])
        if site not in sites:
            sites.append(site)
    for name, sub in (node.get("properties") or {}).items():
        _walk(sub, (*path, name), defs, refs, found)
    if isinstance(node.get("items"), dict):
        _walk(node["items"], (*path, EVERY_ITEM), defs, refs, found)
    if isinstance(node.get("additionalProperties"), dict):
        _walk(node["additionalProperties"], (*path, EVERY_VALUE), defs, refs, found)
    for key in ("allOf", "anyOf", "oneOf"):
        for sub in node.get(key) or ():
            _walk(sub, path, defs, refs, found)


@dataclass
class SiteTree:
    """The sites arranged by path, so a check follows each path once."""

    sites: list[Site] = field(default_factory=list)
    children: dict[str, SiteTree] = field(default_factory=dict)

    @classmethod
    def build(cls, sites: list[Site]) -> SiteTree:
        root = cls()
        for site in sites:
            node = root
            for segment in site.path:
                node = node.children.setdefault(segment, cls())
            node.sites.append(site)
        return root

    @property
    def empty(self) -> bool:
        return not self.sites and not self.children


def check_sites(tree: SiteTree, value: Any, path: tuple[str | int, ...] = ()) -> Iterator[Violation]:
    for site in tree.sites:
        yield from _check_site(site, value, path)
    for segment, child in tree.children.items():
        if segment == EVERY_ITEM:
            if isinstance(value, list):
                for index, item in enumerate(value):
                    yield from check_sites(child, item, (*path, index))
        elif segment == EVERY_VALUE:
            if isinstance(value, dict):
                for key, item in value.items():
                    yield from check_sites(child, item, (*path, key))
        elif isinstance(value, dict) and segment in value:
            yield from check_sites(child, value[segment], (*path, segment))


def _check_site(site: Site, value: Any, path: tuple[str | int, ...]) -> Iterator[Violation]:
    if value is None:
        return
    if site.list_type and isinstance(value, list) and len(value) > 1:
        if site.list_type == "map":
            yield from _duplicate_keys(site, value, path)
        else:
            yield from _duplicate_items(value, path)
    for rule in site.rules:
        outcome = evaluate(rule, value)
        where = path + tuple(p for p in rule.field_path.lstrip(".").split(".") if p) if rule.field_path else path
        if outcome.passed is False:
            yield Violation("E304", where, f"{outcome.message} (CEL rule: {rule.rule})")
        elif outcome.passed is None:
            yield Violation("W301", where, f"CEL rule not checked: {outcome.reason} (rule: {rule.rule})", warning=True)


def _duplicate_keys(site: Site, items: list[Any], path: tuple[str | int, ...]) -> Iterator[Violation]:
    defaults = dict(site.key_defaults)
    seen: dict[Any, int] = {}
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        if any(key not in item and key not in defaults for key in site.keys):
            continue  # a missing key is the schema's `required` finding
        key = {k: item.get(k, defaults.get(k)) for k in site.keys}
        token = _token(tuple(key.values()))
        if token in seen:
            shown = ", ".join(f"{k}={show(v)}" for k, v in key.items())
            first = format_path((*path, seen[token]))
            yield Violation(
                "E303",
                (*path, index),
                f"duplicate entry {shown} (first at {first}); this list is keyed by "
                f"{', '.join(site.keys)} (x-kubernetes-list-type: map) and the API server rejects repeated keys",
            )
        else:
            seen[token] = index


def _token(value: Any) -> Any:
    """A hashable stand-in for a JSON value; scalars (the usual keys) stand for themselves.
    The type is part of it: 1 and "1" and True are different keys to the API server."""
    if isinstance(value, (str, int, float, bool)) or value is None:
        return (type(value).__name__, value)
    if isinstance(value, tuple):
        return tuple(_token(v) for v in value)
    return ("json", json.dumps(value, sort_keys=True))


def _duplicate_items(items: list[Any], path: tuple[str | int, ...]) -> Iterator[Violation]:
    seen: dict[Any, int] = {}
    for index, item in enumerate(items):
        token = _token(item)
        if token in seen:
            first = format_path((*path, seen[token]))
            yield Violation(
                "E303",
                (*path, index),
                f"duplicate value {show(item)} (first at {first}); this list is a set "
                "(x-kubernetes-list-type: set) and the API server rejects repeated values",
            )
        else:
            seen[token] = index
