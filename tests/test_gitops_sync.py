"""What Argo CD and Flux would apply, with the real tools: kustomize v5.7.1, kubeconform
v0.7.0 against the vendored CRDs, and Flux's own post-build substitution code."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import REPO, copy_catalog, run_rtc
from tests.gitops_tools import (
    crd_schemas,
    documents,
    flux_substitute,
    kubeconform,
    kustomize_build,
    object_key,
)
from tests.test_delivery import add_overlay

SUBSTITUTE = "kustomize.toolkit.fluxcd.io/substitute"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled catalog, freshly built (not the committed out/: this tests the code)."""
    repo = copy_catalog(tmp_path_factory.mktemp("sync") / "repo")
    result = run_rtc(repo, "build")
    assert result.code == 0, result.stderr
    return repo / "out"


@pytest.fixture(scope="module")
def schemas(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return crd_schemas(tmp_path_factory.mktemp("schemas"))


def folders(out: Path) -> list[Path]:
    return sorted(p for p in out.iterdir() if p.is_dir())


def written_objects(folder: Path) -> dict[tuple[str, str, str, str], dict[str, Any]]:
    objects = {}
    for path in sorted(folder.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        (obj,) = documents(path.read_text(encoding="utf-8"))
        objects[object_key(obj)] = obj
    return objects


def test_every_folder_is_a_kustomization(built: Path) -> None:
    assert [p.name for p in folders(built)] == ["argocd", "demo", "flux", "prod-airgap"]


def test_kustomize_builds_exactly_the_objects_rtc_wrote(built: Path) -> None:
    for folder in folders(built):
        applied = documents(kustomize_build(folder))
        keys = [object_key(obj) for obj in applied]
        assert len(keys) == len(set(keys)), f"{folder.name}: kustomize returned an object twice"
        expected = written_objects(folder)
        assert sorted(keys) == sorted(expected), folder.name
        for obj in applied:
            assert obj == expected[object_key(obj)], f"{folder.name}: kustomize changed {object_key(obj)}"


def test_what_kustomize_builds_is_valid_against_the_crds(built: Path, schemas: Path) -> None:
    for folder in folders(built):
        manifests = kustomize_build(folder)
        result = kubeconform(schemas, manifests)
        count = len(documents(manifests))
        assert result.returncode == 0, f"{folder.name}:\n{result.stdout}{result.stderr}"
        # Every object was validated: none skipped for a missing schema.
        assert f"Summary: {count} resource{'s' * (count != 1)} found parsing stdin - Valid: {count}, " in result.stdout


def test_kubeconform_with_these_schemas_rejects_a_broken_gitops_object(built: Path, schemas: Path) -> None:
    """The schemas are strict: the positive test above can fail."""
    (kustomization,) = [obj for obj in documents(kustomize_build(built / "flux")) if obj["kind"] == "Kustomization"]
    broken = copy.deepcopy(kustomization)
    broken["spec"]["prun"] = True
    del broken["spec"]["sourceRef"]
    result = kubeconform(schemas, yaml.safe_dump(broken))
    assert result.returncode == 1
    assert "prun" in result.stdout and "sourceRef" in result.stdout


def script_sources() -> str:
    """The vLLM startup script exactly as written in the catalog."""
    return (REPO / "catalog/lib/scripts/vllm-model-path.sh").read_text(encoding="utf-8") + (
        REPO / "catalog/vllm/startup.sh"
    ).read_text(encoding="utf-8")


def vllm_script(objects: list[dict[str, Any]]) -> str:
    (obj,) = [o for o in objects if o["metadata"]["name"] == "aml-vllm-cuda-12.1"]
    script = obj["spec"]["containers"][0]["command"][2]
    assert isinstance(script, str)
    return script


# A Flux Kustomization with post-build substitution, as a platform team might
# wrap out/prod-airgap/ to inject cluster variables.
SUBSTITUTING_KUSTOMIZATION = {
    "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
    "kind": "Kustomization",
    "metadata": {"name": "runtimes", "namespace": "flux-system"},
    "spec": {"postBuild": {"substitute": {"cluster_name": "prod-airgap", "MODEL_PATH": "/hijacked"}}},
}


def test_startup_scripts_survive_kustomize_and_flux_substitution(built: Path, tmp_path: Path) -> None:
    manifests = kustomize_build(built / "prod-airgap")
    applied = documents(manifests)
    # kustomize hands the script over unchanged: every ${...} byte as written.
    assert vllm_script(applied) == script_sources()
    assert "${MODEL_PATH}" in script_sources()

    substituted = documents(flux_substitute(SUBSTITUTING_KUSTOMIZATION, manifests, tmp_path))
    assert vllm_script(substituted) == script_sources()
    assert {object_key(o): o for o in substituted} == {object_key(o): o for o in applied}


def test_without_the_annotation_flux_rewrites_the_script(built: Path, tmp_path: Path) -> None:
    """The same objects, annotation removed: Flux's envsubst replaces ${MODEL_PATH}
    with the Kustomization's value and every unknown ${VAR} with "". So the
    annotation is what keeps the script intact."""
    applied = documents(kustomize_build(built / "prod-airgap"))
    for obj in applied:
        obj["metadata"].get("annotations", {}).pop(SUBSTITUTE, None)
    stripped = "---\n".join(yaml.safe_dump(obj) for obj in applied)
    script = vllm_script(documents(flux_substitute(SUBSTITUTING_KUSTOMIZATION, stripped, tmp_path)))
    assert "${" not in script
    assert '--model "/hijacked"' in script
    # Unknown variables become empty strings: the script loses its values.
    assert '--gpu-memory-utilization ""' in script
    assert 'local model_dir="/mnt/models/"' in script


def test_rtcs_own_flux_kustomizations_do_not_substitute(built: Path) -> None:
    """kustomize-controller substitutes only when spec.postBuild is set; rtc's never is,
    so the annotation guards against a wrapping Kustomization, not against rtc's own."""
    for obj in documents(kustomize_build(built / "flux")):
        if obj["kind"] == "Kustomization":
            assert "postBuild" not in obj["spec"]


def test_every_gitops_variant_is_valid_against_the_crds(tmp_path: Path, schemas: Path) -> None:
    """Applications, mixed destinations in the ApplicationSet, a kubeconfig Secret."""
    repo = copy_catalog(tmp_path / "repo")
    url = "https://git.example.com/platform/ai-runtime-catalog.git"
    add_overlay(repo, "edge", f"rtc.argocd {{ repoURL: '{url}', destination: {{ server: 'https://10.0.0.1:6443' }} }}")
    add_overlay(repo, "lab", f"rtc.argocd {{ repoURL: '{url}', destination: {{ name: 'lab' }}, mode: 'application' }}")
    add_overlay(
        repo, "remote", f"rtc.flux {{ repoURL: '{url}', source: 'remote', kubeConfigSecret: 'remote-kubeconfig' }}"
    )
    assert run_rtc(repo, "build").code == 0
    kinds: list[str] = []
    for folder in ("argocd", "flux"):
        manifests = kustomize_build(repo / "out" / folder)
        kinds.extend(obj["kind"] for obj in documents(manifests))
        result = kubeconform(schemas, manifests)
        assert result.returncode == 0, f"{folder}:\n{result.stdout}{result.stderr}"
    assert sorted(kinds) == [
        "Application",
        "ApplicationSet",
        "GitRepository",
        "GitRepository",
        "Kustomization",
        "Kustomization",
    ]
