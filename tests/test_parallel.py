"""Rendering in worker processes gives exactly what one process gives; a dead worker is one target's error."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from bench import workload
from compiler import workers
from compiler.pipeline import BuildResult, build
from compiler.project import load_project


def outcome(result: BuildResult) -> tuple[list[str], dict[str, bytes], list[str]]:
    return (
        [r.target.name for r in result.renders],
        result.files,
        [d.format() for d in result.all_diagnostics],
    )


def test_any_worker_count_gives_the_single_worker_output(tmp_path: Path) -> None:
    written = workload.write(workload.SCALES["small"], tmp_path / "small")
    project = load_project(Path(written.root))
    single = build(project, jobs=1, use_cache=False)
    assert single.ok and len([f for f in single.files if f.startswith("fleet-")]) == 192 + 6
    for jobs in (2, 3, 6):
        assert outcome(build(project, jobs=jobs, use_cache=False)) == outcome(single), jobs


def test_errors_and_their_order_are_the_same_in_workers(repo: Path) -> None:
    (repo / "overlays/broken.jsonnet").write_text("{\n  a: 1\n  b: 2,\n}\n")
    runtime = repo / "catalog/triton/main.libsonnet"
    runtime.write_text(runtime.read_text().replace("name: 'triton',", "name: error 'no triton here',"))
    project = load_project(repo)
    single = build(project, jobs=1, use_cache=False)
    assert not single.ok
    assert outcome(build(project, jobs=2, use_cache=False)) == outcome(single)


def _square(n: int) -> int:
    return n * n


def _die_on_three(n: int) -> int:
    if n == 3:
        os.kill(os.getpid(), signal.SIGKILL)
    return n


def _raise_on_two(n: int) -> int:
    if n == 2:
        raise ValueError("two is not allowed")
    return n


def test_run_forked_returns_results_in_item_order_and_reports_in_order() -> None:
    seen: list[int] = []
    results = workers.run_forked(_square, list(range(20)), 3, lambda index, _: seen.append(index))
    assert results == [n * n for n in range(20)]
    assert seen == list(range(20))


def test_a_killed_worker_is_a_crash_for_its_item_only() -> None:
    results = workers.run_forked(_die_on_three, [1, 2, 3, 4], 2)
    assert results[:2] == [1, 2] and results[3] == 4
    crash = results[2]
    assert isinstance(crash, workers.Crash)
    assert "SIGKILL" in crash.message


def test_an_exception_in_a_worker_is_raised_with_its_traceback() -> None:
    with pytest.raises(workers.WorkerError, match="two is not allowed"):
        workers.run_forked(_raise_on_two, [1, 2, 3], 2)
