"""`rtc schemas export DIR`: rtc's JSON Schemas for kubeconform."""

from __future__ import annotations

from pathlib import Path

import click

from compiler.cli.app import Context, cli, fail_usage
from compiler.cli.validate import load_store, schema_location_option
from compiler.validation.export import KUBECONFORM_TEMPLATE, export_schemas


@cli.group("schemas")
def schemas_group() -> None:
    """The schemas rtc validates against (vendored CRDs and Kubernetes kinds)."""


@schemas_group.command("export")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@schema_location_option("Also convert the CustomResourceDefinitions in this file or folder (repeatable).")
@click.pass_obj
def export_command(ctx: Context, directory: Path, locations: tuple[Path, ...]) -> None:
    """Write every schema as JSON Schema in kubeconform's layout.

    File names follow kubeconform's `{{ .ResourceKind }}{{ .KindSuffix }}.json`
    (clusterservingruntime-serving-v1alpha1.json, configmap-v1.json), so

    \b
      rtc schemas export schemas/
      kubeconform -strict -schema-location 'schemas/{{ .ResourceKind }}{{ .KindSuffix }}.json' out/

    checks the same schemas rtc does (rtc also checks object metadata, list-map
    keys and CEL rules, which a JSON Schema cannot express).
    """
    if directory.exists() and not directory.is_dir():
        fail_usage(f"{directory} exists and is not a folder")
    store = load_store(locations)
    try:
        result = export_schemas(store, directory)
    except OSError as exc:
        fail_usage(f"cannot write to {directory}: {exc.strerror}")
        return
    for clash in result.clashes:
        click.echo(f"rtc: warning: not exported: {clash}", err=True)
    ctx.info(f"wrote {len(result.written)} schemas to {directory}/")
    ctx.info(f"use: kubeconform -strict -schema-location '{directory}/{KUBECONFORM_TEMPLATE}' FILES...")
