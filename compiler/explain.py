"""Explain: which layer set or changed one field of a rendered object, and in which file.

The Jsonnet library keeps every object's four stages on the cluster (hidden
`stages`: after runtime, hardware, platform, overlay). Explain evaluates them
for the one object, reads the field in each, and attributes every change to
that stage's layer file (normalize.layers_for). A difference between the last
stage and the rendered object is the compiler's own (e.g. the managed-by label).
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from compiler import fieldpath
from compiler.diagnostics import Diagnostic, SourceSpan, error, has_errors
from compiler.engines import get_engine
from compiler.evaluate import evaluate_entry, read_source_text
from compiler.fieldpath import MISSING, PathError, same_value
from compiler.gitops import SUBSTITUTE_KEY
from compiler.model import RenderedObject
from compiler.normalize import MANAGED_BY_LABEL
from compiler.pipeline import render_target
from compiler.project import Project
from compiler.targets import DELIVERY_FOLDERS, select

LAYERS = ("runtime", "hardware", "platform", "overlay")
# Codes for mistakes in what the user asked (exit 2), not in the catalog.
USAGE_CODES = frozenset({"E401", "E402", "E403", "E404", "E405"})
# What the compiler adds after the overlay stage, by the module that does it.
_COMPILER_KEYS = {MANAGED_BY_LABEL: "compiler/normalize.py", SUBSTITUTE_KEY: "compiler/gitops.py"}


@dataclass(frozen=True)
class ObjectRef:
    cluster: str
    name: str
    kind: str | None = None
    namespace: str | None = None
    # The out/ file the user named, if any.
    file: str | None = None


@dataclass(frozen=True)
class Change:
    layer: str
    file: str
    before: Any
    after: Any
    # Where the value's text is written, when it can be found.
    written_at: SourceSpan | None = None

    @property
    def action(self) -> str:
        if self.before is MISSING:
            return "set"
        return "removed" if self.after is MISSING else "changed"


@dataclass
class Explanation:
    object: RenderedObject
    path: str
    value: Any
    changes: list[Change] = field(default_factory=list)
    # The out/ file named has another value than the sources render (out/ is not current).
    stale: bool = False
    stale_value: Any = MISSING


@dataclass
class ExplainResult:
    explanation: Explanation | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)


def object_from_file(project: Project, file: Path) -> tuple[ObjectRef | None, list[Diagnostic]]:
    """The cluster and object of a file in out/."""
    path = file if file.is_absolute() else Path.cwd() / file
    out = project.out_dir.resolve()
    try:
        rel = path.resolve().relative_to(out)
    except ValueError:
        return None, [error("E401", f"{file} is not inside {project.out_dir_name}/", hint="name a file rtc wrote")]
    if not path.is_file():
        return None, [error("E401", f"{file}: no such file", hint=f"run rtc build, or list {project.out_dir_name}/")]
    if len(rel.parts) != 2 or rel.name == "kustomization.yaml":
        return None, [error("E401", f"{file} is not an object file of a cluster folder")]
    if rel.parts[0] in DELIVERY_FOLDERS:
        return None, [
            error(
                "E402",
                f"{file} is a GitOps object made from the overlays' gitops fields, not from catalog layers",
                hint="see docs/gitops.md; explain traces the runtime objects in out/<cluster>/",
            )
        ]
    try:
        body = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
        metadata = body["metadata"]
        ref = ObjectRef(
            cluster=rel.parts[0],
            name=str(metadata["name"]),
            kind=str(body["kind"]),
            namespace=metadata.get("namespace"),
            file=project.relative(path),
        )
    except (yaml.YAMLError, OSError, KeyError, TypeError, UnicodeDecodeError) as exc:
        return None, [error("E401", f"{file} is not an object rtc wrote ({exc})", span=SourceSpan(str(file)))]
    return ref, []


def explain(project: Project, ref: ObjectRef, path_text: str, engine_name: str | None = None) -> ExplainResult:
    result = ExplainResult()
    engine = engine_name or project.engine
    try:
        steps = fieldpath.parse(path_text)
    except PathError as exc:
        result.diagnostics.append(error("E405", str(exc)))
        return result
    targets, problems = select(project, (ref.cluster,))
    if problems:
        result.diagnostics.extend(error("E403", p.message, hint=p.hint) for p in problems)
        return result
    # Lint findings say nothing about where a value comes from: render as build does, without them.
    render = render_target(project, targets[0], engine, lint=False)
    result.diagnostics.extend(render.diagnostics)
    if not render.ok or render.cluster is None:
        return result
    obj = _find(render.cluster.objects, ref)
    if obj is None:
        names = sorted(o.name for o in render.cluster.objects)
        close = difflib.get_close_matches(ref.name, names, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"objects: {', '.join(names)}"
        result.diagnostics.append(error("E403", f"cluster {ref.cluster} has no object named {ref.name!r}", hint=hint))
        return result
    try:
        canonical = fieldpath.resolve(obj.body, steps)
    except PathError as exc:
        closest = ("closest existing paths: " + ", ".join(exc.suggestions)) if exc.suggestions else None
        result.diagnostics.append(error("E404", f"{path_text}: {exc}", object=obj.label, hint=closest))
        return result
    stages, problems = _stages(project, targets[0].entry, obj, engine)
    result.diagnostics.extend(problems)
    if stages is None:
        return result
    explanation = Explanation(
        object=obj, path=fieldpath.format_path(canonical), value=fieldpath.lookup(obj.body, canonical)
    )
    explanation.changes = _changes(project, obj, stages, canonical, explanation.value)
    if ref.file:
        on_disk = _file_value(project, ref.file, canonical)
        if not same_value(on_disk, explanation.value):
            explanation.stale, explanation.stale_value = True, on_disk
    result.explanation = explanation
    return result


def _find(objects: list[RenderedObject], ref: ObjectRef) -> RenderedObject | None:
    for obj in objects:
        if obj.name != ref.name or (ref.kind and obj.kind != ref.kind):
            continue
        if ref.namespace is not None and obj.namespace != ref.namespace:
            continue
        return obj
    return None


def _stages(
    project: Project, entry: str, obj: RenderedObject, engine_name: str
) -> tuple[list[dict[str, Any]] | None, list[Diagnostic]]:
    """The object's four stages, evaluated for this object only (Jsonnet is lazy)."""
    snippet = (
        f"[s.stages for s in (import {Path(entry).name!r}).stages "
        f"if s.stages[3].kind == {json.dumps(obj.kind)} && s.stages[3].metadata.name == {json.dumps(obj.name)} "
        f"&& s.runtime == {json.dumps(obj.runtime)} && s.hardware == {json.dumps(obj.hardware)}]"
    )
    evaluated = evaluate_entry(project, entry, get_engine(engine_name), target=obj.cluster, snippet=snippet)
    if has_errors(evaluated.diagnostics) or not isinstance(evaluated.data, list):
        return None, evaluated.diagnostics
    if len(evaluated.data) != 1:
        return None, [
            error(
                "E406",
                f"found {len(evaluated.data)} stage records for {obj.label} in {entry}'s stages",
                span=SourceSpan(entry),
                hint="the overlay's stages must match its objects (rtc.cluster computes both)",
            )
        ]
    stages = evaluated.data[0]
    return stages, []


def _changes(
    project: Project, obj: RenderedObject, stages: list[dict[str, Any]], canonical: list[fieldpath.Step], final: Any
) -> list[Change]:
    # obj.layers comes from normalize.layers_for: the file of each stage's layer.
    layer_files = (obj.layers.runtime, obj.layers.hardware, obj.layers.platform, obj.layers.overlay)
    files = dict(zip(LAYERS, layer_files, strict=True))
    key = _last_key(canonical)
    changes: list[Change] = []
    before: Any = MISSING
    for layer, stage in zip(LAYERS, stages, strict=True):
        after = fieldpath.lookup(stage, canonical)
        if not same_value(before, after):
            search = [files[layer], *(f for f in files.values() if f != files[layer])]
            # The overlay stage is the fold of the cluster's patches: look for the change there.
            written = locate(project, search, key, after, patches_only=layer == "overlay")
            changes.append(Change(layer, files[layer], before, after, written))
        before = after
    if not same_value(before, final):
        module = next((m for k, m in _COMPILER_KEYS.items() if k == key), "compiler")
        changes.append(Change("rtc", module, before, final))
    return changes


def _last_key(canonical: list[fieldpath.Step]) -> str | None:
    for step in reversed(canonical):
        if isinstance(step, fieldpath.Key):
            return step.name
        if isinstance(step, fieldpath.Select):
            return step.value
    return None


def _file_value(project: Project, rel: str, canonical: list[fieldpath.Step]) -> Any:
    try:
        body = yaml.load((project.root / rel).read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    except (OSError, yaml.YAMLError):
        return MISSING
    return fieldpath.lookup(body, canonical)


def _value_text(value: Any) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        lines = [line.strip() for line in value.splitlines() if line.strip()]
        # A script's first line is often a shebang shared by many files: take its first distinctive line.
        for line in lines:
            if not line.startswith("#!"):
                return line
        return lines[0] if lines else None
    return None


def _key_pattern(key: str) -> re.Pattern[str]:
    # `key:`, `'key':`, `key=` (a named argument), `.key(` (a patch helper named after it).
    return re.compile(r"(?<![\w-])['\"]?" + re.escape(key) + r"['\"]?\s*[:=(]")


def locate(
    project: Project, files: list[str], key: str | None, value: Any, *, patches_only: bool = False
) -> SourceSpan | None:
    """Where in `files` (the layer's own first) the value or its key is written.

    Tried in order, per file: a line with the key and the value; a line with the
    value as a literal; in the layer's own file, a line with the key (a computed
    value), then the line sharing most text with the value (a rewritten one).
    With `patches_only`, the layer's own file is searched in its `patches:` list.
    """
    key_pattern = _key_pattern(key) if key else None
    own_file = files[0]
    for path in files:
        lines = _code_lines(path, read_source_text(project, path) or "")
        if patches_only and path == own_file:
            lines = _patches_block(lines)
        needles = _needles(path, value)
        found = None
        if needles and key_pattern:
            found = _first(lines, needles, key_pattern)
        if not found and needles and isinstance(value, str):
            found = _first(lines, needles)
        if not found and path == own_file and key_pattern:
            found = _first(lines, (), key_pattern)
        if not found and path == own_file and isinstance(value, str):
            found = _best_overlap(lines, value.strip().splitlines()[0] if value.strip() else value)
        if found:
            return SourceSpan(path, found)
    return None


def _needles(path: str, value: Any) -> tuple[str, ...]:
    """How the value reads in `path`: a one-line string in Jsonnet as a quoted literal."""
    text = _value_text(value)
    if text is None:
        return ()
    if isinstance(value, str) and "\n" not in value and path.endswith((".jsonnet", ".libsonnet")):
        return (f"'{text}'", f'"{text}"')
    if isinstance(value, str) and len(text) < 4:
        return ()
    return (text,)


def _has(line: str, needles: tuple[str, ...]) -> bool:
    return any(needle in line for needle in needles)


def _first(lines: list[str], needles: tuple[str, ...], key_pattern: re.Pattern[str] | None = None) -> int | None:
    """The first line holding one of the needles (if any) and the key (if given)."""
    for number, line in enumerate(lines, start=1):
        if needles and not _has(line, needles):
            continue
        if key_pattern and not key_pattern.search(line):
            continue
        return number
    return None


def _code_lines(path: str, text: str) -> list[str]:
    """The file's lines, Jsonnet comment lines blanked (they name keys without setting them)."""
    lines = text.splitlines()
    if not path.endswith((".jsonnet", ".libsonnet")):
        return lines
    return ["" if line.lstrip().startswith(("//", "#")) else line for line in lines]


def _patches_block(lines: list[str]) -> list[str]:
    """The lines of the `patches: [...]` list, the others blanked (numbers kept); all if there is none."""
    start = next((i for i, line in enumerate(lines) if re.match(r"\s*patches\s*:", line)), None)
    if start is None:
        return lines
    depth, end = 0, len(lines)
    for index in range(start, len(lines)):
        depth += lines[index].count("[") - lines[index].count("]")
        if depth <= 0 and "[" in "".join(lines[start : index + 1]):
            end = index + 1
            break
    return [line if start <= i < end else "" for i, line in enumerate(lines)]


def _best_overlap(lines: list[str], text: str, minimum: int = 12) -> int | None:
    """The line sharing the longest run of characters with `text` (a rewritten value keeps part of itself)."""
    best, best_length = None, minimum - 1
    for number, line in enumerate(lines, start=1):
        match = difflib.SequenceMatcher(None, text, line, autojunk=False).find_longest_match(0, len(text), 0, len(line))
        if match.size > best_length:
            best, best_length = number, match.size
    return best
