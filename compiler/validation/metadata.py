"""Object metadata as the API server checks it (a CRD schema cannot say any of this).

Mirrors k8s.io/apimachinery validation: ValidateObjectMeta (name, namespace),
ValidateLabels (qualified-name keys, 63-character values) and
ValidateAnnotations (qualified-name keys, 256 KiB in total).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from compiler.normalize import name_problem
from compiler.validation.violations import Violation, show

ANNOTATIONS_LIMIT = 256 * 1024
_QUALIFIED_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")
_DNS1035_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
# Label keys and values repeat across a catalog's objects: each is checked once per process.
# Kinds whose names follow another rule than the usual DNS-1123 subdomain.
_LABEL_NAMED = {("", "Namespace")}
_DNS1035_NAMED = {("", "Service")}
_PATH_SEGMENT_NAMED = {
    ("rbac.authorization.k8s.io", kind) for kind in ("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding")
}


@lru_cache(maxsize=8192)
def qualified_name_problem(key: str) -> str | None:
    """Why `key` is not a qualified name (`[prefix/]name`), or None."""
    parts = key.split("/")
    if len(parts) > 2:
        return "has more than one '/'"
    if len(parts) == 2:
        prefix, name = parts
        if not prefix:
            return "has an empty prefix before '/'"
        problem = name_problem(prefix)
        if problem:
            return f"has a prefix {prefix!r} that {problem}"
    else:
        name = parts[0]
    if not name:
        return "has an empty name part"
    if len(name) > 63:
        return f"has a name part of {len(name)} characters; the limit is 63"
    if not _QUALIFIED_NAME.fullmatch(name):
        return (
            f"has a name part {name!r} that is not alphanumeric characters, '-', '_' or '.', "
            "starting and ending with an alphanumeric character"
        )
    return None


@lru_cache(maxsize=8192)
def label_value_problem(value: str) -> str | None:
    if len(value) > 63:
        return f"is {len(value)} characters long; the limit is 63"
    if not _LABEL_VALUE.fullmatch(value):
        return "must be empty or alphanumeric characters, '-', '_' or '.', starting and ending with an alphanumeric"
    return None


def _object_name_problem(name: str, group: str, kind: str) -> str | None:
    if (group, kind) in _PATH_SEGMENT_NAMED:
        if name in (".", ".."):
            return f"may not be {name!r}"
        bad = [c for c in ("/", "%") if c in name]
        return f"may not contain {bad[0]!r}" if bad else None
    if (group, kind) in _DNS1035_NAMED:
        if len(name) > 63:
            return f"is {len(name)} characters long; the limit is 63"
        if not _DNS1035_LABEL.fullmatch(name):
            return "is not a valid DNS-1035 label (lower-case letters, digits and '-', starting with a letter)"
        return None
    return name_problem(name, label=(group, kind) in _LABEL_NAMED)


def check_metadata(obj: dict[str, Any], group: str, kind: str, namespaced: bool | None) -> Iterator[Violation]:
    """`namespaced`: None when the kind's scope is unknown."""
    metadata = obj.get("metadata")
    if metadata is None:
        yield Violation("E302", ("metadata",), "metadata is required (an object needs metadata.name)")
        return
    if not isinstance(metadata, dict):
        return  # the schema reports the type
    name = metadata.get("name")
    if name is None:
        if not isinstance(metadata.get("generateName"), str) or not metadata["generateName"]:
            yield Violation("E302", ("metadata", "name"), "metadata.name is required")
    elif isinstance(name, str):
        problem = _object_name_problem(name, group, kind)
        if problem:
            yield Violation("E302", ("metadata", "name"), f"name {show(name)} {problem}")
    namespace = metadata.get("namespace")
    if isinstance(namespace, str):
        if namespaced is False:
            yield Violation(
                "E302",
                ("metadata", "namespace"),
                f"{kind} is cluster-scoped, so metadata.namespace must not be set (got {show(namespace)})",
            )
        else:
            problem = name_problem(namespace, label=True)
            if problem:
                yield Violation("E302", ("metadata", "namespace"), f"namespace {show(namespace)} {problem}")
    yield from _labels(metadata.get("labels"))
    yield from _annotations(metadata.get("annotations"))


def _labels(labels: Any) -> Iterator[Violation]:
    if not isinstance(labels, dict):
        return
    for key, value in labels.items():
        where = ("metadata", "labels", key)
        problem = qualified_name_problem(key)
        if problem:
            yield Violation("E302", where, f"label key {show(key)} {problem}")
        if isinstance(value, str):
            problem = label_value_problem(value)
            if problem:
                yield Violation("E302", where, f"label value {show(value)} {problem}")


def _annotations(annotations: Any) -> Iterator[Violation]:
    if not isinstance(annotations, dict):
        return
    total = 0
    for key, value in annotations.items():
        problem = qualified_name_problem(key.lower())
        if problem:
            yield Violation("E302", ("metadata", "annotations", key), f"annotation key {show(key)} {problem}")
        total += len(key.encode("utf-8")) + (len(value.encode("utf-8")) if isinstance(value, str) else 0)
    if total > ANNOTATIONS_LIMIT:
        yield Violation(
            "E302",
            ("metadata", "annotations"),
            f"annotations total {total} bytes; the API server allows {ANNOTATIONS_LIMIT} (256 KiB)",
        )
