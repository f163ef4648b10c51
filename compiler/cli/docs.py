"""`rtc docs rules`: write or check the generated rules reference."""

from __future__ import annotations

import sys

import click

from compiler.cli.app import EXIT_FINDINGS, Context, cli, fail_usage, print_diagnostics
from compiler.diagnostics import has_errors
from compiler.docs_rules import docs_settings, rules_document
from compiler.project import ProjectError


@cli.group("docs")
def docs_group() -> None:
    """Generated documentation."""


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
