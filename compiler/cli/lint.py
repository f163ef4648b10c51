"""`rtc lint` and `rtc rules`."""

from __future__ import annotations

import difflib
import os
import sys
from pathlib import Path

import click

from compiler.cli.app import EXIT_FINDINGS, EXIT_USAGE, Context, cli, fail_usage
from compiler.diagnostics import Diagnostic, has_errors
from compiler.lint import LintConfig, load_lint_config
from compiler.lint_inputs import cluster_subjects, lint_files, load_files
from compiler.lint_report import FORMATS, render, summary_line
from compiler.pipeline import BuildResult, build
from compiler.project import Project, ProjectError, load_project
from compiler.rules import RULES


def _config(project: Project) -> LintConfig:
    try:
        return load_lint_config(project)
    except ProjectError as exc:
        fail_usage(str(exc))
        raise  # unreachable


def _display(path: Path) -> str:
    """How a user's file is named in messages: relative to the working folder when inside it."""
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def _build(ctx: Context, project: Project, targets: tuple[str, ...], *, lint: bool) -> BuildResult:
    result = build(project, targets, engine_name=ctx.engine, lint=lint)
    unknown = [d for d in result.diagnostics if d.code == "E003"]
    if unknown:
        fail_usage("; ".join(d.message + (f" ({d.hint})" if d.hint else "") for d in unknown))
    return result


@cli.command("lint")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("-t", "--target", metavar="NAME", help="The cluster whose runtimes, platform and registries apply.")
@click.option(
    "--platform",
    metavar="NAME",
    help="Platform profile for files linted without --target (default: rtc.toml [lint] platform, else alauda).",
)
@click.option("-o", "--output", type=click.Choice(FORMATS), default="text", show_default=True, help="Output format.")
@click.pass_obj
def lint_command(ctx: Context, paths: tuple[Path, ...], target: str | None, platform: str | None, output: str) -> None:
    """Check runtimes and InferenceServices against the platform's rules.

    Without PATH, renders the catalog (every cluster, or --target's) and lints
    the result and each cluster's overlays/<cluster>/services/*.yaml; nothing
    is written. With PATHs (files or folders of YAML), lints those manifests:
    InferenceServices are checked against the runtimes --target's cluster
    gets, plus the runtimes among the files.

    Findings are `file:line:col: severity: message (RTC###)`; exit code 1 when
    any is an error. `rtc rules` lists the rules; rtc.toml's [lint.severity]
    changes a rule's severity.

    \b
    Examples:
      rtc lint
      rtc lint --target prod-airgap --output sarif > rtc.sarif
      rtc lint my-isvc.yaml --target demo
      rtc lint tests/fixtures/seed --platform kserve
    """
    project = ctx.project()
    config = _config(project)
    if platform is not None and target is not None:
        fail_usage("--platform applies to files linted without --target; a target brings its own platform")
    diagnostics: list[Diagnostic] = []
    if not paths:
        if platform is not None:
            fail_usage("--platform applies to files given as PATH; the catalog's clusters bring their own platform")
        diagnostics = _build(ctx, project, (target,) if target else (), lint=True).all_diagnostics
    else:
        loaded = load_files(list(paths), {p: _display(p) for p in _every(paths)})
        diagnostics.extend(loaded.diagnostics)
        if target is not None:
            rendered = _build(ctx, project, (target,), lint=False)
            render_ = rendered.renders[0] if rendered.renders else None
            cluster = render_.cluster if render_ else None
            if render_ is None or cluster is None or not rendered.ok:
                diagnostics.extend(rendered.all_diagnostics)
                _emit(diagnostics, output)
                click.echo(f"rtc: cluster {target} does not render, so the files were not linted", err=True)
                sys.exit(EXIT_FINDINGS)
            runtimes = cluster_subjects(project, cluster, render_.files, render_.imports)
            diagnostics.extend(
                lint_files(
                    loaded.subjects,
                    config,
                    platform=cluster.platform,
                    cluster=cluster.cluster,
                    allowed_registries=cluster.allowed_registries,
                    cluster_runtimes=runtimes,
                )
            )
        else:
            diagnostics.extend(lint_files(loaded.subjects, config, platform=platform or config.platform))
    _emit(diagnostics, output)
    ctx.info(summary_line(diagnostics))
    if has_errors(diagnostics):
        sys.exit(EXIT_FINDINGS)


def _every(paths: tuple[Path, ...]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        found.extend([path, *path.rglob("*")] if path.is_dir() else [path])
    return found


def _emit(diagnostics: list[Diagnostic], output: str) -> None:
    click.echo(render(diagnostics, output), nl=False)


@cli.command("rules")
@click.argument("rule_id", required=False, metavar="[RULE]")
@click.pass_obj
def rules_command(ctx: Context, rule_id: str | None) -> None:
    """List every lint rule with its severity here, or show one rule's documentation.

    \b
    Examples:
      rtc rules
      rtc rules RTC602
    """
    try:
        project: Project | None = load_project(ctx.root)
    except ProjectError:
        project = None  # outside a catalog repository: the defaults
    config = _config(project) if project is not None else LintConfig()
    if rule_id is not None:
        wanted = rule_id.upper()
        if wanted not in RULES:
            close = difflib.get_close_matches(wanted, sorted(RULES), n=1)
            hint = f"; did you mean {close[0]}?" if close else "; `rtc rules` lists them"
            click.echo(f"rtc: error: no rule {rule_id!r}{hint}", err=True)
            sys.exit(EXIT_USAGE)
        rule = RULES[wanted]
        severity = config.severity_of(wanted)
        click.echo(f"{rule.id} ({severity.value if severity else 'off'}): {rule.summary}\n\n{rule.doc}")
        return
    for rid in sorted(RULES):
        severity = config.severity_of(rid)
        click.echo(f"{rid}  {severity.value if severity else 'off':7}  {RULES[rid].summary}")
