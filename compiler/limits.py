"""The limits a build stays within, from rtc.toml's [limits] table.

A catalog is code from many authors: a loop over a huge range, runaway
recursion or a megabyte string must end in a clear error, not a hung CI job,
an exhausted machine or an object the API server (or Argo CD) refuses.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from compiler.diagnostics import Diagnostic, SourceSpan, error
from compiler.model import ClusterRender

TABLE = "limits"


@dataclass(frozen=True)
class Limits:
    # Seconds one cluster may take to render; 0 renders in-process, without a limit.
    eval_seconds: float = 60.0
    # Bytes of one rendered object. Argo CD's client-side apply stores the whole
    # object in an annotation, and annotations may hold 256 KiB in total.
    object_bytes: int = 256 * 1024
    # Bytes of every file one build writes.
    build_bytes: int = 64 * 1024 * 1024
    # Deepest Jsonnet call stack.
    max_stack: int = 500


def _key(name: str) -> str:
    return name.replace("_", "-")


def parse_limits(table: Any) -> Limits:
    """The [limits] table as Limits; ValueError says which setting is wrong."""
    if table is None:
        return Limits()
    if not isinstance(table, dict):
        raise ValueError(f"[{TABLE}] must be a table")
    known = {_key(f.name): f for f in fields(Limits)}
    unknown = sorted(set(table) - set(known))
    if unknown:
        raise ValueError(f"unknown setting {TABLE}.{unknown[0]}; known: {', '.join(sorted(known))}")
    values: dict[str, Any] = {}
    for key, value in table.items():
        spec = known[key]
        integral = spec.type in (int, "int")
        ok_type = isinstance(value, int) if integral else isinstance(value, int | float)
        if isinstance(value, bool) or not ok_type or value < 0 or (integral and value == 0):
            what = "a positive whole number" if integral else "a number of seconds (0: no limit)"
            raise ValueError(f"{TABLE}.{key} must be {what}, got {value!r}")
        values[spec.name] = value
    return Limits(**values)


def _size(count: int) -> str:
    return f"{count / 1024:.0f} KiB" if count < 1024 * 1024 else f"{count / 1024 / 1024:.1f} MiB"


def object_size_problems(cluster: ClusterRender, files: dict[str, bytes], limits: Limits) -> list[Diagnostic]:
    problems = []
    for obj in cluster.objects:
        size = len(files.get(obj.out_path, b""))
        if size > limits.object_bytes:
            problems.append(
                error(
                    "E113",
                    f"{obj.kind}/{obj.name} renders to {size} bytes ({_size(size)}), over {TABLE}.object-bytes "
                    f"({limits.object_bytes})",
                    span=SourceSpan(obj.layers.runtime),
                    target=cluster.cluster,
                    object=obj.label,
                    hint="Argo CD cannot apply an object this large; look for a runaway string or list, or raise "
                    f"{TABLE}.object-bytes in rtc.toml",
                )
            )
    return problems


def build_size_problems(files: dict[str, bytes], limits: Limits) -> list[Diagnostic]:
    total = sum(len(data) for data in files.values())
    if total <= limits.build_bytes:
        return []
    return [
        error(
            "E114",
            f"the build renders {total} bytes ({_size(total)}) in {len(files)} files, over {TABLE}.build-bytes "
            f"({limits.build_bytes})",
            span=SourceSpan("rtc.toml"),
            hint=f"build fewer or smaller objects, or raise {TABLE}.build-bytes in rtc.toml",
        )
    ]
