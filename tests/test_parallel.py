"""Rendering in worker processes gives exactly what one process gives; a dead worker is one target's error."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench import workload
from compiler import workers
from compiler.pipeline import BuildResult, build, render_target
from compiler.project import load_project
from compiler.targets import discover


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
    # Every build forks its workers; this process renders the same bytes itself.
    in_process: dict[str, bytes] = {}
    for target in discover(project)[0]:
        in_process.update(render_target(project, target, project.engine).files)
    assert in_process == {rel: data for rel, data in single.files.items() if rel.startswith("fleet-")}


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


def _pid_of_worker(_: int) -> int:
    return os.getpid()


def _sleep_on_one(n: int) -> int:
    if n == 1:
        time.sleep(600)
    return n


def test_a_worker_serves_several_items_up_to_its_limit() -> None:
    pids = workers.run_forked(_pid_of_worker, list(range(10)), 2, per_worker=3)
    assert all(isinstance(pid, int) and pid != os.getpid() for pid in pids)
    served = {pid: pids.count(pid) for pid in set(pids)}
    assert max(served.values()) == 3 and len(served) >= 4  # reused, and replaced after three items
    assert len(set(workers.run_forked(_pid_of_worker, list(range(6)), 6, per_worker=1))) == 6


def test_a_worker_past_the_deadline_loses_only_its_item() -> None:
    started = time.monotonic()
    results = workers.run_forked(_sleep_on_one, list(range(6)), 2, timeout=1.0, per_worker=4)
    assert time.monotonic() - started < 30
    assert [r for i, r in enumerate(results) if i != 1] == [0, 2, 3, 4, 5]
    crash = results[1]
    assert isinstance(crash, workers.Crash) and crash.timed_out


def test_a_killed_worker_is_a_crash_for_its_item_only() -> None:
    results = workers.run_forked(_die_on_three, [1, 2, 3, 4], 2)
    assert results[:2] == [1, 2] and results[3] == 4
    crash = results[2]
    assert isinstance(crash, workers.Crash)
    assert "SIGKILL" in crash.message


def test_an_exception_in_a_worker_is_raised_with_its_traceback() -> None:
    with pytest.raises(workers.WorkerError, match="two is not allowed"):
        workers.run_forked(_raise_on_two, [1, 2, 3], 2)


_ORPHAN_SCRIPT = """
import sys, time
from compiler import workers

def wait_forever(pid_file: str) -> None:
    with open(pid_file, "w") as f:
        f.write(str(__import__("os").getpid()))
    time.sleep(600)

workers.run_forked(wait_forever, [sys.argv[1]], 1)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_a_killed_build_leaves_no_worker_running(tmp_path: Path) -> None:
    """A worker evaluating forever dies with rtc (SIGKILL leaves the parent no time to stop it)."""
    pid_file = tmp_path / "worker.pid"
    parent = subprocess.Popen([sys.executable, "-c", _ORPHAN_SCRIPT, str(pid_file)])
    try:
        deadline = time.monotonic() + 30
        while not (pid_file.exists() and pid_file.read_text()) and time.monotonic() < deadline:
            time.sleep(0.05)
        worker = int(pid_file.read_text())
        assert _alive(worker)
    finally:
        parent.kill()
        parent.wait()
    deadline = time.monotonic() + 10
    while _alive(worker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(worker), "the worker outlived the killed build"
