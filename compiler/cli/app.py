"""The rtc command group and the helpers every command shares.

Exit codes: 0 ok, 1 findings (errors in the catalog, drift, invalid manifests),
2 usage errors (unknown options, unknown targets, no repository).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from compiler import __version__
from compiler.cli.lazy import LazyGroup
from compiler.diagnostics import Diagnostic, Severity
from compiler.engines import ENGINE_NAMES

# The pipeline, output and project modules are imported where they are used: `rtc --help`
# and the commands that do not build need none of them (see compiler/cli/lazy.py).
if TYPE_CHECKING:
    from compiler.pipeline import BuildResult, TargetRender
    from compiler.project import Project

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


class Context:
    def __init__(self, root: Path | None, engine: str | None, quiet: bool) -> None:
        self.root = root
        self.engine = engine
        self.quiet = quiet

    def project(self) -> Project:
        from compiler.project import ProjectError, load_project

        try:
            return load_project(self.root)
        except ProjectError as exc:
            fail_usage(str(exc))
            raise  # unreachable: fail_usage exits

    def info(self, message: str) -> None:
        if not self.quiet:
            click.echo(f"rtc: {message}", err=True)


def fail_usage(message: str) -> None:
    click.echo(f"rtc: error: {message}", err=True)
    sys.exit(EXIT_USAGE)


def formatted_diagnostics(diagnostics: list[Diagnostic]) -> list[str]:
    """The diagnostics as rtc prints them: errors first, then by target and place."""
    order = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}
    ordered = sorted(diagnostics, key=lambda d: (order[d.severity], d.target or "", str(d.span or "")))
    return [diagnostic.format() for diagnostic in ordered]


def print_diagnostics(diagnostics: list[Diagnostic]) -> None:
    for text in formatted_diagnostics(diagnostics):
        click.echo(text, err=True)


def summarize(diagnostics: list[Diagnostic]) -> str:
    errors = sum(d.severity is Severity.ERROR for d in diagnostics)
    warnings = sum(d.severity is Severity.WARNING for d in diagnostics)
    return f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}"


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="rtc")
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    help="The catalog repository (default: the nearest folder upwards with rtc.toml).",
)
@click.option("--engine", type=click.Choice(ENGINE_NAMES), help="Jsonnet engine (default: rtc.toml's, else rjsonnet).")
@click.option("-q", "--quiet", is_flag=True, help="Print only findings, no progress or timing.")
@click.pass_context
def cli(ctx: click.Context, root: Path | None, engine: str | None, quiet: bool) -> None:
    """rtc, the runtime catalog compiler.

    Compiles KServe serving runtimes written in Jsonnet (catalog/ runtimes,
    hardware/ profiles, overlays/ clusters) into validated, deterministic YAML
    in out/<cluster>/, ready for Argo CD or Flux.

    \b
    Typical use:
      rtc build            render every cluster into out/
      rtc build --check    exit 1 if out/ is not what the sources produce
      rtc show demo        print one cluster's YAML without writing anything
    """
    ctx.obj = Context(root, engine, quiet)


def progress_line(render: TargetRender, timing: str | None = None) -> str:
    """`demo: 8 objects (0.06s)`: what rtc says when a target is done (`timing` replaces the time)."""
    count = render.object_count
    status = f"{count} object{'s' * (count != 1)}" if render.ok else "failed"
    if timing is None:
        timing = "unchanged, from the cache" if render.from_cache else f"{render.seconds:.2f}s"
    return f"{render.target.name}: {status} ({timing})"


def report_progress(ctx: Context) -> object:
    def on_done(render: TargetRender) -> None:
        ctx.info(progress_line(render))

    return on_done


def run_build(
    ctx: Context,
    project: Project,
    targets: tuple[str, ...],
    jobs: int | None,
    *,
    lint: bool = True,
    use_cache: bool = True,
    keep_objects: bool = True,
    store_cache: bool = True,
) -> BuildResult:
    from compiler.output import OutputError
    from compiler.pipeline import build

    try:
        result = build(
            project,
            targets,
            engine_name=ctx.engine,
            jobs=jobs,
            on_done=report_progress(ctx),  # type: ignore[arg-type]
            lint=lint,
            use_cache=use_cache,
            keep_objects=keep_objects,
            store_cache=store_cache,
        )
    except OutputError as exc:
        click.echo(f"rtc: error: {exc}", err=True)
        sys.exit(EXIT_FINDINGS)
    print_diagnostics(result.all_diagnostics)
    if any(d.code in ("E003",) for d in result.diagnostics):
        sys.exit(EXIT_USAGE)
    return result
