"""`rtc explain`: the final value of a field and the layers that set or changed it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from compiler import fieldpath
from compiler.explain import Change, ExplainResult, ObjectRef, explain
from compiler.fieldpath import MISSING, Index, Key, PathError, Select
from compiler.project import Project, load_project
from tests.conftest import REPO, Run

RtcRunner = Callable[..., Run]
VLLM = "aml-vllm-cuda-12.1"
VLLM_FILE = f"out/prod-airgap/clusterservingruntime-{VLLM}.yaml"


@pytest.fixture(scope="module")
def project() -> Project:
    return load_project(REPO)


def run(
    project: Project, path: str, *, cluster: str = "prod-airgap", name: str = VLLM, engine: str | None = None
) -> ExplainResult:
    return explain(project, ObjectRef(cluster=cluster, name=name), path, engine)


def chain(result: ExplainResult) -> list[tuple[str, str, str]]:
    assert result.explanation is not None, [d.format() for d in result.diagnostics]
    return [(c.layer, c.file, c.action) for c in result.explanation.changes]


def line_of(change: Change) -> str:
    assert change.written_at is not None
    return (REPO / change.written_at.file).read_text(encoding="utf-8").splitlines()[change.written_at.line - 1]


def test_image_set_by_hardware_then_rewritten_by_the_overlay_mirror(project: Project) -> None:
    result = run(project, "spec.containers[0].image")
    assert result.explanation is not None
    assert result.explanation.value == "registry.prod.internal/mirror/docker.io/vllm/vllm-openai:v0.18.0"
    assert result.explanation.path == "spec.containers[name=kserve-container].image"
    assert chain(result) == [
        ("hardware", "hardware/nvidia-cuda-12.1.libsonnet", "set"),
        ("overlay", "overlays/prod-airgap.jsonnet", "changed"),
    ]
    hardware, overlay = result.explanation.changes
    assert (hardware.before, hardware.after) == (MISSING, "vllm/vllm-openai:v0.18.0")
    assert overlay.before == "vllm/vllm-openai:v0.18.0"
    # The image text lives in the runtime's images map; the mirror in the overlay's patch.
    assert hardware.written_at is not None and hardware.written_at.file == "catalog/vllm/main.libsonnet"
    assert "'nvidia-cuda-12.1': 'vllm/vllm-openai:v0.18.0'" in line_of(hardware)
    assert "rtc.patch.mirrorImages('registry.prod.internal/mirror')" in line_of(overlay)


def test_a_label_from_the_platform_layer(project: Project) -> None:
    result = run(project, "metadata.labels['cpaas.io/accelerator-type']")
    assert chain(result) == [("platform", "catalog/lib/platforms/alauda.libsonnet", "set")]
    assert result.explanation is not None and result.explanation.value == "nvidia"
    assert "'cpaas.io/accelerator-type':" in line_of(result.explanation.changes[0])
    # A label key written bare, dots and all, reaches the same field.
    bare = run(project, "metadata.labels.cpaas.io/accelerator-type")
    assert bare.explanation is not None and bare.explanation.path == "metadata.labels['cpaas.io/accelerator-type']"


def test_a_platform_label_whose_value_is_a_hardware_fact(project: Project) -> None:
    result = run(project, "metadata.labels.cpaas.io/cuda-version")
    assert chain(result) == [("platform", "catalog/lib/platforms/alauda.libsonnet", "set")]
    change = result.explanation.changes[0] if result.explanation else None
    assert change is not None and change.written_at is not None
    assert change.written_at.file == "hardware/nvidia-cuda-12.1.libsonnet"
    assert "version: '12.1'" in line_of(change)


def test_resources_replaced_by_the_overlay(project: Project) -> None:
    result = run(project, "spec.containers[0].resources")
    assert chain(result) == [
        ("runtime", "catalog/vllm/main.libsonnet", "set"),
        ("overlay", "overlays/prod-airgap.jsonnet", "changed"),
    ]
    assert result.explanation is not None
    runtime, overlay = result.explanation.changes
    assert runtime.after == {"limits": {"cpu": 2, "memory": "6Gi"}, "requests": {"cpu": 2, "memory": "6Gi"}}
    assert overlay.after == {"limits": {"cpu": 8, "memory": "32Gi"}, "requests": {"cpu": 8, "memory": "32Gi"}}
    assert "rtc.resources(cpu=2, memory='6Gi')" in line_of(runtime)
    assert "rtc.patch.resources(rtc.resources(cpu=8, memory='32Gi'))" in line_of(overlay)


def test_a_value_only_the_runtime_sets(project: Project) -> None:
    result = run(project, "spec.containers[0].env[name=HOME].value")
    assert chain(result) == [("runtime", "catalog/vllm/main.libsonnet", "set")]
    assert result.explanation is not None and result.explanation.value == "/tmp"
    assert "{ name: 'HOME', value: '/tmp' }" in line_of(result.explanation.changes[0])


def test_values_the_compiler_adds_after_the_layers(project: Project) -> None:
    flux_guard = run(project, "metadata.annotations['kustomize.toolkit.fluxcd.io/substitute']")
    assert chain(flux_guard) == [("rtc", "compiler/gitops.py", "set")]
    managed = run(project, "metadata.labels['app.kubernetes.io/managed-by']", cluster="demo")
    assert chain(managed) == [("rtc", "compiler/normalize.py", "set")]


def test_a_missing_path_names_the_closest_existing_ones(project: Project) -> None:
    result = run(project, "spec.containers[0].imag")
    assert result.explanation is None
    (diagnostic,) = result.diagnostics
    assert diagnostic.code == "E404"
    assert diagnostic.message == "spec.containers[0].imag: spec.containers[name=kserve-container] has no field 'imag'"
    assert diagnostic.hint is not None and diagnostic.hint.startswith(
        "closest existing paths: spec.containers[0].image"
    )


def test_an_unknown_object_suggests_a_name(project: Project) -> None:
    result = run(project, "spec", name="aml-vllm-cuda-12")
    (diagnostic,) = result.diagnostics
    assert diagnostic.code == "E403"
    assert diagnostic.hint == "did you mean 'aml-vllm-cuda-12.1'?"


def test_both_engines_explain_alike(project: Project) -> None:
    paths = ("spec.containers[0].image", "metadata.labels", "spec.containers[0].resources")
    for path in paths:
        assert chain(run(project, path, engine="rjsonnet")) == chain(run(project, path, engine="gojsonnet"))


def test_cli_with_a_file(rtc: RtcRunner) -> None:
    result = rtc(REPO, "explain", VLLM_FILE, "spec.containers[0].image")
    assert result.code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"ClusterServingRuntime/{VLLM} (vllm on nvidia-cuda-12.1) in cluster prod-airgap ({VLLM_FILE})"
    mirrored = "registry.prod.internal/mirror/docker.io/vllm/vllm-openai:v0.18.0"
    assert lines[1] == f"spec.containers[name=kserve-container].image = {mirrored}"
    assert "  hardware  hardware/nvidia-cuda-12.1.libsonnet" in lines
    assert "            set to vllm/vllm-openai:v0.18.0" in lines
    assert "            written at catalog/vllm/main.libsonnet:8" in lines
    assert "  overlay   overlays/prod-airgap.jsonnet" in lines


def test_cli_by_cluster_and_name(rtc: RtcRunner) -> None:
    result = rtc(REPO, "explain", "--cluster", "demo", "--name", "aml-triton-cuda-12", "spec.supportedModelFormats")
    assert result.code == 0, result.stderr
    assert "  runtime   catalog/triton/main.libsonnet" in result.stdout.splitlines()


def test_cli_usage_errors_exit_2(rtc: RtcRunner) -> None:
    missing = rtc(REPO, "explain", VLLM_FILE, "spec.nope")
    assert missing.code == 2
    assert "spec has no field 'nope' [E404]" in missing.stderr
    gitops = rtc(REPO, "explain", "out/flux/kustomization-flux-system-rtc-prod-airgap.yaml", "spec")
    assert gitops.code == 2
    assert "is a GitOps object made from the overlays' gitops fields" in gitops.stderr
    absent = rtc(REPO, "explain", "out/demo/nothing.yaml", "spec")
    assert absent.code == 2 and "out/demo/nothing.yaml: no such file [E401]" in absent.stderr
    assert rtc(REPO, "explain", "--cluster", "demo", "spec").code == 2


def test_a_stale_file_is_pointed_out(repo: Path, rtc: RtcRunner) -> None:
    assert rtc(repo, "build").code == 0
    target = repo / VLLM_FILE
    target.write_text(target.read_text(encoding="utf-8").replace("cpu: 8", "cpu: 4"), encoding="utf-8")
    result = rtc(repo, "explain", VLLM_FILE, "spec.containers[0].resources.limits.cpu")
    assert result.code == 0
    assert f"note: {VLLM_FILE} has 4, not what the sources give; run `rtc build`" in result.stdout


def test_a_broken_overlay_is_a_finding_not_a_usage_error(repo: Path, rtc: RtcRunner) -> None:
    assert rtc(repo, "build").code == 0
    overlay = repo / "overlays" / "prod-airgap.jsonnet"
    overlay.write_text(overlay.read_text(encoding="utf-8").replace("rtc.deploy(triton", "rtc.deploy(tritn"))
    result = rtc(repo, "explain", VLLM_FILE, "spec")
    assert result.code == 1
    assert "overlays/prod-airgap.jsonnet:" in result.stderr


class TestFieldPaths:
    def test_parse(self) -> None:
        assert fieldpath.parse("spec.containers[0].env[name=HOME].value") == [
            Key("spec", bare=True),
            Key("containers", bare=True),
            Index(0),
            Key("env", bare=True),
            Select("name", "HOME"),
            Key("value", bare=True),
        ]
        assert fieldpath.parse("metadata.labels['a.b/c']") == [
            Key("metadata", bare=True),
            Key("labels", bare=True),
            Key("a.b/c"),
        ]
        with pytest.raises(PathError):
            fieldpath.parse("  ")

    def test_resolve_addresses_named_items_by_name(self) -> None:
        obj = {"items": [{"name": "a", "v": 1}, {"name": "b", "v": 2}], "plain": [5, 6]}
        assert fieldpath.resolve(obj, fieldpath.parse("items[1].v")) == [Key("items"), Select("name", "b"), Key("v")]
        assert fieldpath.resolve(obj, fieldpath.parse("plain[-1]")) == [Key("plain"), Index(1)]
        # The same canonical path finds the item after a reorder.
        reordered = {"items": [{"name": "b", "v": 3}, {"name": "a", "v": 1}]}
        assert fieldpath.lookup(reordered, [Key("items"), Select("name", "b"), Key("v")]) == 3
        assert fieldpath.lookup(reordered, [Key("items"), Select("name", "c")]) is MISSING

    def test_resolve_errors(self) -> None:
        with pytest.raises(PathError, match=r"items\[name=a\] has no field 'w'") as caught:
            fieldpath.resolve({"items": [{"name": "a", "v": 1}]}, fieldpath.parse("items[0].w"))
        assert caught.value.suggestions[0] == "items[0].v"
        with pytest.raises(PathError, match="has no item"):
            fieldpath.resolve({"items": []}, fieldpath.parse("items[0]"))


def test_lint_errors_do_not_stop_explain(repo: Path, rtc: RtcRunner) -> None:
    runtime = repo / "catalog" / "vllm" / "main.libsonnet"
    runtime.write_text(runtime.read_text(encoding="utf-8").replace("v0.18.0", "latest"), encoding="utf-8")
    assert rtc(repo, "build").code == 1  # RTC201: a moving tag fails the build
    result = rtc(repo, "explain", "--cluster", "demo", "--name", VLLM, "spec.containers[0].image")
    assert result.code == 0, result.stderr
    assert result.stdout.splitlines()[1] == "spec.containers[name=kserve-container].image = vllm/vllm-openai:latest"
