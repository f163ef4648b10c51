"""The build pipeline: targets -> evaluate -> normalize -> validate -> emit -> lint -> plan/apply.

Each stage returns data and diagnostics; nothing here prints. Targets are
independent, so they render in worker processes (compiler/workers.py, one
forked process per target); results are put back in target order, which
keeps the output identical for any number of workers. A target whose inputs
did not change since the last build comes from the cache (compiler/cache.py)
instead: the whole TargetRender, so every stage's result is reused.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypedDict, Unpack

from compiler import spare_tree
from compiler.cache import BuildCache
from compiler.delivery import DELIVERY_KINDS, render_delivery
from compiler.diagnostics import Diagnostic, SourceSpan, error, has_errors
from compiler.emit import emit_cluster
from compiler.engines import get_engine
from compiler.evaluate import evaluate_entry
from compiler.fingerprint import folder_digest
from compiler.gitops import read_cluster_delivery
from compiler.limits import build_size_problems, object_size_problems
from compiler.model import ClusterRender
from compiler.normalize import normalize
from compiler.output import Plan, Survey, plan, survey
from compiler.project import CONFIG_NAME, Project
from compiler.spare_tree import Spare
from compiler.stamp import settled_digests
from compiler.targets import DELIVERY_FOLDERS, Target, discover, select

if TYPE_CHECKING:
    from compiler import workers
    from compiler.reuse import PreviousRender, ReuseMemo
    from compiler.watchdog import ChildDied, Overrun


@dataclass
class TargetRender:
    target: Target
    # Without `keep_objects` (rtc build), cluster.objects is empty: see render().
    cluster: ClusterRender | None = None
    object_count: int = 0
    files: dict[str, bytes] = field(default_factory=dict)
    imports: dict[str, str] = field(default_factory=dict)
    # Import candidates that did not exist; with `imports`, what the cache checks.
    absent: list[str] = field(default_factory=list)
    # Other files and folders (ending in "/") the stages read, with their digests:
    # the cache checks these too. A stage that reads a new input records it here.
    inputs: dict[str, str] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    seconds: float = 0.0
    from_cache: bool = False
    # What the next render of this target may take over (compiler/reuse.py): kept in the
    # cache entry, never handed back to the parent (_Finish drops it).
    reuse: ReuseMemo | None = None
    # How many objects kept the bytes of the target's previous render (compiler/reuse.py).
    reused_objects: int = 0

    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics)


@dataclass
class BuildResult:
    renders: list[TargetRender] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    plan: Plan | None = None
    targets: list[Target] = field(default_factory=list)
    cache: BuildCache | None = None

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


CATALOG_KINDS = (
    ("serving.kserve.io/v1alpha1", "ClusterServingRuntime"),
    ("serving.kserve.io/v1alpha1", "ServingRuntime"),
)


def prepare_render_stages(lint: bool) -> None:
    """Import what rendering a target needs beyond what a build from the cache
    needs, load the bundled schemas' index and compile the validators of the
    kinds the catalog renders (CATALOG_KINDS).

    Not at module level: a no-op build, where every target comes from the cache,
    never loads validation, lint and its rules (a third of its start-up). Called
    before workers are forked, so that they inherit all this instead of each
    loading it again. (Not the Jsonnet engine: go-jsonnet starts Go's runtime
    threads when loaded, and a forked child gets none of them.)"""
    from compiler.validation import default_validator

    validator = default_validator()
    # Compiling a kind's schema took ~20 ms in each worker; the kinds rtc.runtime renders
    # (catalog/lib/rtc.libsonnet) are compiled here once. Other kinds compile where met.
    for api_version, kind in CATALOG_KINDS:
        validator.prepare(api_version, kind)
    import compiler.validation.rendered

    # Not PyYAML: the emitter writes every scalar of a catalog itself (compiler/yaml_emitter.py).
    if lint:
        import compiler.lint_inputs  # noqa: F401


def render_target(
    project: Project,
    target: Target,
    engine_name: str,
    lint: bool = True,
    *,
    collect_garbage: bool = True,
    previous: PreviousRender | None = None,
) -> TargetRender:
    """Evaluate, normalize, validate, emit and lint one cluster. `previous`: the
    target's last render, whose unchanged objects keep their bytes and findings."""
    from compiler.reuse import Reuse
    from compiler.validation import default_validator
    from compiler.validation.rendered import validate_cluster

    started = time.perf_counter()
    result = TargetRender(target=target)
    engine = get_engine(engine_name, collect_garbage=collect_garbage)
    evaluated = evaluate_entry(project, target.entry, engine, target=target.name)
    result.imports = evaluated.imports
    result.absent = evaluated.absent
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
                result.object_count = len(cluster.objects)
                reuse = Reuse(previous)
                result.files = emit_cluster(cluster, reuse)
                result.reuse = reuse.memo
                result.reused_objects = reuse.reused_files
                if lint:
                    from compiler.lint_inputs import lint_cluster, services_dir

                    # Lint also reads the cluster's services folder: an input for the cache.
                    services = services_dir(project, target.name)
                    result.inputs[services.relative_to(project.root).as_posix() + "/"] = folder_digest(services)
                    result.diagnostics.extend(lint_cluster(project, cluster, result.files, evaluated.imports, reuse))
    if result.cluster is not None:
        # Here, where the render is made: a worker hands back no objects (keep_objects off),
        # and a render with a problem must not reach the build cache.
        result.diagnostics.extend(object_size_problems(result.cluster, result.files, project.limits))
    result.seconds = time.perf_counter() - started
    return result


# ---- Reliability (issue 6): limits around render_target. Each target renders in
# a worker process that is killed after limits.eval-seconds (compiler/watchdog.py:
# native Jsonnet cannot be interrupted in-process), and every rendered object is
# checked against limits.object-bytes.
def render_target_limited(
    project: Project, target: Target, engine_name: str, lint: bool = True, previous: PreviousRender | None = None
) -> TargetRender:
    from compiler.watchdog import ChildDied, Overrun, run_bounded

    limits = project.limits
    if limits.eval_seconds <= 0:
        render = render_target(project, target, engine_name, lint, previous=previous)
    else:
        try:
            render = run_bounded(_render_with, (project, target, engine_name, lint, previous), limits.eval_seconds)
        except (Overrun, ChildDied) as exc:
            return TargetRender(target=target, diagnostics=[_render_failure(target, exc)])
    return render


def _render_with(
    project: Project, target: Target, engine_name: str, lint: bool, previous: PreviousRender | None
) -> TargetRender:
    return render_target(project, target, engine_name, lint, previous=previous)


def _render_failure(target: Target, exc: Overrun | ChildDied) -> Diagnostic:
    from compiler.watchdog import Overrun

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


Finish = Callable[[TargetRender], TargetRender]


def _render_in_worker(
    project: Project, engine_name: str, lint: bool, finish: Finish | None, target: Target
) -> TargetRender:
    # The target's last render in the cache (its sources changed, or it would not render).
    previous = finish.previous(target) if isinstance(finish, _Finish) else None
    # No collection: the engine's garbage is freed when the worker exits (compiler/workers.py).
    result = render_target(project, target, engine_name, lint, collect_garbage=False, previous=previous)
    return finish(result) if finish else result


def _crashed(target: Target, crash: workers.Crash, seconds: float) -> TargetRender:
    """A forked worker that gave no result: the same diagnostics as the watchdog's."""
    from compiler.watchdog import ChildDied, Overrun

    failure = Overrun(seconds) if crash.timed_out else ChildDied(crash.message)
    return TargetRender(target=target, diagnostics=[_render_failure(target, failure)])


def render_targets(
    project: Project,
    targets: list[Target],
    engine_name: str,
    jobs: int,
    on_done: Callable[[TargetRender], None] | None = None,
    lint: bool = True,
    finish: Finish | None = None,
    meanwhile: Callable[[], None] | None = None,
) -> list[TargetRender]:
    """Render the targets in `jobs` forked worker processes, each serving several
    targets (one target too: a worker skips the engine's garbage collection and
    inherits the prepared stages). `finish` runs on each render where it was made
    (in the worker), before it is handed back. The workers fork from the helper
    compiler/startup.py started, if there is one (compiler/prefork.py); then
    `meanwhile` runs here while they work."""
    if not targets:
        return []
    from compiler import prefork

    renders: list[TargetRender] = []

    def take(render_: TargetRender) -> None:
        if on_done:
            on_done(render_)
        renders.append(render_)

    if engine_name == "rjsonnet":
        handed = prefork.render(project, targets, engine_name, jobs, lint, finish, take, meanwhile)
    else:
        prefork.discard()
        handed = 0
    render_targets_here(project, targets[handed:], engine_name, jobs, take, lint, finish)
    return renders


def render_targets_here(
    project: Project,
    targets: list[Target],
    engine_name: str,
    jobs: int,
    on_done: Callable[[TargetRender], None] | None = None,
    lint: bool = True,
    finish: Finish | None = None,
) -> list[TargetRender]:
    """render_targets with workers forked from this process."""
    if not targets:
        return []
    from compiler import workers

    prepare_render_stages(lint)
    if not workers.fork_available() or "_gojsonnet" in sys.modules:
        # Without fork, or once go-jsonnet's runtime is loaded here (a forked child
        # calling into it hangs): the watchdog's worker, started from a clean server.
        renders = []
        for target in targets:
            previous = finish.previous(target) if isinstance(finish, _Finish) else None
            render = render_target_limited(project, target, engine_name, lint, previous)
            if finish:
                render = finish(render)
            if on_done:
                on_done(render)
            renders.append(render)
        return renders
    renders = []

    def collect(index: int, outcome: TargetRender | workers.Crash) -> None:
        render = (
            _crashed(targets[index], outcome, project.limits.eval_seconds)
            if isinstance(outcome, workers.Crash)
            else outcome
        )
        if on_done:
            on_done(render)
        renders.append(render)

    worker = functools.partial(_render_in_worker, project, engine_name, lint, finish)
    workers.run_forked(worker, targets, jobs, collect, timeout=project.limits.eval_seconds)
    return renders


def prepare_delivery_validation() -> None:
    """Compile the GitOps folders' validators (the Argo CD schemas took ~40 ms)."""
    from compiler.validation import default_validator

    validator = default_validator()
    for api_version, kind in DELIVERY_KINDS:
        validator.prepare(api_version, kind)


@dataclass(frozen=True)
class _Finish:
    """What a render's worker does with it before handing it back: store it in the
    cache, drop its objects. A class, not a closure: it travels to the prefork helper."""

    cache: BuildCache | None
    keep_objects: bool

    def previous(self, target: Target) -> PreviousRender | None:
        """What the target's last stored render leaves to reuse (none without the cache)."""
        return self.cache.previous(target) if self.cache is not None else None

    def __call__(self, render_: TargetRender) -> TargetRender:
        if self.cache is not None:
            self.cache.store(render_)
        render_.reuse = None  # the next render's business, not the caller's
        if not self.keep_objects and render_.cluster is not None:
            render_.cluster = dataclasses.replace(render_.cluster, objects=[])
        return render_


class RenderOptions(TypedDict, total=False):
    """`render`'s keyword options, which `build` passes on."""

    engine_name: str | None
    jobs: int | None
    on_done: Callable[[TargetRender], None] | None
    lint: bool
    use_cache: bool
    keep_objects: bool
    store_cache: bool


def build(project: Project, target_names: tuple[str, ...] = (), **options: Unpack[RenderOptions]) -> BuildResult:
    """Render the selected targets and plan the change to out/ (nothing is written).

    Options as for `render`; with `lint` (the default) every cluster is linted,
    and a lint error fails the build."""
    # The spare tree is in .rtc-cache/: --no-cache neither reads nor writes it.
    ahead = _OutAhead(project, with_spare=options.get("use_cache", True))
    result = render(project, target_names, meanwhile=ahead.take, **options)
    if result.ok:
        result.diagnostics.extend(build_size_problems(result.files, project.limits))  # reliability (issue 6)
    if result.ok:
        # out/argocd/ and out/flux/ depend on every overlay: a --target build rewrites them too.
        scope = {t.name for t in result.targets} | set(DELIVERY_FOLDERS) if target_names else None
        ahead.take()
        result.plan = plan(project.out_dir, result.files, scope, ahead.known, ahead.surveyed)
        result.plan.spare = ahead.spare
    return result


class _OutAhead:
    """What the plan needs of out/ apart from the new files, taken while the targets
    render (the parent only waits for them then; the build lock keeps out/ as it is):
    the digests the last full build's stamp vouches for, out/'s index and listing, and
    the spare tree to stage the new out/ from (compiler/spare_tree.py)."""

    def __init__(self, project: Project, *, with_spare: bool) -> None:
        self.project = project
        self.with_spare = with_spare
        self.taken = False
        self.known: dict[str, str] = {}
        self.surveyed: Survey | None = None
        self.spare: Spare | None = None

    def take(self) -> None:
        if self.taken:
            return
        self.taken = True
        # The files the last full build left, as its stamp recorded them: not read again.
        self.known = settled_digests(str(self.project.root), self.project.out_dir_name)
        self.surveyed = survey(self.project.out_dir)
        self.spare = spare_tree.check(self.project.root) if self.with_spare else None


def render(
    project: Project,
    target_names: tuple[str, ...] = (),
    *,
    engine_name: str | None = None,
    jobs: int | None = None,
    on_done: Callable[[TargetRender], None] | None = None,
    lint: bool = True,
    use_cache: bool = True,
    keep_objects: bool = True,
    store_cache: bool = True,
    meanwhile: Callable[[], None] | None = None,
) -> BuildResult:
    """Render the selected targets and the GitOps folders; out/ is not read.
    `meanwhile` runs while the targets render, if any do.

    A target whose inputs did not change comes from the cache in .rtc-cache/
    (updated unless `use_cache` or `store_cache` is off: `rtc build --check`
    reads it but writes nothing). With `keep_objects` off, the renders'
    `cluster.objects` come back empty (`object_count` says how many there
    were): far less to load, copy and keep at scale, for callers that need
    only files and diagnostics (rtc build)."""
    result = BuildResult()
    targets, problems = select(project, target_names)
    result.targets = targets
    result.diagnostics.extend(problems)
    if has_errors(problems):
        return result
    engine = engine_name or project.engine
    cache = result.cache = BuildCache(project, engine, variant="" if lint else "nolint") if use_cache else None
    cached = {t: r for t in targets if cache and (r := cache.lookup(t, with_objects=keep_objects)) is not None}
    for render_ in cached.values():
        if on_done:
            on_done(render_)
    stale = [t for t in targets if t not in cached]

    finish = _Finish(cache if store_cache else None, keep_objects)
    # With every target to render, the GitOps folders will change too: their validators are
    # compiled here while the helper's workers render, rather than after them.
    prepare = prepare_delivery_validation if stale and not cached else None

    def during() -> None:
        if prepare is not None:
            prepare()
        if meanwhile is not None:
            meanwhile()

    fresh = render_targets(project, stale, engine, jobs or default_jobs(len(stale)), on_done, lint, finish, during)
    if cache and store_cache and not target_names:
        cache.prune(targets)
    by_target = {**cached, **{r.target: r for r in fresh}}
    result.renders = [by_target[t] for t in targets]
    if result.ok:
        clusters = [r.cluster for r in result.renders if r.cluster is not None]
        folders, problems = render_delivery(project, discover(project)[0], clusters, engine)
        result.diagnostics.extend(problems)
        for folder in folders:
            rendered = delivery_render(folder)
            invalid = _delivery_problems(project, cache, folder, rendered.files, remember=store_cache)
            result.diagnostics.extend(invalid)
            if not has_errors(invalid):
                result.renders.append(rendered)
    return result


def _delivery_problems(
    project: Project, cache: BuildCache | None, folder: ClusterRender, files: dict[str, bytes], *, remember: bool
) -> list[Diagnostic]:
    """The validation of a GitOps folder, remembered by its files' digest: the same
    bytes are the same objects. (Compiling the Argo CD schemas took a fifth of a no-op build.)"""
    digest = hashlib.sha256()
    for path, data in sorted(files.items()):
        digest.update(path.encode() + b"\0" + hashlib.sha256(data).digest())
    name = f"delivery-{folder.cluster}"
    found = cache.recall(name, digest.hexdigest()) if cache else None
    if isinstance(found, list) and all(isinstance(d, Diagnostic) for d in found):
        return found
    from compiler.validation import default_validator
    from compiler.validation.rendered import validate_cluster

    invalid = validate_cluster(folder, default_validator(), project.out_dir_name)
    if cache and remember:
        cache.remember(name, digest.hexdigest(), invalid)
    return invalid


def delivery_render(folder: ClusterRender) -> TargetRender:
    """A GitOps folder as a render of its own (no overlay: its files come from several)."""
    return TargetRender(
        target=Target(name=folder.cluster, entry=CONFIG_NAME), cluster=folder, files=emit_cluster(folder)
    )
