"""`rtc build`, `rtc build --check` and `rtc show`, run as a user runs them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import yaml

from tests.conftest import REPO, Run, snapshot

RtcRunner = Callable[..., Run]


def test_build_writes_every_cluster_and_is_then_current(repo: Path, rtc: RtcRunner) -> None:
    first = rtc(repo, "build")
    assert first.code == 0, first.stderr
    assert "demo: 8 objects" in first.stderr
    # 11 runtime objects, 2 cluster kustomizations, 5 GitOps files (out/argocd/, out/flux/).
    assert "wrote out/: 18 added, 0 changed, 0 removed, 0 unchanged" in first.stderr
    files = snapshot(repo / "out")
    assert snapshot(REPO / "out") == files, "the committed out/ is not what the catalog produces"
    check = rtc(repo, "build", "--check")
    assert check.code == 0 and "out/ is current (18 files" in check.stderr
    again = rtc(repo, "build")
    assert again.code == 0 and "out/ is current" in again.stderr
    assert snapshot(repo / "out") == files


def test_check_lists_added_changed_removed_and_writes_nothing(repo: Path, rtc: RtcRunner) -> None:
    assert rtc(repo, "build").code == 0
    before = snapshot(repo / "out")
    triton = repo / "catalog/triton/main.libsonnet"
    triton.write_text(triton.read_text().replace("25.02-py3", "25.04-py3"))
    (repo / "overlays/prod-airgap.jsonnet").unlink()
    overlay = repo / "overlays/edge.jsonnet"
    overlay.write_text(
        "local rtc = import 'catalog/lib/rtc.libsonnet';\n"
        "rtc.cluster { name: 'edge', platform: rtc.platforms.kserve,\n"
        "  deployments: [rtc.deploy(import 'catalog/xinference/main.libsonnet', import 'hardware/cpu.libsonnet')] }\n"
    )
    check = rtc(repo, "build", "--check")
    assert check.code == 1
    lines = check.stdout.splitlines()
    assert "added    out/edge/clusterservingruntime-xinference-cpu.yaml" in lines
    assert "changed  out/demo/clusterservingruntime-aml-triton-cuda-12.yaml" in lines
    assert "removed  out/prod-airgap/kustomization.yaml" in lines
    assert "run `make build` and commit out/" in check.stderr
    assert snapshot(repo / "out") == before

    build = rtc(repo, "build")
    assert build.code == 0, build.stderr
    assert not (repo / "out/prod-airgap").exists()
    edge = yaml.safe_load((repo / "out/edge/clusterservingruntime-xinference-cpu.yaml").read_text())
    assert edge["metadata"]["labels"]["app.kubernetes.io/name"] == "xinference"
    assert rtc(repo, "build", "--check").code == 0


def test_hand_written_files_in_out_survive_and_are_reported(repo: Path, rtc: RtcRunner) -> None:
    assert rtc(repo, "build").code == 0
    notes = repo / "out/demo/NOTES.md"
    notes.write_text("hand-written\n")
    (repo / "out/README.md").write_text("ours\n")
    triton = repo / "catalog/triton/main.libsonnet"
    triton.write_text(triton.read_text().replace("25.02-py3", "25.04-py3"))
    result = rtc(repo, "build")
    assert result.code == 0, result.stderr
    assert "kept out/demo/NOTES.md (not written by rtc)" in result.stderr
    assert notes.read_text() == "hand-written\n"
    assert (repo / "out/README.md").read_text() == "ours\n"


def test_rtc_never_overwrites_a_file_it_does_not_own(repo: Path, rtc: RtcRunner) -> None:
    (repo / "out/demo").mkdir(parents=True)
    mine = repo / "out/demo/clusterservingruntime-aml-triton-cuda-12.yaml"
    mine.write_text("# mine\n")
    result = rtc(repo, "build")
    assert result.code == 1
    assert "out/demo/clusterservingruntime-aml-triton-cuda-12.yaml exists but rtc did not write it" in result.stderr
    assert mine.read_text() == "# mine\n"


def test_target_build_touches_only_that_cluster(repo: Path, rtc: RtcRunner) -> None:
    assert rtc(repo, "build").code == 0
    before = snapshot(repo / "out")
    for path in (repo / "catalog/triton/main.libsonnet",):
        path.write_text(path.read_text().replace("25.02-py3", "25.04-py3"))
    result = rtc(repo, "build", "--target", "demo")
    assert result.code == 0, result.stderr
    after = snapshot(repo / "out")
    changed = {k for k in after if after[k] != before.get(k)}
    assert changed == {"demo/clusterservingruntime-aml-triton-cuda-12.yaml", ".rtc-index.json"}
    # prod-airgap is stale now, and a full check says so.
    check = rtc(repo, "build", "--check")
    assert check.code == 1
    assert check.stdout.splitlines() == ["changed  out/prod-airgap/clusterservingruntime-aml-triton-cuda-12.yaml"]


def test_failed_build_leaves_out_untouched_and_names_the_place(repo: Path, rtc: RtcRunner) -> None:
    assert rtc(repo, "build").code == 0
    before = snapshot(repo / "out")
    overlay = repo / "overlays/prod-airgap.jsonnet"
    overlay.write_text(overlay.read_text().replace("rtc.deploy(triton, cuda121)", "rtc.deploy(triton, ascend910b4)"))
    result = rtc(repo, "build")
    assert result.code == 1
    assert (
        'overlays/prod-airgap.jsonnet:16:5: error: runtime "triton" does not support hardware '
        '"ascend-910b4"; it supports: nvidia-cuda-12.1 [E102]'
    ) in result.stderr
    assert "build failed: 1 error, 0 warnings; out/ left unchanged" in result.stderr
    assert snapshot(repo / "out") == before


def test_syntax_error_reports_file_line_column(repo: Path, rtc: RtcRunner) -> None:
    hardware = repo / "hardware/cpu.libsonnet"
    hardware.write_text(hardware.read_text().replace("family: 'cpu',", "family: 'cpu'"))
    for engine in ("rjsonnet", "gojsonnet"):
        result = rtc(repo, "--engine", engine, "build")
        assert result.code == 1
        assert "hardware/cpu.libsonnet:7:3: error: syntax error" in result.stderr, (engine, result.stderr)
    assert not (repo / "out").exists()


def test_unknown_target_is_a_usage_error_with_a_suggestion(repo: Path, rtc: RtcRunner) -> None:
    result = rtc(repo, "build", "--target", "prod-airgapp")
    assert result.code == 2
    assert "error: no target named 'prod-airgapp' (no overlays/prod-airgapp.jsonnet) [E003]" in result.stderr
    assert "hint: did you mean 'prod-airgap'?" in result.stderr


def test_show_prints_yaml_and_writes_nothing(repo: Path, rtc: RtcRunner) -> None:
    result = rtc(repo, "show", "prod-airgap", "--runtime", "vllm")
    assert result.code == 0, result.stderr
    docs = list(yaml.safe_load_all(result.stdout))
    assert [d["metadata"]["name"] for d in docs] == ["aml-vllm-cuda-12.1"]
    assert (
        docs[0]["spec"]["containers"][0]["image"] == "registry.prod.internal/mirror/docker.io/vllm/vllm-openai:v0.18.0"
    )
    assert not (repo / "out").exists()
    every = list(yaml.safe_load_all(rtc(repo, "show", "demo").stdout))
    assert len(every) == 8


def test_show_unknown_runtime_suggests(repo: Path, rtc: RtcRunner) -> None:
    result = rtc(repo, "show", "demo", "--runtime", "vlm")
    assert result.code == 2
    assert "no runtime 'vlm' in cluster demo; did you mean 'vllm'?" in result.stderr


def test_no_repository_is_a_usage_error(tmp_path: Path, rtc: RtcRunner) -> None:
    result = rtc(tmp_path, "build")
    assert result.code == 2
    assert "rtc.toml: not found; a catalog repository has rtc.toml at its root" in result.stderr
