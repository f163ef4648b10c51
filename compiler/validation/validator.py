"""One object in, one verdict out: schema, object metadata, list-map keys, CEL rules."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from typing import Any

import jsonschema_rs

from compiler.validation.convert import QUANTITY_EXAMPLE, QUANTITY_PATTERN
from compiler.validation.metadata import check_metadata
from compiler.validation.sites import SiteTree, check_sites
from compiler.validation.store import KindSchema, SchemaStore
from compiler.validation.violations import Path, Violation, show, type_name

VALID, INVALID, MISSING_SCHEMA, SKIPPED = "valid", "invalid", "missing-schema", "skipped"
_GO_DURATION = re.compile(
    r"[-+]?(\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)(((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))*)"
)
_ISO_DURATION = re.compile(r"P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?")


@dataclass
class Verdict:
    status: str
    api_version: str = ""
    kind: str = ""
    name: str = ""
    namespace: str = ""
    violations: list[Violation] = field(default_factory=list)

    @property
    def errors(self) -> list[Violation]:
        return [v for v in self.violations if not v.warning]


def _is_base64(value: str) -> bool:
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def _is_duration(value: str) -> bool:
    """Kubernetes accepts Go durations ("1h30m") where OpenAPI says duration; ISO 8601 too."""
    return bool(_GO_DURATION.fullmatch(value) or value == "0" or _ISO_DURATION.fullmatch(value))


FORMATS = {"byte": _is_base64, "duration": _is_duration}


@dataclass
class _Compiled:
    kind: KindSchema
    validator: Any
    sites: SiteTree


class Validator:
    """Checks objects against a SchemaStore; compiled validators are kept per kind."""

    def __init__(self, store: SchemaStore, *, ignore_missing_schemas: bool = False) -> None:
        self.store = store
        self.ignore_missing_schemas = ignore_missing_schemas
        self._compiled: dict[tuple[str, str], _Compiled] = {}

    def _compile(self, api_version: str, kind: str) -> _Compiled | None:
        key = (api_version, kind)
        compiled = self._compiled.get(key)
        if compiled is None:
            schema = self.store.get(api_version, kind)
            if schema is None:
                return None
            validator = jsonschema_rs.Draft202012Validator(schema.schema, validate_formats=True, formats=FORMATS)
            compiled = self._compiled[key] = _Compiled(schema, validator, SiteTree.build(schema.sites))
        return compiled

    def prepare(self, api_version: str, kind: str) -> bool:
        """Compile the kind's validator now (False: no schema). A parent process that
        is about to fork workers does this once instead of every worker doing it."""
        return self._compile(api_version, kind) is not None

    def validate(self, obj: Any) -> Verdict:
        if not isinstance(obj, dict):
            return Verdict(
                INVALID,
                violations=[Violation("E307", (), f"a Kubernetes object is a mapping, not {type_name(obj)}")],
            )
        api_version, kind = obj.get("apiVersion"), obj.get("kind")
        raw_metadata = obj.get("metadata")
        metadata: dict[str, Any] = raw_metadata if isinstance(raw_metadata, dict) else {}
        verdict = Verdict(
            INVALID,
            api_version=api_version if isinstance(api_version, str) else "",
            kind=kind if isinstance(kind, str) else "",
            name=str(metadata.get("name") or ""),
            namespace=str(metadata.get("namespace") or ""),
        )
        for field_name, value in (("apiVersion", api_version), ("kind", kind)):
            if not isinstance(value, str) or not value:
                got = "missing" if value is None else f"{show(value)}"
                verdict.violations.append(Violation("E307", (field_name,), f"{field_name} is {got}; expected a string"))
        if verdict.violations:
            return verdict
        compiled = self._compile(verdict.api_version, verdict.kind)
        if compiled is None:
            return self._missing(verdict)
        if not compiled.validator.is_valid(obj):
            verdict.violations.extend(_describe(error, obj, compiled.kind.schema) for error in _errors(compiled, obj))
        verdict.violations.extend(check_metadata(obj, compiled.kind.group, verdict.kind, compiled.kind.namespaced))
        if not compiled.sites.empty:
            verdict.violations.extend(check_sites(compiled.sites, obj))
        verdict.status = INVALID if verdict.errors else VALID
        return verdict

    def _missing(self, verdict: Verdict) -> Verdict:
        if self.ignore_missing_schemas:
            verdict.status = SKIPPED
            return verdict
        known = self.store.versions_of(verdict.kind)
        hint = (
            f"rtc knows {verdict.kind} as {', '.join(known)}"
            if known
            else "pass the CRD with --schema-location, or --ignore-missing-schemas to skip such kinds"
        )
        verdict.status = MISSING_SCHEMA
        verdict.violations.append(
            Violation("E305", (), f"no schema for {verdict.kind} in {verdict.api_version}; {hint}")
        )
        return verdict


def _errors(compiled: _Compiled, obj: Any) -> list[Any]:
    errors = list(compiled.validator.iter_errors(obj))
    # One message per place: an unknown field also fails every anyOf branch above it.
    return sorted(errors, key=lambda e: [str(p) for p in e.instance_path])


def _node(schema: dict[str, Any], schema_path: list[Any]) -> Any:
    node: Any = schema
    for part in schema_path:
        if isinstance(node, dict) and "$ref" in node and part not in node:
            node = _deref(schema, node["$ref"])
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def _deref(schema: dict[str, Any], ref: str) -> Any:
    node: Any = schema
    for part in ref.lstrip("#/").split("/"):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def _value_at(obj: Any, path: Path) -> Any:
    for part in path:
        try:
            obj = obj[part]
        except (KeyError, IndexError, TypeError):
            return None
    return obj


def _describe(error: Any, obj: Any, schema: dict[str, Any]) -> Violation:
    """A jsonschema_rs error -> where, the value, what was expected."""
    path: Path = tuple(error.instance_path)
    name = error.kind.name
    details = error.kind.as_dict()
    value = error.instance
    got = f"{show(value)} ({type_name(value)})"
    if name == "additionalProperties":
        unexpected = list(details.get("unexpected", []))
        return _unknown_fields(path, unexpected, _node(schema, list(error.schema_path)[:-1]))
    if name == "falseSchema" and list(error.schema_path)[-1:] == ["additionalProperties"]:
        holder = _value_at(obj, path)
        parent = _node(schema, list(error.schema_path)[:-1]) or {}
        known = set((parent.get("properties") or {}).keys())
        unexpected = [k for k in holder if k not in known] if isinstance(holder, dict) else []
        return _unknown_fields(path, unexpected, parent)
    if name == "required":
        missing = details.get("property")
        return Violation("E301", (*path, str(missing)), f"required field {show(missing)} is missing")
    if name == "type":
        expected = " or ".join(t for t in details.get("types", []) if t != "null")
        return Violation("E301", path, f"got {got}; expected {expected or 'null'}")
    if name == "enum":
        options = ", ".join(show(o) for o in details.get("options", []) if o is not None)
        return Violation("E301", path, f"got {show(value)}; expected one of {options}")
    if name == "pattern" and details.get("pattern") == QUANTITY_PATTERN:
        return Violation("E301", path, f"got {show(value)}; expected {QUANTITY_EXAMPLE}")
    if name == "pattern":
        return Violation("E301", path, f"got {show(value)}; expected a string matching {details.get('pattern')}")
    if name in ("anyOf", "oneOfNotValid"):
        node = _node(schema, list(error.schema_path)[:-1]) or {}
        return Violation("E301", path, f"got {got}; expected {_expectation(node)}")
    if name == "format":
        return Violation("E301", path, f"got {show(value)}; expected a {details.get('format')} string")
    if name in _LIMITS:
        limit = details.get("limit")
        if isinstance(value, list):
            shown = f"{len(value)} items"
        elif isinstance(value, dict):
            shown = f"{len(value)} fields"
        elif isinstance(value, str) and "Length" in name:
            shown = f"{show(value)} ({len(value)} characters)"
        else:
            shown = show(value)
        return Violation("E301", path, f"got {shown}; expected {_LIMITS[name].format(limit)}")
    if name == "uniqueItems":
        return Violation("E301", path, f"got {show(value)}; expected unique items")
    return Violation("E301", path, str(error.message))


_LIMITS = {
    "minimum": "at least {}",
    "maximum": "at most {}",
    "exclusiveMinimum": "more than {}",
    "exclusiveMaximum": "less than {}",
    "minLength": "at least {} characters",
    "maxLength": "at most {} characters",
    "minItems": "at least {} items",
    "maxItems": "at most {} items",
    "minProperties": "at least {} fields",
    "maxProperties": "at most {} fields",
}


def _unknown_fields(path: Path, unexpected: list[str], node: Any) -> Violation:
    properties = sorted((node or {}).get("properties") or {}) if isinstance(node, dict) else []
    if len(unexpected) == 1:
        where: Path = (*path, unexpected[0])
        message = f"unknown field {show(unexpected[0])}"
    else:
        where = path
        message = f"unknown fields {', '.join(show(u) for u in unexpected)}"
    if properties:
        shown = ", ".join(properties[:12]) + (", ..." if len(properties) > 12 else "")
        message += f"; expected one of: {shown}"
    else:
        message += "; this object takes no fields"
    return Violation("E301", where, message)


def _expectation(node: dict[str, Any]) -> str:
    if node.get("x-kubernetes-int-or-string"):
        branches = [node, *(b for b in node.get("anyOf", ()) if isinstance(b, dict))]
        if any(b.get("pattern") == QUANTITY_PATTERN for b in branches):
            return QUANTITY_EXAMPLE
        return "an integer or a string"
    choices = node.get("anyOf") or node.get("oneOf") or []
    types: list[str] = [c["type"] for c in choices if isinstance(c, dict) and isinstance(c.get("type"), str)]
    if types and len(types) == len(choices):
        return " or ".join(t for t in types if t != "null")
    return "a value matching one of the allowed forms"
