"""The build pipeline: targets -> evaluate -> normalize -> validate -> emit -> lint -> plan/apply.

Each stage returns data and diagnostics; nothing here prints. Targets are
independent, so they render in a process pool; results are put back in
target order, which keeps the output identical for any number of workers.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

from compiler.delivery import render_delivery
from compiler.diagnostics import Diagnostic, SourceSpan, error, has_errors
from compiler.emit import emit_cluster
from compiler.engines import get_engine
from compiler.evaluate import evaluate_entry
from compiler.gitops import read_cluster_delivery
from compiler.limits import build_size_problems, object_size_problems
from compiler.lint_inputs import lint_cluster
from compiler.model import ClusterRender
from compiler.normalize import normalize
from compiler.output import Plan, plan
from compiler.project import CONFIG_NAME, Project
from compiler.targets import DELIVERY_FOLDERS, Target, discover, select
from compiler.validation import default_validator
from compiler.validation.rendered import validate_cluster
from compiler.watchdog import ChildDied, Overrun, die_with_parent, run_bounded


@dataclass
class TargetRender:
    target: Target
    cluster: ClusterRender | None = None
    files: dict[str, bytes] = field(default_factory=dict)
    imports: dict[str, str] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics)


@dataclass
class BuildResult:
    renders: list[TargetRender] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    plan: Plan | None = None
    targets: list[Target] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not has_errors(self.all_diagnostics)

    @property
    def all_diagnostics(self) -> list[Diagnostic]:
        found = list(self.diagnostics)
        for render in self.renders:
            found.extend(render.diagnostics)
        return found

    @property
    def files(self) -> dict[str, bytes]:
        merged: dict[str, bytes] = {}
        for render in self.renders:
            merged.update(render.files)
        return dict(sorted(merged.items()))


def render_target(project: Project, target: Target, engine_name: str, lint: bool = True) -> TargetRender:
    """Evaluate, normalize, validate, emit and lint one cluster."""
    started = time.perf_counter()
    result = TargetRender(target=target)
    evaluated = evaluate_entry(project, target.entry, get_engine(engine_name), target=target.name)
    result.imports = evaluated.imports
    result.diagnostics.extend(evaluated.diagnostics)
    if evaluated.ok:
        cluster, problems = normalize(target, evaluated.data, evaluated.imports)
        result.diagnostics.extend(problems)
        if cluster is not None and not has_errors(problems):
            invalid = validate_cluster(cluster, default_validator(), project.out_dir_name)
            problems = read_cluster_delivery(project, target, evaluated.data, cluster)
            result.diagnostics.extend(invalid + problems)
            if not has_errors(invalid + problems):
                result.cluster = cluster
                result.files = emit_cluster(cluster)
                if lint:
                    result.diagnostics.extend(lint_cluster(project, cluster, result.files, evaluated.imports))
    result.seconds = time.perf_counter() - started
    return result


# ---- Reliability (issue 6): limits around render_target. Each target renders in
# a worker process that is killed after limits.eval-seconds (compiler/watchdog.py:
# native Jsonnet cannot be interrupted in-process), and every rendered object is
# checked against limits.object-bytes.
def render_target_limited(project: Project, target: Target, engine_name: str, lint: bool = True) -> TargetRender:
    limits = project.limits
    if limits.eval_seconds <= 0:
        render = render_target(project, target, engine_name, lint)
    else:
        try:
            render = run_bounded(render_target, (project, target, engine_name, lint), limits.eval_seconds)
        except (Overrun, ChildDied) as exc:
            return TargetRender(target=target, diagnostics=[_render_failure(target, exc)])
    if render.cluster is not None:
        render.diagnostics.extend(object_size_problems(render.cluster, render.files, limits))
    return render


def _render_failure(target: Target, exc: Overrun | ChildDied) -> Diagnostic:
    if isinstance(exc, Overrun):
        return error(
            "E110",
            f"evaluating {target.entry} took longer than {exc.seconds:g}s (limits.eval-seconds) and was stopped",
            span=SourceSpan(target.entry),
            target=target.name,
            hint="look for a comprehension over a huge range or a recursion that grows without end; "
            "raise limits.eval-seconds in rtc.toml if the catalog is really that large",
        )
    return error(
        "E111",
        f"evaluating {target.entry} crashed the Jsonnet engine ({exc})",
        span=SourceSpan(target.entry),
        target=target.name,
        hint="usually a recursion too deep for the native stack or memory exhausted; "
        "lower limits.max-stack in rtc.toml, or try --engine gojsonnet for its message",
    )


# ---- end of reliability block


def default_jobs(target_count: int) -> int:
    return max(1, min(target_count, os.cpu_count() or 1))


def render_targets(
    project: Project,
    targets: list[Target],
    engine_name: str,
    jobs: int,
    on_done: Callable[[TargetRender], None] | None = None,
    lint: bool = True,
) -> list[TargetRender]:
    if jobs <= 1 or len(targets) <= 1:
        renders = []
        for target in targets:
            render = render_target_limited(project, target, engine_name, lint)
            if on_done:
                on_done(render)
            renders.append(render)
        return renders
    # initializer (reliability, issue 6): pool workers die with rtc instead of lingering after a kill.
    with ProcessPoolExecutor(max_workers=jobs, initializer=die_with_parent) as pool:
        futures = [pool.submit(render_target_limited, project, t, engine_name, lint) for t in targets]
        renders = []
        for future in futures:
            render = future.result()
            if on_done:
                on_done(render)
            renders.append(render)
    return renders


def build(
    project: Project,
    target_names: tuple[str, ...] = (),
    *,
    engine_name: str | None = None,
    jobs: int | None = None,
    on_done: Callable[[TargetRender], None] | None = None,
    lint: bool = True,
) -> BuildResult:
    """Render the selected targets and plan the change to out/ (nothing is written).

    With `lint` (the default) every cluster is linted; a lint error fails the build."""
    result = render(project, target_names, engine_name=engine_name, jobs=jobs, on_done=on_done, lint=lint)
    if result.ok:
        result.diagnostics.extend(build_size_problems(result.files, project.limits))  # reliability (issue 6)
    if result.ok:
        # out/argocd/ and out/flux/ depend on every overlay: a --target build rewrites them too.
        scope = {t.name for t in result.targets} | set(DELIVERY_FOLDERS) if target_names else None
        result.plan = plan(project.out_dir, result.files, scope)
    return result


def render(
    project: Project,
    target_names: tuple[str, ...] = (),
    *,
    engine_name: str | None = None,
    jobs: int | None = None,
    on_done: Callable[[TargetRender], None] | None = None,
    lint: bool = True,
) -> BuildResult:
    """Render the selected targets and the GitOps folders; out/ is not read."""
    result = BuildResult()
    targets, problems = select(project, target_names)
    result.targets = targets
    result.diagnostics.extend(problems)
    if has_errors(problems):
        return result
    engine = engine_name or project.engine
    result.renders = render_targets(project, targets, engine, jobs or default_jobs(len(targets)), on_done, lint)
    if result.ok:
        clusters = [r.cluster for r in result.renders if r.cluster is not None]
        folders, problems = render_delivery(project, discover(project)[0], clusters, engine)
        result.diagnostics.extend(problems)
        validator = default_validator()
        for folder in folders:
            invalid = validate_cluster(folder, validator, project.out_dir_name)
            result.diagnostics.extend(invalid)
            if not has_errors(invalid):
                result.renders.append(delivery_render(folder))
    return result


def delivery_render(folder: ClusterRender) -> TargetRender:
    """A GitOps folder as a render of its own (no overlay: its files come from several)."""
    return TargetRender(
        target=Target(name=folder.cluster, entry=CONFIG_NAME), cluster=folder, files=emit_cluster(folder)
    )
