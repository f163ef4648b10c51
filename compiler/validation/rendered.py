"""Validation of the objects a build renders, reported against the files that made them."""

from __future__ import annotations

from compiler.diagnostics import Diagnostic, Severity, SourceSpan
from compiler.model import ClusterRender
from compiler.normalize import output_file_name
from compiler.validation.validator import Validator


def validate_cluster(render: ClusterRender, validator: Validator, out_dir_name: str) -> list[Diagnostic]:
    """Every object of one cluster; errors name the output file, the JSON path, the value,
    what was expected, and the layer files (runtime first, then overlay, hardware, platform)."""
    diagnostics: list[Diagnostic] = []
    for obj in render.objects:
        verdict = validator.validate(obj.body)
        if not verdict.violations:
            continue
        out_file = f"{out_dir_name}/{render.cluster}/{output_file_name(obj.kind, obj.name, obj.namespace)}"
        layers = obj.layers
        # GitOps objects have no runtime layer: the overlay that declared them is the source.
        source = layers.runtime or layers.overlay
        related = tuple(SourceSpan(f) for f in (layers.overlay, layers.hardware, layers.platform) if f and f != source)
        for violation in verdict.violations:
            diagnostics.append(
                Diagnostic(
                    Severity.WARNING if violation.warning else Severity.ERROR,
                    violation.code,
                    f"{out_file} would not be a valid {obj.kind}: {violation.location}: {violation.message}",
                    span=SourceSpan(source),
                    target=render.cluster,
                    object=obj.label,
                    path=violation.location,
                    related=related,
                )
            )
    return diagnostics
