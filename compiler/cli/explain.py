"""`rtc explain`: which layer set a field, and in which file."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from compiler.cli.app import EXIT_FINDINGS, EXIT_USAGE, Context, cli, print_diagnostics
from compiler.explain import USAGE_CODES, Change, Explanation, ObjectRef, explain, object_from_file
from compiler.fieldpath import MISSING


@cli.command("explain")
@click.argument("args", nargs=-1, required=True, metavar="[FILE] PATH")
@click.option("--cluster", metavar="NAME", help="The object's cluster (instead of FILE).")
@click.option("--name", "object_name", metavar="NAME", help="The object's metadata.name (instead of FILE).")
@click.option("--kind", metavar="KIND", help="The object's kind, when two objects share a name.")
@click.pass_obj
def explain_command(
    ctx: Context, args: tuple[str, ...], cluster: str | None, object_name: str | None, kind: str | None
) -> None:
    """Show a field's final value and the layers that set or changed it.

    PATH is a field path: spec.containers[0].image,
    metadata.labels['cpaas.io/runtime-class'] (or metadata.labels.cpaas.io/runtime-class),
    spec.containers[name=kserve-container].env[name=HOME].value.

    \b
    Examples:
      rtc explain out/prod-airgap/clusterservingruntime-aml-vllm-cuda-12.1.yaml spec.containers[0].image
      rtc explain --cluster demo --name aml-triton-cuda-12 metadata.labels
    """
    project = ctx.project()
    by_reference = cluster is not None or object_name is not None
    if by_reference:
        if not (cluster and object_name) or len(args) != 1:
            raise click.UsageError("give --cluster and --name together, with one PATH (and no FILE)")
        ref = ObjectRef(cluster=cluster, name=object_name, kind=kind)
        path_text = args[0]
    else:
        if len(args) != 2:
            raise click.UsageError("give FILE and PATH, or --cluster NAME --name NAME and PATH")
        found, problems = object_from_file(project, Path(args[0]))
        if found is None:
            print_diagnostics(problems)
            sys.exit(EXIT_USAGE)
        ref, path_text = found, args[1]
    result = explain(project, ref, path_text, ctx.engine)
    if result.explanation is None:
        print_diagnostics(result.diagnostics)
        usage = result.diagnostics and all(d.code in USAGE_CODES for d in result.diagnostics if d.is_error)
        sys.exit(EXIT_USAGE if usage else EXIT_FINDINGS)
    click.echo(render_text(result.explanation, ref.file))


def _show(value: Any) -> str:
    if value is MISSING:
        return "(not set)"
    if isinstance(value, str):
        if "\n" in value:
            lines = value.splitlines()
            return f"{lines[0]} … ({len(lines)} lines)"
        return value
    return json.dumps(value, sort_keys=True)


def _change_line(change: Change) -> list[str]:
    head = f"  {change.layer:<9} {change.file}"
    if change.action == "set":
        detail = f"set to {_show(change.after)}"
    elif change.action == "removed":
        detail = f"removed (was {_show(change.before)})"
    else:
        detail = f"changed {_show(change.before)} -> {_show(change.after)}"
    lines = [head, f"            {detail}"]
    if change.written_at:
        lines.append(f"            written at {change.written_at}")
    return lines


def render_text(explanation: Explanation, file: str | None) -> str:
    obj = explanation.object
    lines = [
        f"{obj.label} in cluster {obj.cluster}" + (f" ({file})" if file else ""),
        f"{explanation.path} = {_show(explanation.value)}",
        "",
    ]
    if not explanation.changes:
        lines.append("  no layer sets it")
    for change in explanation.changes:
        lines.extend(_change_line(change))
    if explanation.stale:
        lines.append("")
        lines.append(f"note: {file} has {_show(explanation.stale_value)}, not what the sources give; run `rtc build`")
    return "\n".join(lines)
