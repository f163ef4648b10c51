"""Output bytes do not depend on evaluation order, worker count or hash seed.

The real CLI runs in subprocesses with different PYTHONHASHSEED values and -j
settings; in-process, hypothesis shuffles the order of targets and of a
cluster's deployments.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.pipeline import build, render_targets
from compiler.project import load_project
from compiler.targets import select
from tests.conftest import copy_catalog, snapshot

EXTRA_CLUSTERS = 4


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled catalog plus a few more clusters, so there is something to schedule."""
    root = copy_catalog(tmp_path_factory.mktemp("determinism") / "repo")
    demo = (root / "overlays/demo.jsonnet").read_text(encoding="utf-8")
    for i in range(EXTRA_CLUSTERS):
        (root / f"overlays/extra-{i}.jsonnet").write_text(demo.replace("name: 'demo'", f"name: 'extra-{i}'"), "utf-8")
    return root


def cli_build(source: Path, dest: Path, seed: str, *args: str) -> dict[str, bytes]:
    shutil.copytree(source, dest, ignore=shutil.ignore_patterns("out", ".rtc*"))
    env = {**os.environ, "PYTHONHASHSEED": seed}
    subprocess.run([sys.executable, "-m", "compiler", "--root", str(dest), "-q", "build", *args], check=True, env=env)
    return snapshot(dest / "out")


@pytest.fixture(scope="module")
def reference(catalog: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    return cli_build(catalog, tmp_path_factory.mktemp("reference") / "repo", "0", "-j1")


@pytest.mark.parametrize(
    ("seed", "jobs"), [("1", "-j2"), ("4242", "-j1"), ("random", "-j2"), ("99", "-j3")], ids=lambda v: str(v)
)
def test_same_bytes_for_any_hash_seed_and_worker_count(
    catalog: Path, reference: dict[str, bytes], tmp_path: Path, seed: str, jobs: str
) -> None:
    assert len(reference) > 20
    assert cli_build(catalog, tmp_path / "repo", seed, jobs) == reference


@given(st.permutations(list(range(2 + EXTRA_CLUSTERS))))  # demo, prod-airgap and the extras
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_target_order_does_not_change_the_files(catalog: Path, order: list[int]) -> None:
    project = load_project(catalog)
    targets, _ = select(project, ())
    assert len(targets) == len(order)
    shuffled = [targets[i] for i in order]
    renders = render_targets(project, shuffled, project.engine, 1)
    merged = {path: data for render in renders for path, data in render.files.items()}
    expected = {
        path: data
        for render in render_targets(project, targets, project.engine, 1)
        for path, data in render.files.items()
    }
    assert merged == expected


@given(st.randoms(use_true_random=False))
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_deployment_order_does_not_change_the_files(
    tmp_path_factory: pytest.TempPathFactory, rnd: random.Random
) -> None:
    root = copy_catalog(tmp_path_factory.mktemp("order") / "repo")
    deployments = [
        "rtc.deploy(catalog.vllm, hardware['nvidia-cuda-12.1'])",
        "rtc.deploy(catalog.triton, hardware['nvidia-cuda-12.1'])",
        "rtc.deploy(catalog.mlserver, hardware.cpu)",
        "rtc.deploy(catalog.mlserver, hardware['nvidia-cuda-11.6'])",
        "rtc.deploy(catalog.xinference, hardware.cpu)",
        "rtc.deploy(catalog['vllm-ascend'], hardware['ascend-910b4'])",
    ]
    overlay = root / "overlays/demo.jsonnet"
    text = overlay.read_text(encoding="utf-8")

    def files_for(order: list[str]) -> dict[str, bytes]:
        listed = "[\n    " + ",\n    ".join(order) + ",\n  ]"
        overlay.write_text(text.replace("rtc.everySupported(catalog, hardware)", listed), encoding="utf-8")
        result = build(load_project(root), ("demo",), jobs=1)
        assert result.ok, [d.format() for d in result.all_diagnostics]
        return result.files

    shuffled = list(deployments)
    rnd.shuffle(shuffled)
    assert files_for(shuffled) == files_for(deployments)
