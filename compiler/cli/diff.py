"""`rtc diff`: what a change does to the rendered output, for review."""

from __future__ import annotations

import sys

import click

from compiler import diff_report
from compiler.cli.app import EXIT_FINDINGS, EXIT_USAGE, Context, cli, print_diagnostics
from compiler.diff import compare

FORMATS = {"text": diff_report.text, "markdown": diff_report.markdown, "json": diff_report.as_json}


@cli.command("diff")
@click.option(
    "--base", "base_ref", metavar="REF", help="Compare with this revision (default: the merge base with main)."
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(sorted(FORMATS)),
    default="text",
    show_default=True,
    help="markdown is a ready pull-request comment.",
)
@click.option("--exit-code", is_flag=True, help="Exit 1 when the rendered output differs.")
@click.pass_obj
def diff_command(ctx: Context, base_ref: str | None, output_format: str, exit_code: bool) -> None:
    """Show how the working tree changes the rendered output, object by object.

    Renders the catalog at REF (checked out in a temporary git worktree) and in
    the working tree, both with this compiler, and compares them per cluster and
    object, field by field. Uncommitted edits count; out/ is not read.

    \b
    Examples:
      rtc diff
      rtc diff --base origin/main --format markdown > comment.md
      rtc diff --base v1.4.0 --exit-code
    """
    project = ctx.project()
    comparison = compare(project, base_ref, ctx.engine)
    if comparison.diff is None:
        print_diagnostics(comparison.diagnostics)
        usage = any(d.code == "E501" for d in comparison.diagnostics)
        sys.exit(EXIT_USAGE if usage else EXIT_FINDINGS)
    click.echo(FORMATS[output_format](comparison), nl=False)
    if exit_code and not comparison.diff.empty:
        sys.exit(EXIT_FINDINGS)
