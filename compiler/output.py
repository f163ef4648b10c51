"""Output: plan and apply changes to out/ without ever losing anything.

- rtc owns exactly the files listed in out/.rtc-index.json; it never deletes
  or overwrites anything else, and never follows a symbolic link in out/.
- The new tree is built beside out/ and swapped in with one atomic rename
  (renameat2 RENAME_EXCHANGE on Linux): a build killed at any point leaves
  the complete old tree or the complete new one.
- One build at a time per repository (an flock on .rtc.lock).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import hashlib
import json
import os
import shutil
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

INDEX_NAME = ".rtc-index.json"
LOCK_NAME = ".rtc.lock"
STAGING_PREFIX = ".rtc-staging-"
BACKUP_SUFFIX = ".rtc-previous"
_INDEX_VERSION = 1


class OutputError(Exception):
    """out/ cannot be read or written safely; the message says why and what to do."""


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class Plan:
    """What a build would change in out/, relative to its owned files."""

    desired: dict[str, bytes]
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    # Files in out/ that rtc did not write (kept as they are, reported).
    foreign: list[str] = field(default_factory=list)
    # Files rtc owns outside the rebuilt clusters (kept as they are).
    kept: dict[str, str] = field(default_factory=dict)

    @property
    def is_current(self) -> bool:
        return not (self.added or self.changed or self.removed)


def read_index(out_dir: Path) -> dict[str, str]:
    path = out_dir / INDEX_NAME
    if path.is_symlink():
        raise OutputError(f"{path} is a symbolic link; rtc does not follow links in its output")
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        files = data["files"]
        if not isinstance(files, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in files.items()):
            raise TypeError("files must map paths to digests")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise OutputError(
            f"{path} is unreadable ({exc}); restore it from git (git checkout -- {path}) "
            "so rtc knows which files it owns"
        ) from exc
    for rel in files:
        if rel.startswith("/") or ".." in rel.split("/"):
            raise OutputError(f"{path} lists {rel!r}, which is outside {out_dir.name}/; restore the index from git")
    return dict(files)


def index_bytes(files: dict[str, bytes], kept: dict[str, str]) -> bytes:
    entries = {**kept, **{path: digest(data) for path, data in files.items()}}
    payload = {"generator": "rtc", "version": _INDEX_VERSION, "files": dict(sorted(entries.items()))}
    return (json.dumps(payload, indent=2, sort_keys=False) + "\n").encode("utf-8")


def _walk_files(out_dir: Path) -> list[str]:
    """Every file and symlink under out_dir (relative POSIX paths), links not followed."""
    found: list[str] = []
    if not out_dir.is_dir():
        return found
    # os.path rather than pathlib: out/ of a large fleet holds tens of thousands of files.
    top = str(out_dir)
    for dirpath, dirnames, filenames in os.walk(top, followlinks=False):
        base = os.path.relpath(dirpath, top)
        prefix = "" if base == "." else base.replace(os.sep, "/") + "/"
        links = [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]
        found.extend(prefix + name for name in filenames + links)
    return sorted(found)


def _read_current(out_dir: Path, rel: str) -> bytes | None:
    """The bytes of a regular file; None for a missing file, a link or anything else."""
    try:
        # One open instead of lstat + stat + open; O_NONBLOCK so that a FIFO does not block.
        fd = os.open(os.path.join(out_dir, rel), os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # a symbolic link
            return None
        raise
    with open(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        return f.read()


def plan(out_dir: Path, desired: dict[str, bytes], clusters: set[str] | None) -> Plan:
    """Compare `desired` with out/. `clusters`: the folders being rebuilt, or
    None for a full build (every owned file not desired is then stale)."""
    if out_dir.is_symlink():
        raise OutputError(f"{out_dir} is a symbolic link; rtc writes only a real folder")
    owned = read_index(out_dir)
    result = Plan(desired=desired)
    present = set(_walk_files(out_dir))
    for rel in sorted(desired):
        if rel in present and rel not in owned:
            raise OutputError(
                f"{out_dir.name}/{rel} exists but rtc did not write it; rtc never overwrites a file it "
                "does not own: move it away, then build again"
            )
        current = _read_current(out_dir, rel) if rel in present else None
        if current is None:
            result.added.append(rel)
        elif current == desired[rel] and owned.get(rel) == digest(current):
            result.unchanged.append(rel)
        else:
            result.changed.append(rel)
    for rel in sorted(owned):
        if rel in desired:
            continue
        in_scope = clusters is None or rel.split("/", 1)[0] in clusters
        if in_scope:
            if rel in present:
                result.removed.append(rel)
        else:
            result.kept[rel] = owned[rel]
    result.foreign = sorted(p for p in present if p not in owned and p not in desired and p != INDEX_NAME)
    return result


@contextlib.contextmanager
def build_lock(root: Path, wait_seconds: float) -> Iterator[None]:
    """Hold the repository's build lock; wait up to `wait_seconds` for another build."""
    lock_path = root / LOCK_NAME
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "unknown"
                    raise OutputError(
                        f"another rtc build (pid {holder}) is writing {root.name}/ and did not finish within "
                        f"{wait_seconds:g}s; wait for it, or pass --lock-timeout to wait longer"
                    ) from None
                time.sleep(0.05)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode("ascii"), 0)
        yield
    finally:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def recover(root: Path, out_dir: Path) -> None:
    """Finish or undo what a killed build left behind (call with the lock held)."""
    backup = out_dir.with_name(out_dir.name + BACKUP_SUFFIX)
    if backup.exists() and not out_dir.exists():
        # Killed between the two renames of the non-atomic fallback: the old tree is complete.
        os.rename(backup, out_dir)
    elif backup.exists():
        shutil.rmtree(backup)
    for leftover in root.glob(STAGING_PREFIX + "*"):
        if leftover.is_dir() and not leftover.is_symlink():
            shutil.rmtree(leftover)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux renameat2). False when unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(a))


def _place(source: Path, target: Path) -> None:
    """Put an existing file or link into the staging tree without copying its bytes."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.is_symlink():
        os.symlink(os.readlink(source), target)
        return
    try:
        os.link(source, target, follow_symlinks=False)
    except OSError:
        shutil.copy2(source, target, follow_symlinks=False)


def apply(root: Path, out_dir: Path, change: Plan) -> None:
    """Write the planned tree: stage beside out/, then swap it in atomically."""
    if change.is_current and (out_dir / INDEX_NAME).exists():
        return
    staging = root / f"{STAGING_PREFIX}{os.getpid()}"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir()
    try:
        unchanged = set(change.unchanged)
        for rel, data in change.desired.items():
            target = staging / rel
            if rel in unchanged:
                _place(out_dir / rel, target)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        for rel in [*change.kept, *change.foreign]:
            source = out_dir / rel
            if source.exists() or source.is_symlink():
                _place(source, staging / rel)
        (staging / INDEX_NAME).write_bytes(index_bytes(change.desired, change.kept))
        if out_dir.exists():
            if not _exchange(staging, out_dir):
                backup = out_dir.with_name(out_dir.name + BACKUP_SUFFIX)
                os.rename(out_dir, backup)
                os.rename(staging, out_dir)
                shutil.rmtree(backup)
                return
        else:
            os.rename(staging, out_dir)
            return
    except BaseException:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
        raise
    # After the exchange the staging path holds the old tree.
    shutil.rmtree(staging, ignore_errors=True)
