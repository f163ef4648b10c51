"""Diff two renders of the catalog, per cluster and object, field by field.

Objects are matched by (folder, kind, namespace, name). Within an object,
mappings are compared key by key and lists of named items (containers, env,
volumes, ports) by name, so a changed image tag is one change at
`spec.containers[name=kserve-container].image`, and an inserted env var does
not show every later one as changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compiler import gitbase
from compiler.diagnostics import Diagnostic, error
from compiler.fieldpath import MISSING, Index, Key, Select, Step, format_path, same_value
from compiler.gitbase import Revision
from compiler.pipeline import BuildResult, render
from compiler.project import CONFIG_NAME, Project, ProjectError, load_project

ObjectKey = tuple[str, str, str, str]  # folder, kind, namespace ("" if none), name


@dataclass(frozen=True)
class FieldChange:
    path: str
    old: Any  # MISSING when added
    new: Any  # MISSING when removed
    # The named items of a list were reordered; old and new are their names.
    order: bool = False

    @property
    def action(self) -> str:
        if self.order:
            return "reordered"
        if self.old is MISSING:
            return "added"
        return "removed" if self.new is MISSING else "changed"


@dataclass
class ObjectDiff:
    cluster: str
    kind: str
    namespace: str
    name: str
    action: str  # added | removed | changed
    file: str
    old: dict[str, Any] | None = None
    new: dict[str, Any] | None = None
    fields: list[FieldChange] = field(default_factory=list)

    @property
    def label(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind}/{where}{self.name}"


@dataclass
class RenderDiff:
    objects: list[ObjectDiff] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.objects

    def count(self, action: str) -> int:
        return sum(1 for o in self.objects if o.action == action)

    @property
    def clusters(self) -> list[str]:
        return sorted({o.cluster for o in self.objects})


@dataclass(frozen=True)
class RenderedFile:
    path: str  # relative to out/
    body: dict[str, Any]


def objects_of(result: BuildResult, out_dir_name: str) -> dict[ObjectKey, RenderedFile]:
    """Every rendered object (clusters and GitOps folders) by identity, with its file in out/."""
    found: dict[ObjectKey, RenderedFile] = {}
    for target in result.renders:
        if target.cluster is None:
            continue
        for obj in target.cluster.objects:
            key = (target.cluster.cluster, obj.kind, obj.namespace or "", obj.name)
            found[key] = RenderedFile(f"{out_dir_name}/{obj.out_path}", obj.body)
    return found


def diff_objects(old: dict[ObjectKey, RenderedFile], new: dict[ObjectKey, RenderedFile]) -> RenderDiff:
    result = RenderDiff()
    for key in sorted(old.keys() | new.keys()):
        before, after = old.get(key), new.get(key)
        folder, kind, namespace, name = key
        if before is None and after is not None:
            result.objects.append(ObjectDiff(folder, kind, namespace, name, "added", after.path, new=after.body))
        elif after is None and before is not None:
            result.objects.append(ObjectDiff(folder, kind, namespace, name, "removed", before.path, old=before.body))
        elif before is not None and after is not None:
            changes = diff_values(before.body, after.body)
            if changes:
                result.objects.append(
                    ObjectDiff(folder, kind, namespace, name, "changed", after.path, before.body, after.body, changes)
                )
    return result


def diff_values(old: Any, new: Any, path: list[Step] | None = None) -> list[FieldChange]:
    path = path or []
    if same_value(old, new):
        return []
    if isinstance(old, dict) and isinstance(new, dict):
        changes: list[FieldChange] = []
        for key in sorted(old.keys() | new.keys()):
            here = [*path, Key(key)]
            if key not in new:
                changes.append(FieldChange(format_path(here), old[key], MISSING))
            elif key not in old:
                changes.append(FieldChange(format_path(here), MISSING, new[key]))
            else:
                changes.extend(diff_values(old[key], new[key], here))
        return changes
    if isinstance(old, list) and isinstance(new, list):
        return _diff_lists(old, new, path)
    return [FieldChange(format_path(path), old, new)]


def _names(items: list[Any]) -> list[str] | None:
    """The items' names, if every item is a mapping with a distinct string name."""
    names = [item.get("name") if isinstance(item, dict) else None for item in items]
    if all(isinstance(n, str) for n in names) and len(set(names)) == len(names):
        return [str(n) for n in names]
    return None


def _diff_lists(old: list[Any], new: list[Any], path: list[Step]) -> list[FieldChange]:
    old_names, new_names = _names(old), _names(new)
    if old_names is not None and new_names is not None and (old or new):
        changes: list[FieldChange] = []
        old_by_name = dict(zip(old_names, old, strict=True))
        for name, item in zip(new_names, new, strict=True):
            here = [*path, Select("name", name)]
            if name in old_by_name:
                changes.extend(diff_values(old_by_name[name], item, here))
            else:
                changes.append(FieldChange(format_path(here), MISSING, item))
        for name, item in zip(old_names, old, strict=True):
            if name not in new_names:
                changes.append(FieldChange(format_path([*path, Select("name", name)]), item, MISSING))
        kept_old = [n for n in old_names if n in new_names]
        kept_new = [n for n in new_names if n in old_by_name]
        if kept_old != kept_new:
            # Matching by name hides a reordering, which can matter (env references earlier vars).
            changes.insert(0, FieldChange(format_path(path), kept_old, kept_new, order=True))
        return changes
    changes = []
    for index in range(max(len(old), len(new))):
        here = [*path, Index(index)]
        if index >= len(new):
            changes.append(FieldChange(format_path(here), old[index], MISSING))
        elif index >= len(old):
            changes.append(FieldChange(format_path(here), MISSING, new[index]))
        else:
            changes.extend(diff_values(old[index], new[index], here))
    return changes


@dataclass
class Comparison:
    """The working tree's render against the base revision's, both by this compiler."""

    base: Revision | None = None
    diff: RenderDiff | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    # False when the base revision has no rtc.toml here: everything is new.
    base_has_catalog: bool = True


def compare(project: Project, base_ref: str | None, engine_name: str | None = None) -> Comparison:
    """Render the catalog at `base_ref` (default: the merge base with main) and in the
    working tree, with the same compiler code and engine, and diff the two."""
    result = Comparison()
    engine = engine_name or project.engine
    try:
        result.base = gitbase.resolve(project.root, base_ref)
    except gitbase.GitError as exc:
        result.diagnostics.append(error("E501", str(exc)))
        return result
    # A review shows what the change renders; lint findings are the build's and CI's business.
    current = render(project, engine_name=engine, lint=False)
    if not current.ok:
        result.diagnostics.extend(current.all_diagnostics)
        return result
    old: dict[ObjectKey, RenderedFile] = {}
    try:
        with gitbase.checkout(project.root, result.base) as base_root:
            if not (base_root / CONFIG_NAME).is_file():
                result.base_has_catalog = False
            else:
                base = _render_base(base_root, engine, result)
                if base is None:
                    return result
                old = objects_of(base, project.out_dir_name)
    except gitbase.GitError as exc:
        result.diagnostics.append(error("E501", f"cannot check out {result.base.ref}: {exc}"))
        return result
    result.diff = diff_objects(old, objects_of(current, project.out_dir_name))
    return result


def _render_base(base_root: Path, engine: str, result: Comparison) -> BuildResult | None:
    assert result.base is not None
    where = f"the catalog at {result.base.ref} ({result.base.short})"
    try:
        base_project = load_project(base_root)
    except ProjectError as exc:
        result.diagnostics.append(error("E502", f"{where} cannot be read: {exc}"))
        return None
    base = render(base_project, engine_name=engine, lint=False)
    if not base.ok:
        result.diagnostics.extend(base.all_diagnostics)
        result.diagnostics.append(
            error("E502", f"{where} does not build with this compiler", hint="compare with another --base")
        )
        return None
    return base
