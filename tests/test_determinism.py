"""Same inputs, same bytes: whatever the worker count, engine or evaluation order."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from tests.conftest import Run, copy_catalog, snapshot


def build_tree(root: Path, rtc: Callable[..., Run], *args: str) -> dict[str, bytes]:
    result = rtc(root, *args)
    assert result.code == 0, result.stderr
    files = snapshot(root / "out")
    shutil.rmtree(root / "out")
    return files


def test_workers_engines_and_target_order_do_not_change_bytes(tmp_path: Path, rtc: Callable[..., Run]) -> None:
    repo = copy_catalog(tmp_path / "repo")
    # --no-cache: each of these must really render (the cache would replay the first build).
    reference = build_tree(repo, rtc, "build", "--no-cache", "--jobs", "1")
    assert len(reference) == 19  # 18 files and the ownership index
    assert build_tree(repo, rtc, "build", "--no-cache", "--jobs", "2") == reference
    assert build_tree(repo, rtc, "--engine", "gojsonnet", "build", "--no-cache") == reference
    # Targets named in reverse order, one at a time, still give the same tree.
    rtc(repo, "build", "--target", "prod-airgap")
    rtc(repo, "build", "--target", "demo")
    assert snapshot(repo / "out") == reference


def test_a_copy_elsewhere_builds_the_same_bytes(tmp_path: Path, rtc: Callable[..., Run]) -> None:
    first = copy_catalog(tmp_path / "a")
    second = copy_catalog(tmp_path / "deeper" / "path" / "b")
    assert build_tree(first, rtc, "build") == build_tree(second, rtc, "build")
