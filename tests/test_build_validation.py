"""`rtc build` validates every object it renders before anything is written."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import run_rtc, snapshot


def break_runtime(repo: Path, runtime: str, old: str, new: str) -> None:
    path = repo / "catalog" / runtime / "main.libsonnet"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_an_invalid_object_fails_the_build_with_file_path_value_expectation_and_layers(repo: Path) -> None:
    assert run_rtc(repo, "build").code == 0
    before = snapshot(repo / "out")
    break_runtime(repo, "mlserver", "memory='6Gi')", "memory='6 GiB')")

    run = run_rtc(repo, "build", "--target", "demo")

    assert run.code == 1
    expected = (
        "catalog/mlserver/main.libsonnet: error: out/demo/clusterservingruntime-aml-mlserver-cpu.yaml would not be "
        'a valid ClusterServingRuntime: spec.containers[0].resources.limits.memory: got "6 GiB"; expected a '
        "Kubernetes quantity such as 500m, 2, 1.5 or 8Gi [E301]\n"
        "  in target demo, ClusterServingRuntime/aml-mlserver-cpu (mlserver on cpu), "
        "at spec.containers[0].resources.limits.memory\n"
        "  see overlays/demo.jsonnet\n"
        "  see hardware/cpu.libsonnet\n"
        "  see catalog/lib/platforms/alauda.libsonnet\n"
    )
    assert expected in run.stderr
    # Limits and requests, on both profiles mlserver is deployed on in demo.
    assert run.stderr.count("[E301]") == 4
    assert "rtc: build failed: 4 errors, 0 warnings; out/ left unchanged" in run.stderr
    assert snapshot(repo / "out") == before


def test_a_duplicate_env_name_fails_the_build(repo: Path) -> None:
    break_runtime(
        repo,
        "mlserver",
        "{ name: 'MLSERVER_MODEL_URI', value: '/mnt/models' },",
        "{ name: 'MLSERVER_MODEL_URI', value: '/mnt/models' }, { name: 'MLSERVER_MODEL_URI', value: '/models' },",
    )
    run = run_rtc(repo, "build")
    assert run.code == 1
    assert (
        'spec.containers[0].env[1]: duplicate entry name="MLSERVER_MODEL_URI" (first at spec.containers[0].env[0])'
        in run.stderr
    )
    assert not (repo / "out").exists()


def test_the_bundled_catalog_builds_valid(repo: Path) -> None:
    run = run_rtc(repo, "build")
    assert run.code == 0, run.stderr
    assert "[E3" not in run.stderr and "[W3" not in run.stderr


def test_gitops_objects_are_validated_against_their_crds_and_blamed_on_the_overlay() -> None:
    from compiler.model import ClusterRender, Layers, RenderedObject
    from compiler.validation import default_validator
    from compiler.validation.rendered import validate_cluster

    application = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "demo", "namespace": "argocd"},
        "spec": {"project": "default", "source": {"repoURL": "https://git.example/x.git", "path": "out/demo"}},
    }
    folder = ClusterRender(
        "argocd",
        "",
        "rtc.toml",
        [RenderedObject("argocd", "", "", application, Layers("", "", "", "overlays/demo.jsonnet"))],
    )
    (finding,) = validate_cluster(folder, default_validator(), "out")
    assert str(finding.span) == "overlays/demo.jsonnet"
    assert finding.message.startswith("out/argocd/application-argocd-demo.yaml would not be a valid Application: spec")
    assert "destination" in finding.message
    assert finding.related == ()
