"""`rtc docs`: write or check the generated documents (docs/catalog.md, docs/rules.md)."""

from __future__ import annotations

import sys

import click

from compiler.cli.app import EXIT_FINDINGS, Context, cli, fail_usage, print_diagnostics
from compiler.diagnostics import has_errors
from compiler.docs_catalog import DOCUMENT, generate
from compiler.docs_rules import docs_settings, rules_document
from compiler.generated_docs import CURRENT, MISSING, STALE, write_or_check
from compiler.project import ProjectError


@cli.group("docs", invoke_without_command=True)
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if a document is not what rtc would write.")
@click.pass_context
def docs_group(click_ctx: click.Context, check: bool) -> None:
    """Generated documentation: every document, or the one a subcommand names.

    \b
    Examples:
      rtc docs                 write docs/catalog.md and docs/rules.md
      rtc docs --check         in CI: are they all current?
      rtc docs catalog --check one of them
    """
    if click_ctx.invoked_subcommand is not None:
        if check:
            raise click.UsageError(f"put --check after the document: rtc docs {click_ctx.invoked_subcommand} --check")
        return
    # Each document's command exits on its own findings; run them all, then exit with the worst.
    worst = 0
    for _, command in sorted(docs_group.commands.items()):
        try:
            click_ctx.invoke(command, check=check)
        except SystemExit as exc:
            worst = max(worst, int(exc.code or 0))
    if worst:
        sys.exit(worst)


@docs_group.command("catalog")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if the file is not what rtc would write.")
@click.pass_obj
def docs_catalog_command(ctx: Context, check: bool) -> None:
    """Write docs/catalog.md: runtime x hardware x cluster, images, required settings.

    \b
    Examples:
      rtc docs catalog
      rtc docs catalog --check
    """
    project = ctx.project()
    text, problems = generate(project, ctx.engine)
    print_diagnostics(problems)
    if text is None or has_errors(problems):
        click.echo(f"rtc: the catalog does not build; {DOCUMENT} not generated", err=True)
        sys.exit(EXIT_FINDINGS)
    status = write_or_check(project.root / DOCUMENT, text, check=check)
    if status in (STALE, MISSING):
        click.echo(f"{status:8} {DOCUMENT}")
        click.echo(f"rtc: {DOCUMENT} is out of date; run `rtc docs catalog` and commit it", err=True)
        sys.exit(EXIT_FINDINGS)
    ctx.info(f"{DOCUMENT} is current" if status == CURRENT else f"wrote {DOCUMENT}")


@docs_group.command("rules")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if the file is not what rtc would write.")
@click.pass_obj
def docs_rules_command(ctx: Context, check: bool) -> None:
    """Write the lint rules reference (rtc.toml [docs] rules, default docs/rules.md).

    It holds every rule's documentation, the catalog's lint exceptions and,
    when rtc.toml sets [docs] rules-examples, the findings on those example
    manifests.

    \b
    Examples:
      rtc docs rules
      rtc docs rules --check     # in CI: is docs/rules.md current?
    """
    project = ctx.project()
    try:
        settings = docs_settings(project)
        text, problems = rules_document(project, ctx.engine)
    except ProjectError as exc:
        fail_usage(str(exc))
        return
    if has_errors(problems):
        print_diagnostics(problems)
        click.echo("rtc: the catalog does not build; docs not generated", err=True)
        sys.exit(EXIT_FINDINGS)
    path = project.root / settings.output
    current = path.read_text(encoding="utf-8") if path.is_file() else None
    if check:
        if current != text:
            click.echo(f"rtc: {settings.output} is out of date; run `rtc docs rules` and commit it", err=True)
            sys.exit(EXIT_FINDINGS)
        ctx.info(f"{settings.output} is current")
        return
    if current == text:
        ctx.info(f"{settings.output} is current")
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    ctx.info(f"wrote {settings.output}")
