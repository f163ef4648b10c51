"""The build server: a command run through it is the command run in-process, byte for byte.

Each test starts a real server (`rtc server start`) in a private socket folder
and stops it. How much faster it is, is measured in bench/, never here.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from compiler import server
from tests.conftest import copy_catalog, snapshot

pytestmark = pytest.mark.skipif(not hasattr(os, "pidfd_open"), reason="the build server needs Linux (pidfd_open)")
TIMING = re.compile(r"\((?:[0-9]+ files, )?[0-9.]+s\)")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    variables = {k: v for k, v in os.environ.items() if k != "RTC_NO_SERVER"}
    variables["XDG_RUNTIME_DIR"] = str(runtime)
    variables["RTC_CACHE_DIR"] = str(tmp_path / "user-cache")
    return variables


def rtc(root: Path, env: dict[str, str], *args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    done: subprocess.CompletedProcess[str] = subprocess.run(
        [sys.executable, "-m", "compiler", *args],
        capture_output=True,
        text=True,
        cwd=root,
        env=env,
        check=False,
        **kwargs,  # type: ignore[call-overload]
    )
    return done


def served(env: dict[str, str]) -> int:
    status = rtc(Path("/"), env, "server", "status")
    assert status.returncode == 0, status.stdout + status.stderr
    match = re.search(r"(\d+) commands served", status.stdout)
    assert match, status.stdout
    return int(match.group(1))


@pytest.fixture
def running(env: dict[str, str]) -> Iterator[dict[str, str]]:
    started = rtc(Path("/"), env, "server", "start", "--idle", "120")
    assert started.returncode == 0, started.stderr
    assert "server started" in started.stderr
    try:
        yield env
    finally:
        stopped = rtc(Path("/"), env, "server", "stop")
        assert "server stopped" in stopped.stderr, stopped.stderr


def test_a_build_through_the_server_is_the_build_in_process(tmp_path: Path, running: dict[str, str]) -> None:
    served_repo, local_repo = copy_catalog(tmp_path / "served"), copy_catalog(tmp_path / "local")
    # No stamp: a no-op build answered from it never reaches the server.
    served_env = {**running, "RTC_NO_STAMP": "1"}
    local_env = {**served_env, "RTC_NO_SERVER": "1"}
    for args in (["build"], ["build", "--check"], ["show", "demo"], ["lint"]):
        before = served(running)
        through = rtc(served_repo, served_env, *args)
        assert served(running) == before + 1, f"{args} did not run in the server"
        direct = rtc(local_repo, local_env, *args)
        assert through.returncode == direct.returncode, (args, through.stderr, direct.stderr)
        assert through.stdout.replace(str(served_repo), "R") == direct.stdout.replace(str(local_repo), "R"), args
        assert TIMING.sub("", through.stderr) == TIMING.sub("", direct.stderr), args
    assert snapshot(served_repo / "out") == snapshot(local_repo / "out")


def test_a_failing_build_fails_the_same_way_and_leaves_out_as_it_was(tmp_path: Path, running: dict[str, str]) -> None:
    repo = copy_catalog(tmp_path / "repo")
    assert rtc(repo, running, "build").returncode == 0
    before = snapshot(repo / "out")
    (repo / "overlays/broken.jsonnet").write_text("{\n  a: 1\n  b: 2,\n}\n")
    through = rtc(repo, running, "build")
    direct = rtc(repo, {**running, "RTC_NO_SERVER": "1"}, "build")
    assert through.returncode == direct.returncode == 1
    assert "overlays/broken.jsonnet:3" in through.stderr
    assert TIMING.sub("", through.stderr) == TIMING.sub("", direct.stderr)
    assert snapshot(repo / "out") == before


def test_the_command_runs_where_and_as_the_caller_does(tmp_path: Path, running: dict[str, str]) -> None:
    repo = copy_catalog(tmp_path / "repo")
    inner = repo / "catalog"
    done = rtc(inner, {**running, "RTC_NO_STAMP": "1"}, "build", umask=0o077)
    assert done.returncode == 0, done.stderr
    written = next((repo / "out").rglob("*.yaml"))
    assert written.stat().st_mode & 0o077 == 0, "the caller's umask applies"
    # Arguments, exit codes of usage errors and stdin reach the command too.
    usage = rtc(repo, running, "build", "--jobs", "0")
    assert usage.returncode == 2 and "--jobs" in usage.stderr
    manifest = (repo / "out/demo/kustomization.yaml").read_text()
    checked = rtc(repo, running, "validate", "-", input=manifest)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_ctrl_c_stops_the_command_and_leaves_out_as_it_was(tmp_path: Path, running: dict[str, str]) -> None:
    repo = copy_catalog(tmp_path / "repo")
    assert rtc(repo, running, "build").returncode == 0
    before = snapshot(repo / "out")
    (repo / "overlays/slow.jsonnet").write_text(
        "local rtc = import 'catalog/lib/rtc.libsonnet';\nstd.foldl(function(a, b) a + b, std.range(1, 100000000), 0)\n"
    )
    client = subprocess.Popen(
        [sys.executable, "-m", "compiler", "build"],
        cwd=repo,
        env=running,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while served(running) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    client.send_signal(signal.SIGINT)
    _, stderr = client.communicate(timeout=30)
    assert client.returncode != 0
    assert "Aborted!" in stderr
    assert snapshot(repo / "out") == before
    assert _server_children(running) == []


def test_a_client_that_disappears_takes_its_command_with_it(tmp_path: Path, running: dict[str, str]) -> None:
    repo = copy_catalog(tmp_path / "repo")
    (repo / "overlays/slow.jsonnet").write_text("std.foldl(function(a, b) a + b, std.range(1, 100000000), 0)\n")
    client = subprocess.Popen(
        [sys.executable, "-m", "compiler", "build"], cwd=repo, env=running, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 30
    while not _server_children(running) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _server_children(running), "the command did not start in the server"
    client.kill()
    client.wait()
    deadline = time.monotonic() + 10
    while _server_children(running) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _server_children(running) == []


def test_another_compiler_or_user_cache_is_not_served(tmp_path: Path, running: dict[str, str]) -> None:
    repo = copy_catalog(tmp_path / "repo")
    before = served(running)
    other_cache = {**running, "RTC_CACHE_DIR": str(tmp_path / "another-cache")}
    assert rtc(repo, other_cache, "build").returncode == 0
    assert served(running) == before
    # A request that names another compiler is refused, and the client runs the command itself.
    path = _socket(running)
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as sock:
        sock.connect(path)
        server._send(sock, {"op": "run", "description": "another compiler", "argv": ["build"]}, [0, 1, 2])
        reply, _ = server._receive(sock)
    assert reply == {"answer": "stale"}
    assert served(running) == before


def test_a_socket_folder_others_can_enter_is_not_used(tmp_path: Path, running: dict[str, str]) -> None:
    folder = Path(_socket(running)).parent
    assert server._private(str(folder))
    folder.chmod(0o755)
    try:
        assert not server._private(str(folder))
        status = rtc(Path("/"), running, "server", "status")
        assert status.returncode == 1 and "no server running" in status.stdout
    finally:
        folder.chmod(0o700)


def test_an_idle_server_exits_by_itself(env: dict[str, str]) -> None:
    assert rtc(Path("/"), env, "server", "start", "--idle", "1").returncode == 0
    deadline = time.monotonic() + 20
    while rtc(Path("/"), env, "server", "status").returncode == 0 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert rtc(Path("/"), env, "server", "status").returncode == 1
    assert not list(Path(env["XDG_RUNTIME_DIR"], "rtc").glob("*.sock"))


def _socket(env: dict[str, str]) -> str:
    sockets = list(Path(env["XDG_RUNTIME_DIR"], "rtc").glob("server-*.sock"))
    assert len(sockets) == 1, sockets
    return str(sockets[0])


def _server_children(env: dict[str, str]) -> list[int]:
    status = rtc(Path("/"), env, "server", "status")
    match = re.search(r"pid (\d+)", status.stdout)
    assert match, status.stdout
    pid = match.group(1)
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        children.extend(int(c) for c in text)
    return children


def test_only_commands_go_to_the_server_not_the_server_itself() -> None:
    assert server.command_of(["build"]) == "build"
    assert server.command_of(["--root", "/r", "-q", "--engine", "rjsonnet", "server", "stop"]) == "server"
    assert server.command_of(["--root=/r", "lint", "--format", "json"]) == "lint"
    assert server.command_of(["--help"]) is None and server.command_of([]) is None
