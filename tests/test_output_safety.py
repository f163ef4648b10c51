"""out/ is never corrupted, read through a link, or written outside of.

Each test runs the real CLI in a subprocess on a copy of the bundled catalog.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from compiler.output import INDEX_NAME, LOCK_NAME, OutputError, plan, unsafe_path
from tests.conftest import Run, snapshot

RtcRunner = Callable[..., Run]


@pytest.fixture
def built(repo: Path, rtc: RtcRunner) -> Path:
    result = rtc(repo, "-q", "build")
    assert result.code == 0, result.stderr
    return repo


def add_patch(repo: Path, patch: str) -> None:
    """Add one patch to the demo cluster's overlay."""
    overlay = repo / "overlays/demo.jsonnet"
    text = overlay.read_text(encoding="utf-8")
    anchor = "deployments: rtc.everySupported(catalog, hardware),"
    overlay.write_text(text.replace(anchor, f"{anchor}\n  patches: [{patch}],"), encoding="utf-8")


def tree_state(root: Path) -> dict[str, tuple[int, int, int, int]]:
    """(inode, size, mtime_ns, mode) of everything under root, links not followed."""
    state = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath, name)
            st = path.lstat()
            state[path.relative_to(root).as_posix()] = (st.st_ino, st.st_size, st.st_mtime_ns, st.st_mode)
    return state


def test_a_hostile_kind_never_writes_outside_out(built: Path, rtc: RtcRunner, tmp_path: Path) -> None:
    before = snapshot(built / "out")
    add_patch(built, "rtc.patch.mixin({ kind: '../../../escaped' })")
    result = rtc(built, "-q", "build")
    assert result.code == 1
    assert "kind '../../../escaped' is not a Kubernetes kind" in result.stderr
    assert "[E210]" in result.stderr
    assert snapshot(built / "out") == before
    assert not list(tmp_path.rglob("escaped*"))


def test_unsafe_paths_are_refused_even_if_normalize_missed_them(tmp_path: Path) -> None:
    for rel in (
        *("../x.yaml", "demo/../../x.yaml", "/etc/x", "demo//x.yaml", "demo/./x", "a\\b", "a\x00b"),
        *("", ".", "..", "demo/", "demo/..", "./x", "x/."),
    ):
        assert unsafe_path(rel), rel
        with pytest.raises(OutputError, match="refusing to write"):
            plan(tmp_path / "out", {rel: b"x"}, None)
    for rel in ("demo/clusterservingruntime-a.yaml", "x", "a/b/c", "...", "a/.b", "a/..b/c.", "a..b"):
        assert unsafe_path(rel) is None, rel


def test_hand_written_files_and_folders_survive_every_build(built: Path, rtc: RtcRunner) -> None:
    notes = built / "out/demo/NOTES.md"
    notes.write_text("hand-written\n", encoding="utf-8")
    (built / "out/extra/empty").mkdir(parents=True)
    (built / "out/extra/README").write_text("mine\n", encoding="utf-8")
    add_patch(built, "rtc.patch.labels({ rebuilt: 'yes' })")  # every demo file changes
    result = rtc(built, "build")
    assert result.code == 0, result.stderr
    assert "kept out/demo/NOTES.md (not written by rtc)" in result.stderr
    assert "kept out/extra/README (not written by rtc)" in result.stderr
    assert notes.read_text(encoding="utf-8") == "hand-written\n"
    assert (built / "out/extra/empty").is_dir()
    assert "NOTES.md" not in (built / "out" / INDEX_NAME).read_text(encoding="utf-8")
    # A removed cluster takes only rtc's files with it.
    (built / "overlays/demo.jsonnet").unlink()
    result = rtc(built, "-q", "build")
    assert result.code == 0, result.stderr
    assert sorted(p.name for p in (built / "out/demo").iterdir()) == ["NOTES.md"]


def test_a_symlink_to_a_file_outside_is_neither_read_nor_written_through(
    built: Path, rtc: RtcRunner, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("outside\n", encoding="utf-8")
    owned = built / "out/demo/clusterservingruntime-aml-vllm-cuda-12.1.yaml"
    expected = owned.read_bytes()
    owned.unlink()
    owned.symlink_to(secret)  # an owned file replaced by a link
    (built / "out/demo/link.yaml").symlink_to(secret)  # a foreign link
    result = rtc(built, "-q", "build")
    assert result.code == 0, result.stderr
    assert secret.read_text(encoding="utf-8") == "outside\n"
    assert not owned.is_symlink() and owned.read_bytes() == expected
    assert (built / "out/demo/link.yaml").is_symlink()
    assert os.readlink(built / "out/demo/link.yaml") == str(secret)


def test_an_index_entry_under_a_linked_folder_is_not_read_through(built: Path, rtc: RtcRunner, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "clusterservingruntime-x.yaml").write_text("outside\n", encoding="utf-8")
    index = built / "out" / INDEX_NAME
    index.write_text(
        index.read_text(encoding="utf-8").replace(
            '"files": {', '"files": {\n    "linked/clusterservingruntime-x.yaml": "0",'
        ),
        encoding="utf-8",
    )
    (built / "out/linked").symlink_to(outside, target_is_directory=True)
    add_patch(built, "rtc.patch.labels({ rebuilt: 'yes' })")
    result = rtc(built, "-q", "build", "-t", "demo")
    assert result.code == 0, result.stderr
    assert (built / "out/linked").is_symlink()
    assert "linked/" not in (built / "out" / INDEX_NAME).read_text(encoding="utf-8")
    assert sorted(p.name for p in outside.iterdir()) == ["clusterservingruntime-x.yaml"]


def test_out_itself_as_a_symlink_is_refused(built: Path, rtc: RtcRunner, tmp_path: Path) -> None:
    real = tmp_path / "elsewhere"
    (built / "out").rename(real)
    (built / "out").symlink_to(real, target_is_directory=True)
    before = snapshot(real)
    result = rtc(built, "-q", "build")
    assert result.code == 1
    assert f"rtc: error: {built}/out is a symbolic link; rtc writes only a real folder\n" == result.stderr
    assert snapshot(real) == before


def test_a_committed_lock_symlink_does_not_truncate_its_target(built: Path, rtc: RtcRunner, tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n", encoding="utf-8")
    (built / LOCK_NAME).unlink()
    (built / LOCK_NAME).symlink_to(victim)
    add_patch(built, "rtc.patch.labels({ rebuilt: 'yes' })")
    before = snapshot(built / "out")
    result = rtc(built, "-q", "build")
    assert result.code == 1
    assert "cannot open the build lock" in result.stderr and "remove it" in result.stderr
    assert victim.read_text(encoding="utf-8") == "precious\n"
    assert snapshot(built / "out") == before


@pytest.mark.parametrize("reserved", ["out.rtc-previous", ".rtc-staging-1"])
def test_reserved_names_that_are_links_are_refused_not_followed(
    built: Path, rtc: RtcRunner, tmp_path: Path, reserved: str
) -> None:
    target = tmp_path / "precious"
    target.mkdir()
    (target / "keep.txt").write_text("keep\n", encoding="utf-8")
    (built / reserved).symlink_to(target, target_is_directory=True)
    add_patch(built, "rtc.patch.labels({ rebuilt: 'yes' })")
    result = rtc(built, "-q", "build")
    assert result.code == 1
    assert f"{built}/{reserved} is not a folder rtc left behind" in result.stderr
    assert (target / "keep.txt").read_text(encoding="utf-8") == "keep\n"


def test_a_hand_written_file_where_rtc_needs_a_folder_is_a_clear_error(built: Path, rtc: RtcRunner) -> None:
    (built / "overlays/demo.jsonnet").rename(built / "overlays/staging.jsonnet")
    text = (built / "overlays/staging.jsonnet").read_text(encoding="utf-8")
    (built / "overlays/staging.jsonnet").write_text(text.replace("name: 'demo'", "name: 'staging'"), encoding="utf-8")
    (built / "out/staging").write_text("a file\n", encoding="utf-8")
    before = snapshot(built / "out")
    result = rtc(built, "-q", "build")
    assert result.code == 1
    assert result.stderr == (
        "rtc: error: out/staging is a file or link rtc did not write, where rtc needs a folder: "
        "move it away, then build again\n"
    )
    assert snapshot(built / "out") == before


def test_a_folder_where_rtc_writes_a_file_is_a_clear_error(built: Path, rtc: RtcRunner) -> None:
    target = built / "out/demo/clusterservingruntime-aml-vllm-cuda-12.1.yaml"
    target.unlink()
    target.mkdir()
    (target / "mine.txt").write_text("mine\n", encoding="utf-8")
    before = snapshot(built / "out")
    result = rtc(built, "-q", "build")
    assert result.code == 1
    assert "out/demo/clusterservingruntime-aml-vllm-cuda-12.1.yaml is a folder rtc did not make" in result.stderr
    assert snapshot(built / "out") == before


@pytest.mark.parametrize("drift", [False, True])
def test_check_never_writes(built: Path, rtc: RtcRunner, drift: bool) -> None:
    if drift:
        add_patch(built, "rtc.patch.labels({ drifted: 'yes' })")
        (built / "out/demo/kustomization.yaml").unlink()
    (built / LOCK_NAME).unlink()
    before = tree_state(built)
    result = rtc(built, "build", "--check")
    assert result.code == (1 if drift else 0), result.stderr
    assert tree_state(built) == before  # same inodes, sizes, times, modes: nothing written, nothing created
    assert not (built / LOCK_NAME).exists()


def test_check_reports_an_interrupted_swap_and_build_recovers_it(built: Path, rtc: RtcRunner) -> None:
    before = snapshot(built / "out")
    (built / "out").rename(built / "out.rtc-previous")
    result = rtc(built, "build", "--check")
    assert result.code == 1
    assert "out/ is missing and out.rtc-previous/ holds the previous tree" in result.stderr
    assert not (built / "out").exists()
    result = rtc(built, "-q", "build")
    assert result.code == 0, result.stderr
    assert snapshot(built / "out") == before
    assert not (built / "out.rtc-previous").exists()


HOLD_LOCK = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o644)
fcntl.lockf(fd, fcntl.LOCK_EX)
os.ftruncate(fd, 0)
os.write(fd, str(os.getpid()).encode())
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
"""


def test_a_second_build_waits_for_the_lock_or_fails_clearly(built: Path, rtc: RtcRunner) -> None:
    add_patch(built, "rtc.patch.labels({ rebuilt: 'yes' })")
    before = snapshot(built / "out")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(built / LOCK_NAME), "3"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        result = rtc(built, "-q", "build", "--lock-timeout", "0.2")
        assert result.code == 1
        assert result.stderr == (
            f"rtc: error: another rtc build (pid {holder.pid}) is writing repo/ and did not finish within 0.2s; "
            "wait for it, or pass --lock-timeout to wait longer\n"
        )
        assert snapshot(built / "out") == before
        started = time.monotonic()
        result = rtc(built, "-q", "build", "--lock-timeout", "30")  # waits for the holder to finish
        assert result.code == 0, result.stderr
        assert time.monotonic() - started > 1.0
    finally:
        holder.kill()
        holder.wait()
    assert 'rebuilt: "yes"' in (built / "out/demo/clusterservingruntime-aml-vllm-cuda-12.1.yaml").read_text() or (
        "rebuilt: 'yes'" in (built / "out/demo/clusterservingruntime-aml-vllm-cuda-12.1.yaml").read_text()
    )
