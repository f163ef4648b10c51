"""The helper forked at start-up renders what the parent would; when it fails, the parent renders the rest."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench import workload
from compiler import prefork, workers
from compiler.pipeline import TargetRender, render_targets, render_targets_here
from compiler.project import Project, load_project
from compiler.targets import Target, discover
from tests.conftest import snapshot


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> tuple[Project, list[Target]]:
    written = workload.write(workload.SCALES["small"], tmp_path_factory.mktemp("prefork") / "small")
    project = load_project(Path(written.root))
    return project, discover(project)[0]


@pytest.fixture(autouse=True)
def no_helper_left(monkeypatch: pytest.MonkeyPatch) -> object:
    # `rtc build` starts its helper before anything could load go-jsonnet; an earlier
    # test in this process may have loaded it, which makes every render serial
    # (compiler/pipeline.py), so it is set aside here as a build would not have it.
    monkeypatch.delitem(sys.modules, "_gojsonnet", raising=False)
    # On one core rtc starts no helper (prefork.wanted); these tests need one regardless.
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.delenv("RTC_NO_PREFORK", raising=False)
    yield
    prefork.discard()


def files_of(renders: list[TargetRender]) -> list[tuple[str, dict[str, bytes]]]:
    return [(r.target.name, r.files) for r in renders]


def here(project: Project, targets: list[Target]) -> list[TargetRender]:
    return render_targets_here(project, targets, "rjsonnet", 2)


def test_the_helper_renders_every_target_as_the_parent_would(fleet: tuple[Project, list[Target]]) -> None:
    project, targets = fleet
    prefork.start()
    assert prefork._helper is not None
    got: list[TargetRender] = []
    ran: list[bool] = []
    handed = prefork.render(project, targets, "rjsonnet", 2, True, None, got.append, lambda: ran.append(True))
    assert handed == len(targets) == len(got) == 6, prefork.last_failure
    assert ran == [True]
    assert files_of(got) == files_of(here(project, targets))
    assert prefork._helper is None  # one job per helper


def test_without_a_helper_the_parent_renders_everything(fleet: tuple[Project, list[Target]]) -> None:
    project, targets = fleet
    got: list[TargetRender] = []
    assert prefork.render(project, targets, "rjsonnet", 2, True, None, got.append) == 0
    assert got == []


def test_a_helper_dead_before_the_job_costs_nothing_but_time(fleet: tuple[Project, list[Target]]) -> None:
    project, targets = fleet
    prefork.start()
    assert prefork._helper is not None
    os.kill(prefork._helper.pid, signal.SIGKILL)
    time.sleep(0.05)
    renders = render_targets(project, targets, "rjsonnet", 2)
    assert files_of(renders) == files_of(here(project, targets))


def test_a_helper_dying_midway_leaves_the_rest_to_the_parent(fleet: tuple[Project, list[Target]]) -> None:
    project, targets = fleet
    prefork.start()
    helper = prefork._helper
    assert helper is not None
    seen: list[str] = []

    def kill_after_first(render: TargetRender) -> None:
        seen.append(render.target.name)
        if len(seen) == 1:
            os.kill(helper.pid, signal.SIGKILL)

    renders = render_targets(project, targets, "rjsonnet", 2, kill_after_first)
    assert seen == [t.name for t in targets]  # each once, in target order
    assert files_of(renders) == files_of(here(project, targets))


class _Refuse:
    """A finish that fails in the worker, as a bug in a render stage would."""

    def __call__(self, render: TargetRender) -> TargetRender:
        raise RuntimeError(f"refused {render.target.name}")


def test_an_exception_in_the_helpers_worker_is_raised_in_the_parent(fleet: tuple[Project, list[Target]]) -> None:
    project, targets = fleet
    prefork.start()
    with pytest.raises(workers.WorkerError, match="RuntimeError: refused"):
        prefork.render(project, targets, "rjsonnet", 2, True, _Refuse(), lambda _r: None)


def test_an_unused_helper_exits(fleet: tuple[Project, list[Target]]) -> None:
    prefork.start()
    helper = prefork._helper
    assert helper is not None
    prefork.discard()
    # discard() waited for it: the pid is gone.
    with pytest.raises(ChildProcessError):
        os.waitpid(helper.pid, os.WNOHANG)


def test_rtc_build_with_and_without_the_helper_writes_the_same_bytes(tmp_path: Path) -> None:
    trees = {}
    for name, extra in (("helper", {}), ("none", {"RTC_NO_PREFORK": "1"})):
        root = Path(workload.write(workload.SCALES["small"], tmp_path / name).root)
        env = {**os.environ, "RTC_NO_SERVER": "1", **extra}
        command = [sys.executable, "-m", "compiler", "--root", str(root), "-q", "build"]
        subprocess.run(command, env=env, check=True, timeout=120)
        trees[name] = snapshot(root / "out")
        # Nothing to render (the stamp is bypassed, every target is cached): the
        # unused helper must not keep the command's output streams open after it exits.
        again = subprocess.run(
            command, env={**env, "RTC_NO_STAMP": "1"}, capture_output=True, text=True, timeout=60, check=False
        )
        assert again.returncode == 0, again.stderr
    assert len(trees["helper"]) > 190 and trees["helper"] == trees["none"]


def test_a_fork_server_the_parent_started_does_not_stop_the_helper(fleet: tuple[Project, list[Target]]) -> None:
    """With go-jsonnet loaded the parent's bounded renders go through a fork server
    (compiler/watchdog.py); the helper forked after it must still render."""
    import _gojsonnet  # noqa: F401

    from compiler import watchdog

    project, targets = fleet
    assert watchdog.run_bounded(os.getpid, (), 30) != os.getpid()  # starts the parent's fork server
    prefork.start()
    got: list[TargetRender] = []
    handed = prefork.render(project, targets, "rjsonnet", 2, True, None, got.append)
    assert handed == len(targets), prefork.last_failure
    assert files_of(got) == files_of(here(project, targets))
