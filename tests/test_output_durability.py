"""The staged tree reaches the disk before the swap: one syncfs(2) where that is
as durable as an fsync per file and folder, an fsync per file and folder elsewhere.

A power loss cannot be staged in a test; what can fail here is which flush runs,
on what, and what a failed flush does to out/. The flushes are counted on the
real system calls (the wrappers call through).
"""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from compiler import durability, output
from compiler.output import INDEX_NAME, STAGING_PREFIX, OutputError, apply, plan
from tests.conftest import snapshot

FUSE, OVERLAYFS, NFS = 0x65735546, 0x794C7630, 0x6969
EXT4, XFS, TMPFS = 0xEF53, 0x58465342, 0x01021994


@pytest.mark.parametrize(
    ("platform", "release", "fs_type", "trusted"),
    [
        ("linux", "6.18.44-fc-v782", EXT4, True),
        ("linux", "5.8.0", XFS, True),
        ("linux", "5.15.0-91-generic", TMPFS, True),
        # Before 5.8 syncfs returned 0 even when writing a page back failed.
        ("linux", "5.7.19", EXT4, False),
        ("linux", "4.19.0-26-amd64", EXT4, False),
        # File systems whose syncfs does not stand for an fsync of every file.
        ("linux", "6.8.0", FUSE, False),
        ("linux", "6.8.0", OVERLAYFS, False),
        ("linux", "6.8.0", NFS, False),
        ("darwin", "23.1.0", EXT4, False),
        ("linux", "", EXT4, False),
    ],
)
def test_syncfs_is_trusted_only_where_it_flushes_and_reports_like_fsync(
    platform: str, release: str, fs_type: int, trusted: bool
) -> None:
    assert durability.syncfs_is_trusted(platform, release, fs_type) is trusted


def test_the_file_system_type_is_the_one_stat_reports(tmp_path: Path) -> None:
    fd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        found = durability.file_system_type(fd)
    finally:
        os.close(fd)
    stat_says = subprocess.run(["stat", "-f", "-c", "%t", str(tmp_path)], capture_output=True, text=True, check=True)
    assert found == int(stat_says.stdout, 16)


class Flushes:
    """Counts the real fsync and syncfs calls of one apply (by inode for fsync)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, *, allow_syncfs: bool) -> None:
        self.fsynced: list[int] = []
        self.syncfs_calls = 0
        real_fsync, real_choice = os.fsync, durability.file_system_sync

        def fsync(fd: int) -> None:
            self.fsynced.append(os.fstat(fd).st_ino)
            real_fsync(fd)

        def choose(fd: int) -> Callable[[], None] | None:
            sync = real_choice(fd) if allow_syncfs else None
            if sync is None:
                return None

            def counted() -> None:
                self.syncfs_calls += 1
                sync()

            return counted

        monkeypatch.setattr(os, "fsync", fsync)
        monkeypatch.setattr(durability, "file_system_sync", choose)


def write_tree(root: Path, files: dict[str, bytes]) -> None:
    """out/ as a previous build left it: the files, owned through the index."""
    change = plan(root / "out", files, None)
    apply(root, root / "out", change)


OLD = {"a/x.yaml": b"old x\n", "a/same.yaml": b"same\n", "b/gone.yaml": b"gone\n"}
NEW = {"a/x.yaml": b"new x\n", "a/same.yaml": b"same\n", "c/d/added.yaml": b"added\n"}


def test_a_trusted_file_system_is_flushed_with_one_syncfs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        if durability.file_system_sync(fd) is None:
            pytest.skip(f"syncfs is not trusted on this system's {tmp_path} (fsync per file is used)")
    finally:
        os.close(fd)
    write_tree(tmp_path, OLD)
    flushes = Flushes(monkeypatch, allow_syncfs=True)
    apply(tmp_path, tmp_path / "out", plan(tmp_path / "out", NEW, None))
    assert flushes.syncfs_calls == 1
    # No file or folder of the new tree on its own; only the repository folder, after the rename.
    assert flushes.fsynced == [tmp_path.stat().st_ino]
    assert snapshot(tmp_path / "out") == {**NEW, INDEX_NAME: output.index_bytes(NEW, {})}


def test_without_syncfs_every_written_file_and_folder_is_fsynced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_tree(tmp_path, OLD)
    (tmp_path / "out/a/NOTES.md").write_text("hand-written\n", encoding="utf-8")
    (tmp_path / "out/hand/made").mkdir(parents=True)
    flushes = Flushes(monkeypatch, allow_syncfs=False)
    change = plan(tmp_path / "out", NEW, None)
    assert change.unchanged == ["a/same.yaml"] and change.foreign == ["a/NOTES.md"]
    apply(tmp_path, tmp_path / "out", change)
    out = tmp_path / "out"
    assert flushes.syncfs_calls == 0
    written = {(out / rel).stat().st_ino for rel in ("a/x.yaml", "c/d/added.yaml", INDEX_NAME)}
    folders = {(out / rel).stat().st_ino for rel in ("", "a", "c", "c/d", "hand", "hand/made")}
    assert written | folders | {tmp_path.stat().st_ino} == set(flushes.fsynced)
    # Linked, not rewritten: already on disk.
    assert (out / "a/same.yaml").stat().st_ino not in flushes.fsynced
    assert snapshot(out) == {**NEW, "a/NOTES.md": b"hand-written\n", INDEX_NAME: output.index_bytes(NEW, {})}


def test_a_failed_flush_leaves_out_unchanged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_tree(tmp_path, OLD)
    before = snapshot(tmp_path / "out")

    def failing_sync(fd: int) -> Callable[[], None]:
        def sync() -> None:
            raise OSError(errno.EIO, "syncfs: Input/output error")

        return sync

    monkeypatch.setattr(durability, "file_system_sync", failing_sync)
    with pytest.raises(OutputError, match=r"could not write out/ \(.*Input/output error\); out/ is unchanged"):
        apply(tmp_path, tmp_path / "out", plan(tmp_path / "out", NEW, None))
    assert snapshot(tmp_path / "out") == before
    assert not list(tmp_path.glob(STAGING_PREFIX + "*"))


def test_a_file_system_without_hard_links_gets_flushed_copies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Unchanged files are copied where linking fails; without syncfs the copies are fsynced too."""
    write_tree(tmp_path, OLD)

    def no_link(*args: object, **kwargs: object) -> None:
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_link)
    flushes = Flushes(monkeypatch, allow_syncfs=False)
    apply(tmp_path, tmp_path / "out", plan(tmp_path / "out", NEW, None))
    same = tmp_path / "out/a/same.yaml"
    assert same.read_bytes() == b"same\n"
    assert same.stat().st_ino in flushes.fsynced
