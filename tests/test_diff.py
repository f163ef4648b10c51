"""`rtc diff`: render a base revision and the working tree, compare object by object.

Each test makes a throw-away Git repository from a copy of the catalog. The copy
holds no compiler code, so the base revision is necessarily rendered by this
(the working tree's) compiler.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Run, copy_catalog

RtcRunner = Callable[..., Run]
VLLM_IMAGE_CHANGE = (
    "      ~ spec.containers[name=kserve-container].image: vllm/vllm-openai:v0.18.0 -> vllm/vllm-openai:v0.19.0"
)


def git(repo: Path, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True)
    return proc.stdout


@pytest.fixture
def git_repo(tmp_path: Path) -> Path:
    repo = copy_catalog(tmp_path / "catalog-repo")
    git(repo, "init", "--quiet", "--initial-branch=main")
    git(repo, "config", "user.email", "test@example.com")
    git(repo, "config", "user.name", "rtc tests")
    git(repo, "add", "-A")
    git(repo, "commit", "--quiet", "-m", "catalog")
    git(repo, "switch", "--quiet", "-c", "change")
    return repo


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def bump_vllm(repo: Path) -> None:
    edit(repo / "catalog/vllm/main.libsonnet", "vllm/vllm-openai:v0.18.0", "vllm/vllm-openai:v0.19.0")


def test_an_image_tag_is_one_line_per_object(git_repo: Path, rtc: RtcRunner) -> None:
    bump_vllm(git_repo)
    git(git_repo, "commit", "--quiet", "-am", "vllm 0.19")
    result = rtc(git_repo, "diff")
    assert result.code == 0, result.stderr
    base = git(git_repo, "rev-parse", "main").strip()
    assert result.stdout == (
        "demo\n"
        "  ~ ClusterServingRuntime/aml-vllm-cuda-12.1  out/demo/clusterservingruntime-aml-vllm-cuda-12.1.yaml\n"
        f"{VLLM_IMAGE_CHANGE}\n"
        "prod-airgap\n"
        "  ~ ClusterServingRuntime/aml-vllm-cuda-12.1  out/prod-airgap/clusterservingruntime-aml-vllm-cuda-12.1.yaml\n"
        "      ~ spec.containers[name=kserve-container].image: "
        "registry.prod.internal/mirror/docker.io/vllm/vllm-openai:v0.18.0 -> "
        "registry.prod.internal/mirror/docker.io/vllm/vllm-openai:v0.19.0\n"
        "\n"
        "rtc diff: 2 changed, 0 added, 0 removed in 2 cluster folders; "
        f"base merge-base(HEAD, main) ({base[:12]})\n"
    )


def test_uncommitted_edits_count_and_nothing_is_left_behind(git_repo: Path, rtc: RtcRunner) -> None:
    bump_vllm(git_repo)
    status = git(git_repo, "status", "--porcelain")
    result = rtc(git_repo, "diff", "--base", "main")
    assert result.code == 0
    assert VLLM_IMAGE_CHANGE in result.stdout.splitlines()
    # The temporary worktree is gone and the user's tree and index are as they were.
    assert len(git(git_repo, "worktree", "list").splitlines()) == 1
    assert git(git_repo, "status", "--porcelain") == status


def test_added_and_removed_objects(git_repo: Path, rtc: RtcRunner) -> None:
    overlay = git_repo / "overlays/prod-airgap.jsonnet"
    edit(overlay, "    rtc.deploy(triton, cuda121),\n", "")
    edit(
        overlay,
        "local ascend910b4 = import 'hardware/ascend-910b4.libsonnet';",
        "local ascend910b4 = import 'hardware/ascend-910b4.libsonnet';\n"
        "local xinference = import 'catalog/xinference/main.libsonnet';",
    )
    edit(
        overlay,
        "    rtc.deploy(vllm, cuda121),\n",
        "    rtc.deploy(vllm, cuda121),\n    rtc.deploy(xinference, cuda121),\n",
    )
    result = rtc(git_repo, "diff", "--base", "main", "--format", "json")
    assert result.code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["summary"] == {"changed": 0, "added": 1, "removed": 1}
    assert [(o["folder"], o["name"], o["change"]) for o in report["objects"]] == [
        ("prod-airgap", "aml-triton-cuda-12", "removed"),
        ("prod-airgap", "aml-xinference-cuda-12.1", "added"),
    ]
    assert report["objects"][1]["file"] == "out/prod-airgap/clusterservingruntime-aml-xinference-cuda-12.1.yaml"


def test_a_script_change_shows_only_the_changed_lines(git_repo: Path, rtc: RtcRunner) -> None:
    edit(git_repo / "catalog/vllm/startup.sh", "  --port 8080 \\\n", "  --port 8080 --max-num-seqs 64 \\\n")
    result = rtc(git_repo, "diff", "--base", "main")
    assert result.code == 0
    lines = result.stdout.splitlines()
    start = lines.index("      ~ spec.containers[name=kserve-container].command[2]:")
    hunk = lines[start + 1 : start + 8]
    assert hunk[0].startswith("          @@ ")
    assert "          -  --port 8080 \\" in hunk
    assert "          +  --port 8080 --max-num-seqs 64 \\" in hunk
    # Context lines, not the whole 44-line script.
    assert sum(1 for line in hunk if line.startswith("          -")) == 1


def test_markdown_is_a_pull_request_comment(git_repo: Path, rtc: RtcRunner) -> None:
    bump_vllm(git_repo)
    edit(git_repo / "overlays/prod-airgap.jsonnet", "revision: 'main',", "revision: 'release-1',")
    result = rtc(git_repo, "diff", "--base", "main", "--format", "markdown")
    assert result.code == 0
    text = result.stdout
    assert text.startswith("<!-- rtc diff -->\n### rtc diff\n\n3 changed, 0 added, 0 removed in 3 cluster folders.")
    assert "| cluster | object | change |" in text
    assert (
        "| demo | `ClusterServingRuntime/aml-vllm-cuda-12.1` | changed `spec.containers[name=kserve-container].image` |"
        in text
    )
    assert "| flux | `GitRepository/flux-system/rtc` | changed `spec.ref.branch` |" in text
    assert "<details><summary>flux: ~ GitRepository/flux-system/rtc</summary>" in text
    assert "```diff\n# spec.ref.branch\n- main\n+ release-1\n```" in text
    assert text.count("<details>") == text.count("</details>") == 3


def test_exit_code_and_no_difference(git_repo: Path, rtc: RtcRunner) -> None:
    same = rtc(git_repo, "diff", "--base", "main", "--exit-code")
    assert same.code == 0
    assert same.stdout.startswith("no differences in the rendered output\n")
    bump_vllm(git_repo)
    assert rtc(git_repo, "diff", "--base", "main", "--exit-code").code == 1
    assert rtc(git_repo, "diff", "--base", "main").code == 0


def test_reordered_named_items_are_reported(git_repo: Path, rtc: RtcRunner) -> None:
    runtime = git_repo / "catalog/vllm/main.libsonnet"
    moved = "        { name: 'GPU_MEMORY_UTILIZATION', value: '0.95' },\n"
    last = "        { name: 'VLLM_CONFIG_ROOT', value: '/tmp' },\n"
    edit(runtime, moved, "")
    edit(runtime, last, last + moved)
    result = rtc(git_repo, "diff", "--base", "main", "--format", "json")
    fields = json.loads(result.stdout)["objects"][0]["fields"]
    assert fields == [
        {
            "path": "spec.containers[name=kserve-container].env",
            "change": "reordered",
            "old": ["MODEL_NAME", "GPU_MEMORY_UTILIZATION", "HOME", "HF_HOME", "VLLM_CONFIG_ROOT"],
            "new": ["MODEL_NAME", "HOME", "HF_HOME", "VLLM_CONFIG_ROOT", "GPU_MEMORY_UTILIZATION"],
        }
    ]


def test_a_base_without_a_catalog_adds_everything(tmp_path: Path, rtc: RtcRunner) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "--quiet", "--initial-branch=main")
    git(repo, "config", "user.email", "test@example.com")
    git(repo, "config", "user.name", "rtc tests")
    (repo / "README").write_text("before rtc\n")
    git(repo, "add", "-A")
    git(repo, "commit", "--quiet", "-m", "start")
    copy_catalog(repo)
    result = rtc(repo, "diff", "--base", "main", "--format", "json")
    assert result.code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["base"]["catalog"] is False
    assert report["summary"] == {"changed": 0, "added": 14, "removed": 0}


def test_the_catalog_in_a_subfolder_of_the_repository(tmp_path: Path, rtc: RtcRunner) -> None:
    repo = tmp_path / "mono"
    catalog = copy_catalog(repo / "platform" / "runtimes")
    git(repo, "init", "--quiet", "--initial-branch=main")
    git(repo, "config", "user.email", "test@example.com")
    git(repo, "config", "user.name", "rtc tests")
    git(repo, "add", "-A")
    git(repo, "commit", "--quiet", "-m", "catalog")
    bump_vllm(catalog)
    result = rtc(catalog, "diff", "--base", "main")
    assert result.code == 0, result.stderr
    assert VLLM_IMAGE_CHANGE in result.stdout.splitlines()


def test_bad_revisions_and_broken_bases(git_repo: Path, tmp_path: Path, rtc: RtcRunner) -> None:
    unknown = rtc(git_repo, "diff", "--base", "no-such-branch")
    assert unknown.code == 2
    assert "error: no commit 'no-such-branch' in this repository (try a branch, tag or commit) [E501]" in unknown.stderr

    outside = copy_catalog(tmp_path / "not-a-repo")
    result = rtc(outside, "diff")
    assert result.code == 2
    assert "is not inside a Git repository" in result.stderr

    # A base whose catalog does not build cannot be compared with.
    edit(git_repo / "overlays/demo.jsonnet", "name: 'demo',", "name: 'demo'")
    git(git_repo, "commit", "--quiet", "-am", "broken")
    edit(git_repo / "overlays/demo.jsonnet", "name: 'demo'", "name: 'demo',")
    broken = rtc(git_repo, "diff", "--base", "HEAD")
    assert broken.code == 1
    assert "does not build with this compiler [E502]" in broken.stderr
    assert "overlays/demo.jsonnet:" in broken.stderr


def test_no_main_branch_asks_for_a_base(git_repo: Path, rtc: RtcRunner) -> None:
    git(git_repo, "branch", "--quiet", "-m", "main", "trunk")
    result = rtc(git_repo, "diff")
    assert result.code == 2
    assert "no branch main or origin/main to compare with; pass --base REF [E501]" in result.stderr


def test_lint_errors_do_not_stop_the_review(git_repo: Path, rtc: RtcRunner) -> None:
    """The diff shows what a change renders; failing lint is for the build and CI to say."""
    edit(git_repo / "catalog/vllm/main.libsonnet", "vllm/vllm-openai:v0.18.0", "vllm/vllm-openai:latest")
    assert rtc(git_repo, "build").code == 1
    result = rtc(git_repo, "diff", "--base", "main")
    assert result.code == 0, result.stderr
    change = "      ~ spec.containers[name=kserve-container].image: vllm/vllm-openai:v0.18.0 -> vllm/vllm-openai:latest"
    assert change in result.stdout.splitlines()
