"""A build killed at any moment, or two builds at once, never leave a mixed out/.

The catalog is a larger copy of the bundled one (many clusters, a few hundred
files), so a kill has a real chance to land while files are written and
swapped. State A of the sources is built into out/ ("old"); state B changes
every object, drops a cluster and adds one ("new"). After every kill out/ must
be exactly the old tree or exactly the new one, and the next build must
recover what the killed one left behind.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from compiler import durability, output
from compiler.output import BACKUP_SUFFIX, STAGING_PREFIX, Plan, apply, build_lock, recover, replan
from compiler.pipeline import build
from compiler.project import load_project
from tests.conftest import copy_catalog, snapshot

CLUSTERS = 8
Tree = dict[str, bytes]


def rtc_command(root: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "compiler", "--root", str(root), "-q", *args]


def make_catalog(dest: Path) -> Path:
    copy_catalog(dest)
    demo = (dest / "overlays/demo.jsonnet").read_text(encoding="utf-8")
    for i in range(CLUSTERS):
        (dest / f"overlays/c{i:02}.jsonnet").write_text(demo.replace("name: 'demo'", f"name: 'c{i:02}'"), "utf-8")
    return dest


def to_state_b(root: Path) -> None:
    platform = root / "catalog/lib/platforms/alauda.libsonnet"
    text = platform.read_text(encoding="utf-8")
    anchor = "'cpaas.io/runtime-class': rt.runtimeClass,"
    platform.write_text(text.replace(anchor, anchor + "\n          'rtc.test/state': 'b',"), encoding="utf-8")
    (root / "overlays/c00.jsonnet").unlink()
    demo = (root / "overlays/demo.jsonnet").read_text(encoding="utf-8")
    (root / "overlays/zz-new.jsonnet").write_text(demo.replace("name: 'demo'", "name: 'zz-new'"), "utf-8")


def leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.name.startswith(STAGING_PREFIX) or p.name.endswith(BACKUP_SUFFIX))


class Scenario:
    """The repository, the old and new trees, and a way back to the old one."""

    def __init__(self, base: Path) -> None:
        self.root = make_catalog(base / "repo")
        subprocess.run(rtc_command(self.root, "build"), check=True)
        (self.root / "out/demo/NOTES.md").write_text("hand-written, must survive\n", encoding="utf-8")
        self.saved_old = base / "saved-old"
        shutil.copytree(self.root / "out", self.saved_old, symlinks=True)
        self.old: Tree = snapshot(self.root / "out")
        to_state_b(self.root)
        subprocess.run(rtc_command(self.root, "build"), check=True)
        self.new: Tree = snapshot(self.root / "out")
        assert self.old != self.new and "demo/NOTES.md" in self.new
        self.restore_old()

    def restore_old(self) -> None:
        out = self.root / "out"
        if out.exists():
            shutil.rmtree(out)
        for name in leftovers(self.root):
            shutil.rmtree(self.root / name)
        shutil.copytree(self.saved_old, out, symlinks=True)

    def out_state(self) -> str:
        tree = snapshot(self.root / "out")
        if tree == self.old:
            return "old"
        if tree == self.new:
            return "new"
        if not (self.root / "out").exists() and snapshot(self.root / f"out{BACKUP_SUFFIX}") == self.old:
            return "swapping"  # only between the fallback's two renames
        changed = sorted(k for k in set(tree) | set(self.new) if tree.get(k) != self.new.get(k))
        return f"MIXED ({len(changed)} files differ from new, e.g. {changed[:3]})"


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    return Scenario(tmp_path_factory.mktemp("crash"))


def _apply_in_child(root: str, change: Plan, exchange: bool, syncfs: bool = True) -> None:
    if not exchange:
        output._exchange = lambda a, b: False  # a system without renameat2
    if not syncfs:
        durability.file_system_sync = lambda fd: None  # a file system where only fsync per file is trusted
    out_dir = Path(root, "out")
    with build_lock(Path(root), 10):
        recover(Path(root), out_dir)
        apply(Path(root), out_dir, replan(out_dir, change))


def _kill_apply_repeatedly(scenario: Scenario, exchange: bool, rounds: int, syncfs: bool = True) -> dict[str, int]:
    """Run apply() in a forked child and SIGKILL it after a random delay."""
    scenario.restore_old()
    project = load_project(scenario.root)
    result = build(project, jobs=1)
    assert result.ok and result.plan is not None
    change = result.plan
    ctx = multiprocessing.get_context("fork")

    def run(delay: float | None) -> float:
        started = time.perf_counter()
        child = ctx.Process(target=_apply_in_child, args=(str(scenario.root), change, exchange, syncfs))
        child.start()
        if delay is not None:
            time.sleep(delay)
            child.kill()
        child.join()
        return time.perf_counter() - started

    durations = []
    for _ in range(3):  # complete runs: how long a swap takes here (the machine may be busy)
        scenario.restore_old()
        durations.append(run(None))
        assert scenario.out_state() == "new"
    duration = max(durations)
    outcomes: dict[str, int] = {}
    rnd = random.Random(6)
    for i in range(rounds):
        scenario.restore_old()
        # One random moment in each of `rounds` equal slices: the kills cover the whole swap.
        run(duration * 1.5 * (i + rnd.random()) / rounds)
        state = scenario.out_state()
        outcomes[state] = outcomes.get(state, 0) + 1
        assert not state.startswith("MIXED"), state
        recover(scenario.root, scenario.root / "out")
        assert scenario.out_state() in ("old", "new")
        assert leftovers(scenario.root) == []
    return outcomes


@pytest.mark.parametrize("syncfs", [True, False], ids=["syncfs", "fsync-per-file"])
def test_apply_killed_at_random_moments_leaves_old_or_new(scenario: Scenario, syncfs: bool) -> None:
    outcomes = _kill_apply_repeatedly(scenario, exchange=True, rounds=12, syncfs=syncfs)
    assert set(outcomes) <= {"old", "new"}
    assert outcomes.get("old") and outcomes.get("new"), outcomes  # the kills landed on both sides of the swap


def test_fallback_without_exchange_killed_at_random_moments_recovers(scenario: Scenario) -> None:
    outcomes = _kill_apply_repeatedly(scenario, exchange=False, rounds=12)
    assert set(outcomes) <= {"old", "new", "swapping"}
    assert outcomes.get("old") and outcomes.get("new"), outcomes


def _die_after_first_rename(root: str, change: Plan) -> None:
    real_rename = os.rename

    def rename(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        real_rename(src, dst)
        if str(dst).endswith(BACKUP_SUFFIX):
            os.kill(os.getpid(), signal.SIGKILL)

    os.rename = rename  # type: ignore[assignment]
    _apply_in_child(root, change, exchange=False)


def test_fallback_killed_between_the_two_renames(scenario: Scenario) -> None:
    scenario.restore_old()
    result = build(load_project(scenario.root), jobs=1)
    assert result.plan is not None
    child = multiprocessing.get_context("fork").Process(
        target=_die_after_first_rename, args=(str(scenario.root), result.plan)
    )
    child.start()
    child.join()
    assert child.exitcode == -signal.SIGKILL
    assert scenario.out_state() == "swapping"
    check = subprocess.run(rtc_command(scenario.root, "build", "--check"), capture_output=True, text=True)
    assert check.returncode == 1
    assert "a build was killed while swapping; run `rtc build` to restore it" in check.stderr
    subprocess.run(rtc_command(scenario.root, "build"), check=True)  # recovers, then builds
    assert scenario.out_state() == "new"
    assert leftovers(scenario.root) == []


def test_the_real_cli_killed_at_random_moments(scenario: Scenario) -> None:
    scenario.restore_old()
    started = time.perf_counter()
    subprocess.run(rtc_command(scenario.root, "build"), check=True)
    duration = time.perf_counter() - started
    rnd = random.Random(7)
    outcomes: dict[str, int] = {}
    rounds = 4
    for i in range(rounds):
        scenario.restore_old()
        # Most of a build is evaluation; aim the kills at its second half, where out/ is written.
        delay = duration * (0.5 + 0.55 * (i + rnd.random()) / rounds)
        proc = subprocess.Popen(rtc_command(scenario.root, "build"))
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert no_process_left(scenario.root)  # workers die with rtc
        state = scenario.out_state()
        outcomes[state] = outcomes.get(state, 0) + 1
        assert state in ("old", "new"), state
        subprocess.run(rtc_command(scenario.root, "build"), check=True)
        assert scenario.out_state() == "new"
        assert leftovers(scenario.root) == []
    assert outcomes.get("old"), outcomes


def no_process_left(root: Path, wait: float = 5.0) -> bool:
    """True once no process (rtc's forked workers keep its command line) works on `root`."""
    needle = str(root).encode()
    deadline = time.monotonic() + wait
    while True:
        alive = []
        for proc in Path("/proc").iterdir():
            try:
                if proc.name.isdigit() and needle in (proc / "cmdline").read_bytes():
                    alive.append(proc.name)
            except OSError:
                continue
        if not alive or time.monotonic() > deadline:
            return not alive
        time.sleep(0.05)


def _spawn_builds(root: Path, argument_sets: list[list[str]]) -> list[subprocess.CompletedProcess[str]]:
    procs = [subprocess.Popen(rtc_command(root, *args), stderr=subprocess.PIPE, text=True) for args in argument_sets]
    return [subprocess.CompletedProcess(p.args, p.wait(), "", p.stderr.read() if p.stderr else "") for p in procs]


def test_concurrent_builds_of_different_clusters_keep_each_others_files(scenario: Scenario) -> None:
    clusters = sorted(p.stem for p in (scenario.root / "overlays").glob("*.jsonnet"))
    half = len(clusters) // 2
    first = [arg for name in clusters[:half] for arg in ("-t", name)]
    second = [arg for name in clusters[half:] for arg in ("-t", name)]
    for _ in range(2):
        scenario.restore_old()
        # The removed cluster is no target of either: drop it, as a full build would.
        shutil.rmtree(scenario.root / "out/c00")
        for done in _spawn_builds(scenario.root, [["build", *first], ["build", *second]]):
            assert done.returncode == 0, done.stderr
        tree = snapshot(scenario.root / "out")
        index = tree.pop(".rtc-index.json")
        expected = dict(scenario.new)
        expected_index = expected.pop(".rtc-index.json")
        assert tree == expected
        # c00's entries stay in the index until a full build prunes them; otherwise it matches.
        assert [line for line in index.splitlines() if b'"c00/' not in line] == expected_index.splitlines()
        subprocess.run(rtc_command(scenario.root, "build"), check=True)
        assert scenario.out_state() == "new"


def test_two_full_builds_at_once_both_succeed(scenario: Scenario) -> None:
    scenario.restore_old()
    results = _spawn_builds(scenario.root, [["build"], ["build"], ["build", "-j1"]])
    assert [r.returncode for r in results] == [0, 0, 0], [r.stderr for r in results]
    assert scenario.out_state() == "new"
    assert leftovers(scenario.root) == []


def test_kill_helpers_detect_a_mixed_tree(scenario: Scenario) -> None:
    """The check above could fail: a tree with one new file among old ones is reported MIXED."""
    scenario.restore_old()
    rel = next(k for k in scenario.new if k != "demo/NOTES.md" and scenario.new[k] != scenario.old.get(k))
    target = scenario.root / "out" / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(scenario.new[rel])
    assert scenario.out_state().startswith("MIXED")
