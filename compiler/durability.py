"""Flush a freshly written tree to disk with one syncfs(2) instead of an fsync per file.

Before out/ is swapped, every staged file must be on stable storage: after a
power loss the swapped-in tree may hold no empty or partial file. An fsync per
file (and per folder) does that, but each one waits for its own journal commit
and cache flush. syncfs(2) on the staging folder's file system writes back every
dirty page and inode of that file system, then commits the journal and flushes
the device cache once: the same state on disk for the whole tree.

It is used only where that is known to hold and failures are reported:
- Linux 5.8 or later: earlier kernels returned 0 from syncfs even when writing
  a page back failed; since 5.8 it reports every write-back error on the file
  system since the descriptor was opened (so the caller opens it before
  writing anything);
- a local file system whose sync_fs commits its journal (ext2/3/4, xfs, btrfs,
  f2fs) or keeps nothing on disk at all (tmpfs, where fsync is a no-op too).
Elsewhere (FUSE, NFS, overlayfs, other systems) `file_system_sync` returns
None and the caller falls back to an fsync per file and folder.
"""

from __future__ import annotations

import ctypes
import functools
import os
import re
import sys
from collections.abc import Callable

# statfs(2) f_type magic numbers of the file systems syncfs is trusted on.
SYNCFS_FILE_SYSTEMS = {
    0xEF53: "ext2/ext3/ext4",
    0x58465342: "xfs",
    0x9123683E: "btrfs",
    0xF2F52010: "f2fs",
    0x01021994: "tmpfs",
}
# The first kernel whose syncfs reports write-back errors (commit 735e4ae5ba28).
SYNCFS_REPORTS_ERRORS_SINCE = (5, 8)


@functools.cache
def libc() -> ctypes.CDLL | None:
    """The C library of this process, with errno kept; None where there is none to load."""
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


def syncfs_is_trusted(platform: str, kernel_release: str, fs_type: int) -> bool:
    """Whether one syncfs on a file system of `fs_type` is as durable as an fsync of
    every file and folder written there, with every failure reported."""
    if platform != "linux":
        return False
    version = re.match(r"(\d+)\.(\d+)", kernel_release)
    if version is None or (int(version[1]), int(version[2])) < SYNCFS_REPORTS_ERRORS_SINCE:
        return False
    return fs_type in SYNCFS_FILE_SYSTEMS


def file_system_type(fd: int) -> int | None:
    """The statfs(2) f_type of the file system holding `fd`, or None if unknown."""
    c = libc()
    if c is None or not hasattr(c, "fstatfs"):
        return None
    # struct statfs is at most 120 bytes on Linux; f_type, a native word, comes first.
    # (On s390x it is 4 bytes: the value read is then no known type, and fsync is used.)
    buffer = ctypes.create_string_buffer(256)
    if c.fstatfs(fd, buffer) != 0:
        return None
    return ctypes.c_ulong.from_buffer(buffer).value


def file_system_sync(fd: int) -> Callable[[], None] | None:
    """A function that makes everything written on `fd`'s file system durable with
    one syncfs, raising OSError on failure; None where an fsync per file is needed.

    Open `fd` before writing: syncfs reports the write-back errors since its open."""
    c = libc()
    if c is None or not hasattr(c, "syncfs"):
        return None
    fs_type = file_system_type(fd)
    if fs_type is None or not syncfs_is_trusted(sys.platform, os.uname().release, fs_type):
        return None

    def sync() -> None:
        if c.syncfs(fd) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"syncfs: {os.strerror(err)}")

    return sync
