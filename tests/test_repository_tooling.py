"""The files users copy into their catalog repositories: the GitHub workflow and the
pre-commit hooks. Checked with the real linters, and their commands run."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from compiler.diff_report import COMMENT_MARKER
from tests.conftest import REPO
from tests.gitops_tools import tool

WORKFLOW = REPO / ".github" / "workflows" / "rtc.yml"
HOOKS = REPO / ".pre-commit-hooks.yaml"
VENV_BIN = Path(sys.executable).parent


def test_workflow_passes_actionlint_with_shellcheck() -> None:
    proc = subprocess.run(
        [tool("actionlint"), "-shellcheck", str(VENV_BIN / "shellcheck"), str(WORKFLOW)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def workflow_steps() -> dict[str, dict[str, Any]]:
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    return {step.get("name", step.get("uses")): step for step in workflow["jobs"]["check"]["steps"]}


def test_workflow_comments_the_markdown_diff_and_updates_its_own_comment() -> None:
    steps = workflow_steps()
    assert steps["actions/checkout@v4"]["with"]["fetch-depth"] == 0
    render = steps["Render the change"]["run"]
    assert 'rtc diff --base "origin/${BASE_REF}" --format markdown > rtc-diff.md' in render
    comment = steps["Comment on the pull request"]["run"]
    # The comment is found again by the marker rtc diff writes first.
    assert f"marker='{COMMENT_MARKER}'" in comment
    assert "--body-file rtc-diff.md" in comment
    check = steps["out/ and the generated docs are current"]["run"]
    assert check.split("\n")[:2] == ["rtc build --check", "rtc docs --check"]


def test_hooks_manifest_is_valid_for_pre_commit() -> None:
    proc = subprocess.run(
        [str(VENV_BIN / "pre-commit"), "validate-manifest", str(HOOKS)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def run_hook(hook_id: str, repo: Path) -> int:
    (hook,) = [h for h in yaml.safe_load(HOOKS.read_text(encoding="utf-8")) if h["id"] == hook_id]
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(shlex.split(hook["entry"]), cwd=repo, env=env, capture_output=True, check=False).returncode


def test_hooks_check_and_regenerate(repo: Path) -> None:
    # This repository's rtc.toml documents the rules' findings on the vendor's examples.
    shutil.copytree(REPO / "tests" / "fixtures" / "seed", repo / "tests" / "fixtures" / "seed")
    assert run_hook("rtc-check", repo) == 1  # a fresh copy has neither out/ nor docs/
    assert run_hook("rtc-build", repo) == 0
    assert (repo / "out" / "demo" / "kustomization.yaml").is_file()
    assert (repo / "docs" / "catalog.md").is_file()
    assert run_hook("rtc-check", repo) == 0
    runtime = repo / "catalog" / "vllm" / "main.libsonnet"
    runtime.write_text(runtime.read_text(encoding="utf-8").replace("v0.18.0", "v0.19.0"), encoding="utf-8")
    assert run_hook("rtc-check", repo) == 1
