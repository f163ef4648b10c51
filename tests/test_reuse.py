"""A target's next render takes over the bytes and per-object findings of its unchanged objects
(compiler/reuse.py), and gives exactly what a render from scratch gives."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from compiler.cache import CACHE_DIR_NAME, BuildCache
from compiler.diagnostics import Severity
from compiler.lint import LintConfig, lint
from compiler.model import Layers, RenderedObject
from compiler.pipeline import TargetRender
from compiler.project import load_project
from compiler.reuse import PreviousRender, Reuse, ReuseMemo, digest_of
from compiler.rules import RULES
from compiler.rules.registry import Subject
from compiler.targets import DELIVERY_FOLDERS
from tests.conftest import copy_catalog, snapshot
from tests.test_cache import build_and_write
from tests.test_rules import _cases, _subject, case_context, case_options


def test_keys_tell_apart_what_the_emitter_writes_differently() -> None:
    keys = [digest_of({"replicas": value}) for value in (1, 1.0, True, "1", None)]
    assert None not in keys
    assert len(set(keys)) == len(keys)  # `==` would call 1, 1.0 and True the same
    shared = ["a"] * 3
    assert digest_of({"x": shared}) == digest_of({"x": ["a", "a", "a"]})  # sharing does not matter
    assert digest_of({"a": 1, "b": 2}) != digest_of({"b": 2, "a": 1})  # order does: a miss, never a wrong hit
    assert digest_of({"x": object()}) is None


def _object(body: dict[str, Any], **changes: Any) -> RenderedObject:
    fields: dict[str, Any] = {
        "cluster": "demo",
        "runtime": "vllm",
        "hardware": "nvidia",
        "body": body,
        "layers": Layers("catalog/vllm/main.libsonnet", "hardware/nvidia.libsonnet", "p.libsonnet", "o.jsonnet"),
        "out_path": "demo/x.yaml",
    }
    return RenderedObject(**(fields | changes))


def test_a_file_is_taken_over_only_for_the_same_object() -> None:
    first = Reuse(None)
    obj = _object({"kind": "ClusterServingRuntime", "spec": {"replicas": 1}})
    assert first.file_for(obj) is None  # nothing before
    previous = PreviousRender(files={"demo/x.yaml": b"old bytes"}, memo=first.memo)
    for same in (_object({"kind": "ClusterServingRuntime", "spec": {"replicas": 1}}),):
        assert Reuse(previous).file_for(same) == b"old bytes"
    changed = [
        _object({"kind": "ClusterServingRuntime", "spec": {"replicas": True}}),
        _object({"kind": "ClusterServingRuntime", "spec": {"replicas": 1}}, hardware="ascend"),
        _object({"kind": "ClusterServingRuntime", "spec": {"replicas": 1}}, suppressions={"RTC201": "why"}),
        _object(
            {"kind": "ClusterServingRuntime", "spec": {"replicas": 1}},
            layers=Layers("catalog/vllm/main.libsonnet", "hardware/other.libsonnet", "p.libsonnet", "o.jsonnet"),
        ),
    ]
    for other in changed:
        assert Reuse(previous).file_for(other) is None, other


def _keyed(case: dict[str, Any], objects: list[Any]) -> list[Subject]:
    """The case's subjects with honest reuse keys: everything a rule may read of one subject and its cluster."""
    settings = (case.get("platform"), case.get("cluster"), case.get("allowedRegistries"), case.get("options"))
    subjects = []
    for index, item in enumerate(objects):
        subject = _subject(item, index)
        subject.reuse_key = digest_of(
            (
                subject.file,
                subject.body,
                subject.runtime,
                subject.hardware,
                subject.suppressions,
                subject.requirements,
                subject.resource_key,
                sorted(subject.script_files.items()),
                repr(settings),
            )
        )
        subjects.append(subject)
    return subjects


def _lint_case(case: dict[str, Any], objects: list[Any], reuse: Reuse | None) -> list[str]:
    """Every rule on the case's objects (as tests/test_rules.py sets a case up), with `reuse`."""
    subjects = _keyed(case, objects)
    options = case_options(case)
    context = case_context(case, subjects, options)
    config = LintConfig(severity={rule_id: Severity.ERROR for rule_id in RULES}, options=options)
    return [d.format() for d in lint(subjects, context, config, reuse)]


CASES = [param for param in _cases() if len(param.values[1]["objects"]) >= 2]


@pytest.mark.parametrize(("rule_id", "case"), CASES)
def test_findings_are_those_of_a_fresh_lint_whatever_the_previous_run_saw(rule_id: str, case: Any) -> None:
    """Every rule runs on every rule fixture with two or more objects. The previous run saw the
    case without its last object, or with the objects in reverse order: an object that rule
    compares with the others (RTC503's competing runtimes) must be judged again."""
    objects = case["objects"]
    fresh = _lint_case(case, objects, None)
    for before in (objects[:-1], objects[::-1], objects):
        first = Reuse(None)
        _lint_case(case, before, first)
        again = Reuse(PreviousRender(files={}, memo=first.memo))
        assert _lint_case(case, objects, again) == fresh, (rule_id, case["name"], len(before))
    assert again.reused_subjects == len(objects)  # the same objects: every one was taken over


def test_a_rule_that_reads_the_other_runtimes_is_never_taken_over() -> None:
    cases = [p.values[1] for p in CASES if p.values[0] == "RTC503" and p.values[1]["expect"]]
    assert cases, "tests/rules/RTC503.yaml has a failing case with competing runtimes"
    case = cases[0]
    first = Reuse(None)
    _lint_case(case, case["objects"], first)
    alone = {rule for found in first.memo.lint.values() for rule in found.alone}
    assert "RTC503" not in alone and "RTC201" in alone


def _edit_runtime_image(root: Path, tag: str) -> None:
    runtime = root / "catalog/vllm/main.libsonnet"
    text = runtime.read_text()
    assert "vllm/vllm-openai:v0.18.0" in text
    runtime.write_text(text.replace("vllm/vllm-openai:v0.18.0", f"vllm/vllm-openai:{tag}"))


@pytest.mark.parametrize("jobs", [1, 2])
def test_an_edit_reuses_the_other_objects_and_builds_what_a_clean_build_builds(tmp_path: Path, jobs: int) -> None:
    root = copy_catalog(tmp_path / "repo")
    build_and_write(root, jobs=jobs)
    _edit_runtime_image(root, "v0.18.1")
    result = build_and_write(root, jobs=jobs, keep_objects=True)
    rendered = [r for r in result.renders if not r.from_cache and r.target.name not in DELIVERY_FOLDERS]
    assert rendered, "the edited runtime is offered somewhere"
    for render in rendered:
        assert render.cluster is not None
        vllm = sum(1 for obj in render.cluster.objects if obj.runtime == "vllm")
        assert 0 < vllm < render.object_count
        assert render.reused_objects == render.object_count - vllm, render.target.name

    clean = tmp_path / "clean"
    shutil.copytree(root, clean, ignore=shutil.ignore_patterns(CACHE_DIR_NAME, "out"))
    reference = build_and_write(clean, jobs=1, use_cache=False)
    assert [d.format() for d in result.all_diagnostics] == [d.format() for d in reference.all_diagnostics]
    assert snapshot(root / "out") == snapshot(clean / "out")


def test_a_broken_reuse_memo_is_ignored(tmp_path: Path) -> None:
    root = copy_catalog(tmp_path / "repo")
    build_and_write(root, jobs=1)
    project = load_project(root)
    cache = BuildCache(project, project.engine)
    target = next(t for t in (r.target for r in build_and_write(root, jobs=1).renders) if t.name == "demo")
    assert isinstance(cache.previous(target), PreviousRender)
    entry = next((root / CACHE_DIR_NAME).glob("demo.*.entry"))
    data = entry.read_bytes()
    entry.write_bytes(data[:-5] + b"XXXXX")  # the memo is the entry's last part
    assert cache.previous(target) is None
    _edit_runtime_image(root, "v0.18.2")
    result = build_and_write(root, jobs=1)
    demo = next(r for r in result.renders if r.target.name == "demo")
    assert not demo.from_cache and demo.reused_objects == 0  # rendered from scratch, and correctly:
    clean = tmp_path / "clean"
    shutil.copytree(root, clean, ignore=shutil.ignore_patterns(CACHE_DIR_NAME, "out"))
    build_and_write(clean, jobs=1, use_cache=False)
    assert snapshot(root / "out") == snapshot(clean / "out")


def test_renders_handed_back_carry_no_memo(tmp_path: Path) -> None:
    root = copy_catalog(tmp_path / "repo")
    result = build_and_write(root, jobs=2)
    renders: list[TargetRender] = [r for r in result.renders if r.target.name not in DELIVERY_FOLDERS]
    assert renders and all(r.reuse is None for r in renders)
    memo = BuildCache(load_project(root), load_project(root).engine).previous(renders[0].target)
    assert memo is not None and isinstance(memo.memo, ReuseMemo) and memo.memo.object_keys
