"""What lint runs on: a rendered cluster (its out/ files, its layers, its
services) or YAML files given on the command line."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from compiler.diagnostics import Diagnostic, SourceSpan, error
from compiler.lint import LintConfig, lint, load_lint_config
from compiler.model import ClusterRender, RenderedObject
from compiler.project import Project, ProjectError
from compiler.reuse import Reuse, digest_of
from compiler.rules.registry import RUNTIME_KINDS, LintContext, Subject
from compiler.yamlpos import LazyPositions, YamlError, load_documents

SERVICES_DIR = "services"
YAML_SUFFIXES = (".yaml", ".yml")
SCRIPT_SUFFIX = ".sh"


def services_dir(project: Project, cluster: str) -> Path:
    return project.overlays_dir / cluster / SERVICES_DIR


@dataclass
class Loaded:
    subjects: list[Subject] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)


def load_files(paths: list[Path], display: dict[Path, str] | None = None) -> Loaded:
    """Every document of every YAML file in `paths` (folders are searched,
    in name order). `display` maps a path to the name messages use."""
    loaded = Loaded()
    for path in _expand(paths, loaded):
        name = (display or {}).get(path, str(path))
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            loaded.diagnostics.append(error("E502", f"cannot read {name}: {exc}", span=SourceSpan(name)))
            continue
        try:
            documents = load_documents(text)
        except YamlError as exc:
            loaded.diagnostics.append(
                error("E501", f"not valid YAML: {exc.message}", span=SourceSpan(name, exc.line, exc.column))
            )
            continue
        for document in documents:
            if not isinstance(document.data, dict):
                loaded.diagnostics.append(
                    error(
                        "E501",
                        "a YAML document is not a Kubernetes object (a mapping)",
                        span=SourceSpan(name, document.line, 1),
                    )
                )
                continue
            loaded.subjects.append(Subject(body=document.data, file=name, positions=document.positions))
    return loaded


def _expand(paths: list[Path], loaded: Loaded) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in YAML_SUFFIXES))
        elif path.is_file():
            found.append(path)
        else:
            loaded.diagnostics.append(error("E502", f"{path}: no such file or folder", span=SourceSpan(str(path))))
    return found


def _catalog_spans(runtime_file: str, text: str | None, suppressions: dict[str, Any]) -> dict[str, SourceSpan]:
    """Where `requirements`, `lintExceptions` and each exception's id are written."""
    spans: dict[str, SourceSpan] = {}
    if text is None:
        return spans
    lines = text.splitlines()
    for key in ("requirements", "lintExceptions"):
        pattern = re.compile(r"(?<![\w.])" + key + r"\s*[+]?:")
        for number, line in enumerate(lines, start=1):
            match = pattern.search(line) if key in line else None
            if match:
                spans[key] = SourceSpan(runtime_file, number, match.start() + 1)
                break
    start = spans["lintExceptions"].line if "lintExceptions" in spans else 1
    for rule_id in suppressions:
        pattern = re.compile(r"['\"]?" + re.escape(rule_id) + r"['\"]?\s*:")
        for number in range(start, len(lines) + 1):
            line = lines[number - 1]
            match = pattern.search(line) if rule_id in line else None
            if match:
                spans[f"lintExceptions.{rule_id}"] = SourceSpan(runtime_file, number, match.start() + 1)
                break
    return spans


def _read(project: Project, rel: str) -> str | None:
    try:
        return (project.root / rel).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def rendered_subject(
    project: Project, obj: RenderedObject, data: bytes, script_files: dict[str, str], spans: dict[str, SourceSpan]
) -> Subject:
    """A rendered object, located in its out/ file; `spans` says where its catalog fields are written."""
    text = data.decode("utf-8")
    positions = LazyPositions(text)
    layers = obj.layers
    return Subject(
        body=obj.body,
        file=f"{project.out_dir_name}/{obj.out_path}",
        positions=positions,
        sources=(layers.runtime, layers.hardware, layers.platform, layers.overlay),
        runtime=obj.runtime,
        hardware=obj.hardware,
        suppressions=dict(obj.suppressions),
        requirements=dict(obj.requirements),
        catalog_spans=spans,
        resource_key=obj.resource_key,
        script_files=script_files,
        emitted=text,
    )


def cluster_subjects(
    project: Project,
    render: ClusterRender,
    files: dict[str, bytes],
    imports: dict[str, str],
    reuse: Reuse | None = None,
) -> list[Subject]:
    scripts = {rel: text for rel in sorted(imports) if rel.endswith(SCRIPT_SUFFIX) and (text := _read(project, rel))}
    # What every subject's findings may depend on besides the object itself (compiler/reuse.py).
    cluster_key = digest_of((render.cluster, render.platform, render.allowed_registries, sorted(scripts.items())))
    # One runtime file serves every hardware profile of the runtime: read and search it once.
    spans: dict[tuple[str, tuple[str, ...]], dict[str, SourceSpan]] = {}
    subjects = []
    for obj in render.objects:
        data = files.get(obj.out_path)
        if data is None:
            continue
        runtime_file = obj.layers.runtime
        key = (runtime_file, tuple(obj.suppressions))
        if key not in spans:
            spans[key] = _catalog_spans(runtime_file, _read(project, runtime_file), obj.suppressions)
        subject = rendered_subject(project, obj, data, scripts, dict(spans[key]))
        object_key = reuse.object_key(obj.out_path) if reuse is not None else None
        if object_key is not None and cluster_key is not None:
            where = sorted((name, (s.file, s.line, s.column)) for name, s in subject.catalog_spans.items())
            subject.reuse_key = digest_of((object_key, cluster_key, subject.file, where))
        subjects.append(subject)
    return subjects


def context_for(
    config: LintConfig,
    platform: str,
    cluster: str | None,
    allowed_registries: tuple[str, ...] | None,
    runtimes: list[Subject],
) -> LintContext:
    return LintContext(
        profile=config.profile(platform),
        options=config.options,
        cluster=cluster,
        allowed_registries=allowed_registries,
        runtimes=[s for s in runtimes if s.kind in RUNTIME_KINDS],
    )


def lint_cluster(
    project: Project,
    render: ClusterRender,
    files: dict[str, bytes],
    imports: dict[str, str],
    reuse: Reuse | None = None,
) -> list[Diagnostic]:
    """Lint a rendered cluster and the InferenceServices under overlays/<cluster>/services/.
    With `reuse` (after `emit_cluster` with it), per-object findings of unchanged objects are taken over."""
    try:
        config = load_lint_config(project)
    except ProjectError as exc:
        return [error("E503", str(exc), target=render.cluster)]
    subjects = cluster_subjects(project, render, files, imports, reuse)
    folder = services_dir(project, render.cluster)
    diagnostics: list[Diagnostic] = []
    if folder.is_dir():
        services = load_files([folder], {p: project.relative(p) for p in folder.rglob("*")})
        diagnostics.extend(replace(d, target=render.cluster) for d in services.diagnostics)
        subjects.extend(services.subjects)
    context = context_for(config, render.platform, render.cluster, render.allowed_registries, subjects)
    diagnostics.extend(lint(subjects, context, config, reuse))
    return diagnostics


def lint_files(
    subjects: list[Subject],
    config: LintConfig,
    *,
    platform: str,
    cluster: str | None = None,
    allowed_registries: tuple[str, ...] | None = None,
    cluster_runtimes: list[Subject] | None = None,
) -> list[Diagnostic]:
    """Lint manifests from files. InferenceServices see the cluster's runtimes
    and the runtimes among the files (a file's runtime replaces the cluster's
    runtime of the same kind and name, as applying it would)."""
    given = {(s.kind, s.namespace, s.name) for s in subjects if s.kind in RUNTIME_KINDS}
    runtimes = [r for r in cluster_runtimes or [] if (r.kind, r.namespace, r.name) not in given]
    runtimes.extend(s for s in subjects if s.kind in RUNTIME_KINDS)
    context = context_for(config, platform, cluster, allowed_registries, runtimes)
    return lint(subjects, context, config)
