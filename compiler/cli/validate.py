"""`rtc validate PATH...`: any manifest against rtc's schemas, offline."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from compiler.cli.app import EXIT_FINDINGS, Context, cli, fail_usage
from compiler.validation import SchemaStore, Validator
from compiler.validation.documents import STDIN, Source, collect
from compiler.validation.manifests import validate_sources
from compiler.validation.report import FORMATS, RENDERERS, summary
from compiler.validation.store import SchemaLoadError, default_cache_dir

F = TypeVar("F", bound=Callable[..., Any])


def schema_location_option(help: str) -> Callable[[F], F]:
    """`--schema-location PATH` (repeatable), passed as `locations`: the CRDs load_store adds."""
    return click.option(
        "--schema-location", "locations", multiple=True, type=click.Path(path_type=Path), metavar="PATH", help=help
    )


def load_store(locations: tuple[Path, ...]) -> SchemaStore:
    try:
        return SchemaStore.load(locations, cache_dir=default_cache_dir())
    except SchemaLoadError as exc:
        fail_usage(str(exc))
        raise  # unreachable: fail_usage exits


@cli.command("validate")
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@schema_location_option(
    "Also use the CustomResourceDefinitions in this file or folder (repeatable; they win over rtc's own)."
)
@click.option("--ignore-missing-schemas", is_flag=True, help="Skip kinds rtc has no schema for instead of failing.")
@click.option(
    "-o", "--output", type=click.Choice(FORMATS), default="text", show_default=True, help="Report format (on stdout)."
)
@click.pass_obj
def validate_command(
    ctx: Context, paths: tuple[str, ...], locations: tuple[Path, ...], ignore_missing_schemas: bool, output: str
) -> None:
    """Validate Kubernetes manifests offline, as the API server and KServe would.

    PATH is a file, a folder (every *.yaml, *.yml and *.json below it) or - for
    standard input. Every document of a multi-document stream, and every item of
    a `kind: List`, gets its own verdict. Checks: the kind's schema (KServe,
    Argo CD, Flux CRDs and common Kubernetes kinds, strict about unknown
    fields), object metadata (names, labels, annotations, namespace), list-map
    keys and CEL rules. kustomization.yaml files are recognised and skipped.

    Exit status: 0 all valid, 1 any invalid or unknown kind, 2 usage error.

    \b
    Examples:
      rtc validate out/
      rtc validate --schema-location crds/ manifests/
      kustomize build out/demo | rtc validate -
      rtc validate -o sarif out/ > rtc.sarif
    """
    sources, missing = collect(list(paths))
    if missing:
        fail_usage(f"no such file or folder: {', '.join(missing)}")
    if sum(s.path is None for s in sources) > 1:
        fail_usage(f"{STDIN} (standard input) can be given only once")
    validator = Validator(load_store(locations), ignore_missing_schemas=ignore_missing_schemas)

    def read(source: Source) -> bytes:
        if source.path is None:
            return sys.stdin.buffer.read()
        try:
            return source.path.read_bytes()
        except OSError as exc:
            fail_usage(f"cannot read {source.name}: {exc.strerror}")
            raise  # unreachable

    report = validate_sources(sources, validator, read)
    rendered = RENDERERS[output](report)
    if output == "text" and ctx.quiet:
        rendered = "".join(line + "\n" for line in rendered.splitlines()[:-1])
    click.echo(rendered, nl=False)
    if output not in ("text", "github") and not ctx.quiet:
        click.echo(f"rtc: {summary(report)}", err=True)
    if not report.ok:
        sys.exit(EXIT_FINDINGS)
