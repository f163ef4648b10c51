"""`rtc build` and `rtc show`."""

from __future__ import annotations

import difflib
import os
import sys
import time
from typing import TYPE_CHECKING

import click

from compiler import stamp
from compiler.cli.app import (
    EXIT_FINDINGS,
    Context,
    cli,
    fail_usage,
    formatted_diagnostics,
    progress_line,
    run_build,
    summarize,
)
from compiler.emit import to_yaml
from compiler.output import (
    INDEX_NAME,
    LOCK_NAME,
    OutputError,
    Plan,
    apply,
    build_lock,
    digest,
    interrupted_build,
    recover,
    replan,
)
from compiler.project import Project
from compiler.targets import DELIVERY_FOLDERS

if TYPE_CHECKING:
    from compiler.pipeline import BuildResult


@cli.command("build")
@click.option("-t", "--target", "targets", multiple=True, metavar="NAME", help="Build only this cluster (repeatable).")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 and list every file that would change.")
@click.option(
    "-j", "--jobs", type=click.IntRange(min=1), help="Worker processes (default: one per core, at most one per target)."
)
@click.option(
    "--no-cache",
    is_flag=True,
    help="Render every target, ignoring and not updating the build cache (.rtc-cache/).",
)
@click.option(
    "--lock-timeout",
    type=click.FloatRange(min=0),
    default=60.0,
    show_default=True,
    help="Seconds to wait for another build of the same repository.",
)
@click.pass_obj
def build_command(
    ctx: Context, targets: tuple[str, ...], check: bool, jobs: int | None, no_cache: bool, lock_timeout: float
) -> None:
    """Render the clusters into out/<cluster>/.

    Evaluates every overlay (or the --target ones), checks and normalizes the
    objects, and replaces out/ atomically: a failed or interrupted build leaves
    out/ exactly as it was. Files rtc did not write are never touched.
    Targets whose sources did not change since the last build come from the
    build cache in .rtc-cache/ (see docs/performance.md).

    \b
    Examples:
      rtc build
      rtc build --target prod-airgap
      rtc build --check        # in CI: is the committed out/ current?
    """
    started = time.perf_counter()
    project = ctx.project()
    try:
        # The whole build holds the lock (shared for --check, which only reads):
        # a plan is never made from an out/ that another build is swapping.
        with build_lock(project.root, lock_timeout, shared=check):
            _build_locked(ctx, project, targets, jobs, check, no_cache, started)
    except OutputError as exc:
        click.echo(f"rtc: error: {exc}", err=True)
        sys.exit(EXIT_FINDINGS)


def _build_locked(
    ctx: Context,
    project: Project,
    targets: tuple[str, ...],
    jobs: int | None,
    check: bool,
    no_cache: bool,
    started: float,
) -> None:
    out_name = project.out_dir_name
    if check:
        interrupted = interrupted_build(project.out_dir)
        if interrupted:
            raise OutputError(interrupted)
    # A full build records a stamp that the next one checks before loading anything (compiler/stamp.py):
    # taken before anything is read, with the time from which out/ is read (the lock was just written).
    engine = ctx.engine or project.engine
    stamp_key = None if check or no_cache or targets else stamp.build_key(str(project.root), engine)
    locked_at_ns = os.stat(project.root / LOCK_NAME).st_mtime_ns if not check else 0
    read_since_ns = locked_at_ns if stamp_key else 0
    # --check reads the build cache but writes nothing, not even the cache.
    result = run_build(ctx, project, targets, jobs, use_cache=not no_cache, keep_objects=False, store_cache=not check)
    if not result.ok or result.plan is None:
        click.echo(f"rtc: build failed: {summarize(result.all_diagnostics)}; {out_name}/ left unchanged", err=True)
        sys.exit(EXIT_FINDINGS)
    change = result.plan
    if check:
        report_foreign(ctx, out_name, change.foreign)
        elapsed = time.perf_counter() - started
        if change.is_current:
            ctx.info(f"{out_name}/ is current ({len(change.desired)} files, {elapsed:.2f}s)")
            return
        for label, paths in (("added", change.added), ("changed", change.changed), ("removed", change.removed)):
            for rel in paths:
                click.echo(f"{label:8} {out_name}/{rel}")
        click.echo(
            f"rtc: {out_name}/ is out of date: {len(change.added)} to add, {len(change.changed)} to change, "
            f"{len(change.removed)} to remove; run `make build` and commit {out_name}/",
            err=True,
        )
        sys.exit(EXIT_FINDINGS)
    # The whole build holds the lock, so out/ is as planned unless a killed build's tree was just put back.
    if recover(project.root, project.out_dir):
        change = replan(project.out_dir, change)
    # The replaced tree is kept in .rtc-cache/ to stage the next build from, unless the cache is off.
    written_since_ns = apply(
        project.root, project.out_dir, change, keep_spare_since_ns=None if no_cache else locked_at_ns
    )
    if stamp_key:
        record_stamp(project, stamp_key, result, change, read_since_ns, written_since_ns)
    report_foreign(ctx, out_name, change.foreign)
    elapsed = time.perf_counter() - started
    if change.is_current:
        ctx.info(f"{out_name}/ is current ({len(change.desired)} files, {elapsed:.2f}s)")
    else:
        ctx.info(
            f"wrote {out_name}/: {len(change.added)} added, {len(change.changed)} changed, "
            f"{len(change.removed)} removed, {len(change.unchanged)} unchanged ({elapsed:.2f}s)"
        )


def record_stamp(
    project: Project,
    key: tuple[str, str, bytes],
    result: BuildResult,
    change: Plan,
    read_since_ns: int,
    written_since_ns: int | None,
) -> None:
    """The stamp of this successful full build; none when its targets disagree on a
    source (edited while the build ran): the next build then runs in full."""
    sources: dict[str, str] = {}
    folders: dict[str, str] = {}
    absent: set[str] = set()
    clusters = [r for r in result.renders if r.target.name not in DELIVERY_FOLDERS]
    for render in clusters:
        read = [*render.imports.items(), *render.inputs.items()]
        for rel, seen in read:
            merged = folders if rel.endswith("/") else sources
            if merged.setdefault(rel, seen) != seen:
                stamp.forget(str(project.root))
                return
        absent.update(render.absent)
    # The index as written, or as out/ has it when nothing was written.
    written_index = written_since_ns is not None
    index_digest = digest(change.index()) if written_index else stamp.sha256_of(str(project.out_dir / INDEX_NAME))
    if index_digest is None:
        stamp.forget(str(project.root))
        return
    recorded = stamp.record(
        str(project.root),
        key=key,
        out_name=project.out_dir_name,
        targets=[t.entry for t in result.targets],
        sources=sources,
        absent=absent,
        folders=folders,
        digests={**change.digests(), INDEX_NAME: index_digest},
        written={*change.written, INDEX_NAME} if written_index else set(),
        read_since_ns=read_since_ns,
        written_since_ns=written_since_ns,
        files=len(change.desired),
        progress=[progress_line(r, "unchanged") for r in clusters],
        diagnostics=formatted_diagnostics(result.all_diagnostics),
        kept=change.foreign,
    )
    if not recorded:
        stamp.forget(str(project.root))


def report_foreign(ctx: Context, out_name: str, foreign: list[str]) -> None:
    for rel in foreign:
        ctx.info(f"kept {out_name}/{rel} (not written by rtc)")


@cli.command("show")
@click.argument("target")
@click.option(
    "-r", "--runtime", "runtimes", multiple=True, metavar="NAME", help="Only this runtime's objects (repeatable)."
)
@click.pass_obj
def show_command(ctx: Context, target: str, runtimes: tuple[str, ...]) -> None:
    """Print a cluster's rendered YAML on stdout; nothing is written.

    Lint findings do not stop it (`rtc lint` reports them), so a runtime
    that fails lint can still be inspected.

    \b
    Examples:
      rtc show demo
      rtc show prod-airgap --runtime vllm
    """
    project = ctx.project()
    result = run_build(ctx, project, (target,), 1, lint=False)
    if not result.ok:
        click.echo(f"rtc: {target} failed: {summarize(result.all_diagnostics)}", err=True)
        sys.exit(EXIT_FINDINGS)
    objects = [
        obj
        for render in result.renders
        if render.cluster and render.target.name == target
        for obj in render.cluster.objects
    ]
    known = sorted({obj.runtime for obj in objects})
    for name in runtimes:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"runtimes in {target}: {', '.join(known)}"
            fail_usage(f"no runtime {name!r} in cluster {target}; {hint}")
    selected = [obj for obj in objects if not runtimes or obj.runtime in runtimes]
    click.echo("---\n".join(to_yaml(obj.body) for obj in selected), nl=False)
