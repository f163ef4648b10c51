"""`rtc docs`: write the generated documents, or check that they are current."""

from __future__ import annotations

import sys

import click

from compiler import docs_catalog as _docs_catalog  # noqa: F401  (registers docs/catalog.md)
from compiler.cli.app import EXIT_FINDINGS, Context, cli, print_diagnostics
from compiler.generated_docs import REGISTRY, update


@cli.command("docs")
@click.argument("names", nargs=-1, metavar="[NAME]...")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if a document is missing or out of date.")
@click.pass_obj
def docs_command(ctx: Context, names: tuple[str, ...], check: bool) -> None:
    """Generate the documents that are made from the sources (all, or the NAMEs).

    \b
    Documents:
      catalog   docs/catalog.md: runtime x hardware x cluster, images, required settings

    \b
    Examples:
      rtc docs
      rtc docs --check      # in CI: are the generated docs current?
    """
    project = ctx.project()
    unknown = [name for name in names if name not in REGISTRY]
    if unknown:
        raise click.UsageError(f"no generated document {unknown[0]!r}; choose from: {', '.join(sorted(REGISTRY))}")
    chosen = [REGISTRY[name] for name in (names or sorted(REGISTRY))]
    results = update(project, chosen, check=check, engine_name=ctx.engine)
    failed = False
    for result in results:
        print_diagnostics(result.diagnostics)
        if result.status in ("stale", "missing"):
            click.echo(f"{result.status:8} {result.doc.path}")
            failed = True
        elif result.status == "failed":
            click.echo(f"rtc: {result.doc.path} not generated: the sources have errors", err=True)
            failed = True
        else:
            ctx.info(f"{result.doc.path} {result.status}")
    if failed and check:
        click.echo("rtc: generated docs are out of date; run `rtc docs` and commit them", err=True)
    if failed:
        sys.exit(EXIT_FINDINGS)
