"""Normalize: the evaluated cluster -> checked, labelled RenderedObjects.

Checks here are the ones that must hold before anything becomes a file name:
the overlay's shape, object identity (apiVersion, kind, name), safe names,
and no two objects landing in the same file.
"""

from __future__ import annotations

import re
from typing import Any

from compiler.diagnostics import Diagnostic, SourceSpan, error
from compiler.model import ClusterRender, Layers, RenderedObject
from compiler.targets import Target

MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY_VALUE = "rtc"
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


def name_problem(name: object, *, label: bool = False) -> str | None:
    """Why `name` cannot be an object name (and so a file name), or None."""
    if not isinstance(name, str):
        return f"must be a string, got {type(name).__name__}"
    if not name:
        return "is empty"
    if "\x00" in name:
        return "contains a NUL byte"
    if "/" in name or "\\" in name:
        return "contains a path separator"
    if name in (".", "..") or ".." in name:
        return "contains '..'"
    limit = 63 if label else 253
    if len(name) > limit:
        return f"is {len(name)} characters long; the limit is {limit}"
    pattern = _DNS1123_LABEL if label else _DNS1123_SUBDOMAIN
    if not pattern.fullmatch(name):
        kind = "DNS-1123 label" if label else "DNS-1123 subdomain"
        allowed = "lower-case letters, digits and '-'" if label else "lower-case letters, digits, '-' and '.'"
        return f"is not a valid {kind} ({allowed}, starting and ending with a letter or digit)"
    return None


def layers_for(runtime: str, hardware: str, platform: str, entry: str) -> Layers:
    return Layers(
        runtime=f"catalog/{runtime}/main.libsonnet",
        hardware=f"hardware/{hardware}.libsonnet",
        platform=f"catalog/lib/platforms/{platform}.libsonnet",
        overlay=entry,
    )


def normalize(target: Target, data: Any, imports: dict[str, str]) -> tuple[ClusterRender | None, list[Diagnostic]]:
    entry_span = SourceSpan(target.entry)
    shape_hint = "an overlay evaluates to rtc.cluster { name: ..., platform: ..., deployments: [...] }"
    if not isinstance(data, dict) or not isinstance(data.get("rtc"), dict):
        return None, [
            error(
                "E201",
                f"{target.entry} does not evaluate to an rtc.cluster",
                span=entry_span,
                target=target.name,
                hint=shape_hint,
            )
        ]
    cluster_data = data["rtc"]
    cluster = cluster_data.get("cluster")
    platform = cluster_data.get("platform")
    objects = cluster_data.get("objects")
    if cluster != target.name:
        return None, [
            error(
                "E202",
                f"cluster name {cluster!r} does not match its overlay file name {target.name!r}",
                span=entry_span,
                target=target.name,
                hint=f"set name: '{target.name}' or rename the file; the file name decides the folder under out/",
            )
        ]
    if not isinstance(platform, str) or not isinstance(objects, list):
        return None, [
            error(
                "E201",
                f"{target.entry}: rtc.cluster output is malformed",
                span=entry_span,
                target=target.name,
                hint=shape_hint,
            )
        ]

    registries = cluster_data.get("allowedRegistries")
    if registries is not None and not (
        isinstance(registries, list) and all(isinstance(r, str) and r for r in registries)
    ):
        return None, [
            error(
                "E208",
                f"allowedRegistries of cluster {target.name!r} must be a list of registry hosts or prefixes",
                span=entry_span,
                target=target.name,
            )
        ]
    render = ClusterRender(
        cluster=target.name,
        platform=platform,
        entry=target.entry,
        allowed_registries=tuple(registries) if registries is not None else None,
    )
    diagnostics: list[Diagnostic] = []
    for index, item in enumerate(objects):
        obj, problems = _object(target, platform, index, item, imports)
        diagnostics.extend(problems)
        if obj is not None:
            render.objects.append(obj)
    diagnostics.extend(_collisions(target, render.objects))
    return render, diagnostics


def _object(
    target: Target, platform: str, index: int, item: Any, imports: dict[str, str]
) -> tuple[RenderedObject | None, list[Diagnostic]]:
    where = f"objects[{index}]"
    if not isinstance(item, dict) or not isinstance(item.get("object"), dict):
        return None, [error("E203", f"{where} is not an object", span=SourceSpan(target.entry), target=target.name)]
    runtime, hardware = str(item.get("runtime", "?")), str(item.get("hardware", "?"))
    layers = layers_for(runtime, hardware, platform, target.entry)
    diagnostics: list[Diagnostic] = []
    for path, what in (
        (layers.runtime, "runtime"),
        (layers.hardware, "hardware profile"),
        (layers.platform, "platform"),
    ):
        if path not in imports:
            name = {"runtime": runtime, "hardware profile": hardware, "platform": platform}[what]
            diagnostics.append(
                error(
                    "E204",
                    f"{what} {name!r} is not defined in {path}",
                    span=SourceSpan(target.entry),
                    target=target.name,
                    hint=f"a {what}'s name must match its file so rtc can say where each value came from",
                )
            )
    body = item["object"]
    requirements = item.get("requirements") or {}
    suppressions = item.get("suppressions") or {}
    resource_key = item.get("resourceKey")
    obj = RenderedObject(
        cluster=target.name,
        runtime=runtime,
        hardware=hardware,
        body=body,
        layers=layers,
        requirements=requirements if isinstance(requirements, dict) else {},
        suppressions=suppressions if isinstance(suppressions, dict) else {},
        resource_key=resource_key if isinstance(resource_key, str) else None,
    )
    span = SourceSpan(layers.runtime)
    if not isinstance(suppressions, dict):
        diagnostics.append(
            error(
                "E209",
                f"lintExceptions of runtime {runtime!r} must be an object of rule id: 'reason'",
                span=span,
                target=target.name,
                object=obj.label,
            )
        )
    for field_name in ("apiVersion", "kind"):
        if not isinstance(body.get(field_name), str) or not body.get(field_name):
            diagnostics.append(
                error("E205", f"object has no {field_name}", span=span, target=target.name, object=obj.label)
            )
    metadata = body.get("metadata")
    if not isinstance(metadata, dict):
        diagnostics.append(error("E205", "object has no metadata", span=span, target=target.name, object=obj.label))
        return None, diagnostics
    problem = name_problem(metadata.get("name"))
    if problem:
        diagnostics.append(
            error(
                "E206",
                f"metadata.name {metadata.get('name')!r} {problem}",
                span=span,
                target=target.name,
                object=obj.label,
                path="metadata.name",
            )
        )
    namespace = metadata.get("namespace")
    if namespace is not None:
        problem = name_problem(namespace, label=True)
        if problem:
            diagnostics.append(
                error(
                    "E206",
                    f"metadata.namespace {namespace!r} {problem}",
                    span=span,
                    target=target.name,
                    object=obj.label,
                    path="metadata.namespace",
                )
            )
    if diagnostics:
        return None, diagnostics
    labels = metadata.get("labels")
    if labels is None:
        labels = metadata["labels"] = {}
    if isinstance(labels, dict):
        labels.setdefault(MANAGED_BY_LABEL, MANAGED_BY_VALUE)
    return obj, diagnostics


def output_file_name(kind: str, name: str, namespace: str | None) -> str:
    stem = f"{kind.lower()}-{namespace}-{name}" if namespace else f"{kind.lower()}-{name}"
    return f"{stem}.yaml"


def _collisions(target: Target, objects: list[RenderedObject]) -> list[Diagnostic]:
    """Two objects that would be written to the same file (compared
    case-insensitively: checkouts on macOS and Windows fold case)."""
    seen: dict[str, RenderedObject] = {}
    diagnostics: list[Diagnostic] = []
    for obj in objects:
        file_name = output_file_name(obj.kind, obj.name, obj.namespace)
        key = file_name.lower()
        first = seen.get(key)
        if first is None:
            seen[key] = obj
            continue
        diagnostics.append(
            error(
                "E207",
                f"{obj.label} and {first.label} are both written to out/{target.name}/{file_name}",
                span=SourceSpan(obj.layers.runtime),
                target=target.name,
                related=(SourceSpan(first.layers.runtime), SourceSpan(target.entry)),
                hint="give one of them another name (rtc.runtime names: { '<hardware>': '<name>' })",
            )
        )
    return diagnostics
