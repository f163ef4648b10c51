"""Output: plan and apply changes to out/ without ever losing anything.

- rtc owns exactly the files listed in out/.rtc-index.json; it never deletes
  or overwrites anything else, and never follows a symbolic link in out/.
- The new tree is built beside out/, flushed to disk (one syncfs where that is
  as durable as an fsync per file: compiler/durability.py) and swapped in with
  one atomic rename (renameat2 RENAME_EXCHANGE on Linux): a build killed at any
  point leaves the complete old tree or the complete new one.
- One build at a time per repository (a POSIX lock on .rtc.lock).
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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from compiler import durability, spare_tree
from compiler.repository import BACKUP_SUFFIX as BACKUP_SUFFIX
from compiler.repository import INDEX_NAME as INDEX_NAME
from compiler.repository import LOCK_NAME as LOCK_NAME
from compiler.repository import STAGING_PREFIX as STAGING_PREFIX
from compiler.spare_tree import Spare

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
    # Folders in out/ that hold no file rtc owns (kept, even when empty).
    foreign_dirs: list[str] = field(default_factory=list)
    # The cluster folders being rebuilt; None for a full build.
    clusters: set[str] | None = None
    # The SHA-256 of out/'s files as the plan found them, where it knows it without doubt:
    # the stamp's for files whose stat held, the new bytes' for files it read and found unchanged.
    current: dict[str, str] = field(default_factory=dict)
    # The last build's replaced tree, checked, to stage this one from (compiler/spare_tree.py).
    spare: Spare | None = None
    _digests: dict[str, str] | None = field(default=None, repr=False, compare=False)
    _index: bytes | None = field(default=None, repr=False, compare=False)

    @property
    def is_current(self) -> bool:
        return not (self.added or self.changed or self.removed)

    @property
    def written(self) -> list[str]:
        """The files `apply` writes (the others are linked from out/ as they are)."""
        return [*self.added, *self.changed]

    def digests(self) -> dict[str, str]:
        """The SHA-256 of every desired file (computed once: the index and the build stamp record them)."""
        if self._digests is None:
            self._digests = {rel: digest(data) for rel, data in self.desired.items()}
        return self._digests

    def index(self) -> bytes:
        """out/.rtc-index.json as this plan writes it."""
        if self._index is None:
            self._index = index_bytes(self.desired, self.kept, self.digests())
        return self._index


def read_index(out_dir: Path) -> dict[str, str]:
    path = out_dir / INDEX_NAME
    shown = f"{out_dir.name}/{INDEX_NAME}"
    restore = f"restore it from git (git checkout -- {shown}) so rtc knows which files it owns"
    if path.is_symlink():
        raise OutputError(f"{shown} is a symbolic link; rtc does not follow links in its output: {restore}")
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise OutputError(f"{shown}:{exc.lineno}:{exc.colno}: not valid JSON ({exc.msg}); {restore}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise OutputError(f"{shown} is unreadable ({exc}); {restore}") from exc
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in files.items()):
        raise OutputError(f'{shown} has no "files" object mapping paths to digests; {restore}')
    for rel in files:
        if unsafe_path(rel):
            raise OutputError(f"{path} lists {rel!r}, which is outside {out_dir.name}/; restore the index from git")
    return dict(files)


def unsafe_path(rel: str) -> str | None:
    """Why `rel` is not a plain relative path inside out/, or None."""
    if "\x00" in rel:
        return "it contains a NUL byte"
    if "\\" in rel:
        return "it contains a backslash"
    if rel.startswith("/"):
        return "it is absolute"
    wrapped = f"/{rel}/"  # every component between two slashes; one check instead of a split per path
    if "//" in wrapped or "/./" in wrapped or "/../" in wrapped:
        return "it has an empty, '.' or '..' component"
    return None


def index_bytes(files: dict[str, bytes], kept: dict[str, str], digests: dict[str, str] | None = None) -> bytes:
    """out/.rtc-index.json: every file rtc owns with its SHA-256 (`digests`, if known, are of `files`)."""
    entries = {**kept, **(digests or {path: digest(data) for path, data in files.items()})}
    payload = {"generator": "rtc", "version": _INDEX_VERSION, "files": dict(sorted(entries.items()))}
    return (json.dumps(payload, indent=2, sort_keys=False) + "\n").encode("utf-8")


def _walk(out_dir: Path) -> tuple[list[str], list[str]]:
    """Every file and symlink, and every real folder, under out_dir (relative
    POSIX paths); symbolic links are listed, never followed."""
    files: list[str] = []
    dirs: list[str] = []
    if not out_dir.is_dir() or out_dir.is_symlink():
        return files, dirs
    # os.path rather than pathlib: out/ of a large fleet holds tens of thousands of files.
    top = str(out_dir)
    for dirpath, dirnames, filenames in os.walk(top, followlinks=False):
        base = os.path.relpath(dirpath, top)
        prefix = "" if base == "." else base.replace(os.sep, "/") + "/"
        for name in dirnames:
            (files if os.path.islink(os.path.join(dirpath, name)) else dirs).append(prefix + name)
        files.extend(prefix + name for name in filenames)
    return sorted(files), sorted(dirs)


def _walk_files(out_dir: Path) -> list[str]:
    return _walk(out_dir)[0]


def _parents(rel: str) -> list[str]:
    parts = rel.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


def _folders(paths: Iterable[str]) -> set[str]:
    """Every folder that holds one of `paths`, at any depth. (Each path's own folder
    first: a fleet's thousands of files live in a few dozen folders.)"""
    direct = {rel.rpartition("/")[0] for rel in paths}
    direct.discard("")
    folders = set(direct)
    for folder in direct:
        folders.update(_parents(folder))
    return folders


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


@dataclass(frozen=True)
class Survey:
    """What a plan reads of out/ besides the files' bytes, taken ahead of it."""

    owned: dict[str, str]
    files: list[str]
    dirs: list[str]


def survey(out_dir: Path) -> Survey | None:
    """out/'s index and listing, or None when anything is amiss: the plan then reads out/
    itself and says what is wrong. (Taken while the targets render: the build holds the lock.)"""
    try:
        if out_dir.is_symlink() or (out_dir.exists() and not out_dir.is_dir()):
            return None
        owned = read_index(out_dir)
        files, dirs = _walk(out_dir)
    except (OutputError, OSError):
        return None
    return Survey(owned, files, dirs)


def plan(
    out_dir: Path,
    desired: dict[str, bytes],
    clusters: set[str] | None,
    known: dict[str, str] | None = None,
    surveyed: Survey | None = None,
) -> Plan:
    """Compare `desired` with out/. `clusters`: the folders being rebuilt, or
    None for a full build (every owned file not desired is then stale).
    `known`: the SHA-256 of files of out/ known without reading them (the build
    stamp's, for files whose stat says they are as recorded); the others are read.
    `surveyed`: out/'s index and listing as `survey` took them, if it did."""
    if out_dir.is_symlink():
        raise OutputError(f"{out_dir} is a symbolic link; rtc writes only a real folder")
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(f"{out_dir} is a file; rtc writes its output to a folder there: move the file away")
    for rel in desired:
        reason = unsafe_path(rel)
        if reason:
            raise OutputError(f"refusing to write {rel!r} into {out_dir.name}/: {reason}")
    owned = surveyed.owned if surveyed else read_index(out_dir)
    result = Plan(desired=desired, clusters=clusters)
    known = known or {}
    wanted = result.digests() if known else {}
    walked_files, walked_dirs = (surveyed.files, surveyed.dirs) if surveyed else _walk(out_dir)
    present, folders = set(walked_files), set(walked_dirs)
    for rel in sorted(desired):
        if rel in folders:
            raise OutputError(
                f"{out_dir.name}/{rel} is a folder rtc did not make, where rtc writes a file: move it away, "
                "then build again"
            )
        if rel in present and rel not in owned:
            raise OutputError(
                f"{out_dir.name}/{rel} exists but rtc did not write it; rtc never overwrites a file it "
                "does not own: move it away, then build again"
            )
        if rel in known and rel in present:
            # As the stamp recorded it: its digest decides, as its bytes would.
            result.current[rel] = known[rel]
            same = wanted[rel] == known[rel] == owned.get(rel)
            (result.unchanged if same else result.changed).append(rel)
            continue
        current = _read_current(out_dir, rel) if rel in present else None
        if current is None:
            result.added.append(rel)
        elif current == desired[rel] and owned.get(rel) == digest(current):
            result.unchanged.append(rel)
            result.current[rel] = owned[rel]
        else:
            result.changed.append(rel)
    for rel in sorted(owned):
        if rel in desired:
            continue
        in_scope = clusters is None or rel.split("/", 1)[0] in clusters
        if in_scope:
            if rel in present:
                result.removed.append(rel)
        elif rel in present:
            # Only what the walk found: an index entry under a linked folder is never read through.
            result.kept[rel] = owned[rel]
    result.foreign = sorted(p for p in present if p not in owned and p not in desired and p != INDEX_NAME)
    needed_dirs = _folders(desired)
    for rel in [*result.foreign, *result.kept]:
        if rel in needed_dirs:
            raise OutputError(
                f"{out_dir.name}/{rel} is a file or link rtc did not write, where rtc needs a folder: "
                "move it away, then build again"
            )
    owned_dirs = _folders(owned)
    result.foreign_dirs = sorted(d for d in folders if d not in owned_dirs)
    return result


def replan(out_dir: Path, change: Plan) -> Plan:
    """The same build planned again against out/ as it is now (after `recover`
    put a killed build's tree back)."""
    return plan(out_dir, change.desired, change.clusters)


def interrupted_build(out_dir: Path) -> str | None:
    """What a killed build left for the next build to recover, or None."""
    backup = out_dir.with_name(out_dir.name + BACKUP_SUFFIX)
    if backup.is_dir() and not backup.is_symlink() and not out_dir.exists():
        return (
            f"{out_dir.name}/ is missing and {backup.name}/ holds the previous tree: a build was killed "
            f"while swapping; run `rtc build` to restore it"
        )
    return None


@contextlib.contextmanager
def build_lock(root: Path, wait_seconds: float, *, shared: bool = False) -> Iterator[None]:
    """Hold the repository's build lock; wait up to `wait_seconds` for another build.

    `shared` is for readers (`--check`): it waits for a build that is writing
    out/, never creates or writes the lock file, and several readers may hold it."""
    lock_path = root / LOCK_NAME
    flags = (os.O_RDONLY if shared else os.O_RDWR | os.O_CREAT) | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        # O_NOFOLLOW: a committed .rtc.lock symlink must not make rtc truncate its target.
        fd = os.open(lock_path, flags, 0o644)
    except FileNotFoundError:
        if not shared:
            raise
        yield  # no build has ever run here, so none is running
        return
    except OSError as exc:
        raise OutputError(
            f"cannot open the build lock {lock_path} ({exc.strerror}); it must be a plain file: remove it"
        ) from exc
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OutputError(f"the build lock {lock_path} is not a plain file: remove it")
    try:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                # A POSIX record lock, not flock: it belongs to this process, so
                # render workers forked while it is held do not keep it alive
                # after a killed build.
                fcntl.lockf(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
                break
            except (BlockingIOError, PermissionError):  # EAGAIN or EACCES, by platform
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "unknown"
                    raise OutputError(
                        f"another rtc build (pid {holder}) is writing {root.name}/ and did not finish within "
                        f"{wait_seconds:g}s; wait for it, or pass --lock-timeout to wait longer"
                    ) from None
                time.sleep(0.05)
        if not shared:
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(os.getpid()).encode("ascii"), 0)
        yield
    finally:
        with contextlib.suppress(OSError):
            fcntl.lockf(fd, fcntl.LOCK_UN)
        os.close(fd)


def _leftover_dir(path: Path) -> bool:
    """True for a folder a killed build left; refuses anything else under rtc's reserved names."""
    if not path.exists() and not path.is_symlink():
        return False
    if path.is_symlink() or not path.is_dir():
        raise OutputError(
            f"{path} is not a folder rtc left behind, but rtc reserves that name for its own "
            "temporary folders: remove it"
        )
    return True


def recover(root: Path, out_dir: Path) -> bool:
    """Finish or undo what a killed build left behind (call with the lock held).
    True when out/ itself changed (put back), so that a plan made before is stale."""
    restored = False
    backup = out_dir.with_name(out_dir.name + BACKUP_SUFFIX)
    if _leftover_dir(backup):
        if not out_dir.exists() and not out_dir.is_symlink():
            # Killed between the two renames of the non-atomic fallback: the old tree is complete.
            os.rename(backup, out_dir)
            restored = True
        else:
            # Killed while deleting the old tree after the swap: out/ is the new, complete tree.
            shutil.rmtree(backup)
    for leftover in sorted(root.glob(STAGING_PREFIX + "*")):
        if _leftover_dir(leftover):
            shutil.rmtree(leftover)
    return restored


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


def _place(source: Path, target: Path, *, flush: bool) -> None:
    """Put an existing file or link into the staging tree without copying its bytes."""
    if source.is_symlink():
        os.symlink(os.readlink(source), target)
        return
    try:
        os.link(source, target, follow_symlinks=False)
    except OSError:
        shutil.copy2(source, target, follow_symlinks=False)
        if flush:
            _fsync_path(target, os.O_RDONLY)


def _link_unchanged(out_dir: str, rel: str, staging: Path, staging_fd: int, *, flush: bool) -> None:
    """Hard-link an unchanged file of out/ (a regular file, as `plan` read it) into the staging tree."""
    try:
        os.link(os.path.join(out_dir, rel), rel, dst_dir_fd=staging_fd, follow_symlinks=False)
    except OSError:
        _place(Path(out_dir, rel), staging / rel, flush=flush)


def _write_new(staging_fd: int, rel: str, data: bytes, *, flush: bool) -> None:
    """Create one file of the staging tree (its folder exists); `flush`: fsync it now."""
    fd = os.open(rel, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644, dir_fd=staging_fd)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        if flush:
            os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_path(path: Path, flags: int) -> None:
    fd = os.open(path, flags | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sync_dirs(paths: list[Path]) -> None:
    for path in paths:
        _fsync_path(path, os.O_RDONLY | os.O_DIRECTORY)


def _staging_dirs(change: Plan) -> list[str]:
    """Every folder of the new tree, each after its parent."""
    dirs = _folders([*change.desired, *change.kept, *change.foreign])
    for rel in change.foreign_dirs:
        dirs.update((*_parents(rel), rel))
    return sorted(dirs)  # a parent is a prefix of its children, so it sorts first


def _clear_spare(staging_fd: int, change: Plan, dirs: set[str], spare: Spare) -> set[str]:
    """Remove from the spare tree (now in staging) everything the new tree does not
    have exactly; returns the folders and files that stay as they are. A file stays
    when the spare's manifest vouches for its bytes and they are the new ones;
    files rtc does not own and the index are always placed again."""
    wanted = change.digests()
    ready: set[str] = set()
    folders: list[str] = []
    for rel, kind in spare.kinds.items():
        if kind == "d":
            if rel in dirs:
                ready.add(rel)
            else:
                folders.append(rel)
        elif kind == "f" and rel in wanted and spare.digests.get(rel) == wanted[rel]:
            ready.add(rel)
        else:
            os.unlink(rel, dir_fd=staging_fd)
    # Children sort after their parents: in reverse, each folder is empty when it is removed
    # (whatever was in it was not wanted, or its folder would be).
    for rel in sorted(folders, reverse=True):
        os.rmdir(rel, dir_fd=staging_fd)
    return ready


def _stage(staging: Path, out_dir: Path, change: Plan, spare: Spare | None = None) -> int:
    """Build the complete new tree in `staging` (new bytes for what changed,
    links to the existing files for everything else) and flush it to disk.
    Returns the file system's time after the flush: every staged file has
    an earlier modification time, or at worst the same (the build stamp's
    horizon, compiler/stamp.py; sampled by touching the staging folder, which
    becomes out/).

    Flushing: one syncfs(2) of the file system after everything is written
    where that is as durable as an fsync per file and folder
    (compiler/durability.py), else an fsync per written file and folder.

    With a spare tree (the tree the last build replaced: compiler/spare_tree.py),
    the staging folder is that tree, changed where it differs from the new one."""
    from_spare = False
    if spare is not None:
        try:
            os.rename(spare.path, staging)  # from here on a staging folder: a killed build's is deleted
            from_spare = True
        except OSError:
            pass
    if not from_spare:
        staging.mkdir()
    # Opened before anything is written: syncfs reports the write-back errors since this open.
    staging_fd = os.open(staging, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        sync_all = durability.file_system_sync(staging_fd)
        flush = sync_all is None
        dirs = _staging_dirs(change)
        ready = _clear_spare(staging_fd, change, set(dirs), spare) if from_spare and spare else set()
        for rel in dirs:
            if rel not in ready:
                os.mkdir(rel, dir_fd=staging_fd)
        unchanged = set(change.unchanged)
        out = os.fspath(out_dir)
        for rel, data in change.desired.items():
            if rel in ready:
                continue
            if rel in unchanged:
                _link_unchanged(out, rel, staging, staging_fd, flush=flush)
            else:
                _write_new(staging_fd, rel, data, flush=flush)
        for rel in [*change.kept, *change.foreign]:
            _place(out_dir / rel, staging / rel, flush=flush)
        _write_new(staging_fd, INDEX_NAME, change.index(), flush=flush)
        if sync_all is not None:
            sync_all()
        else:
            _sync_dirs([staging, *(staging / rel for rel in dirs)])
        return _time_after(staging_fd, os.stat(INDEX_NAME, dir_fd=staging_fd).st_mtime_ns)
    finally:
        os.close(staging_fd)


def _time_after(folder_fd: int, last_write_ns: int) -> int:
    """The file system's clock, sampled by touching a folder, once it has passed `last_write_ns`.

    File times come from a clock that moves in ticks of a few milliseconds: a
    file written in the tick the build stamp's horizon is sampled in is
    "racy" and gets its bytes compared by every no-op build. The flush
    usually outlasts a tick; after a quick one, waiting for the next tick
    (at most a few milliseconds, never more than 50) spares those reads."""
    deadline = time.monotonic() + 0.05
    while True:
        os.utime(folder_fd)
        now = os.fstat(folder_fd).st_mtime_ns
        if now > last_write_ns or time.monotonic() > deadline:
            return now
        time.sleep(0.0005)


def _swap(root: Path, staging: Path, out_dir: Path) -> None:
    """Put `staging` in place of out/. Afterwards the staging path holds the
    old tree (or nothing, when there was no out/ before)."""
    if not out_dir.exists():
        os.rename(staging, out_dir)
    elif not _exchange(staging, out_dir):
        # No atomic exchange on this system: two renames. A build killed between
        # them leaves only the backup, which `recover` puts back.
        backup = out_dir.with_name(out_dir.name + BACKUP_SUFFIX)
        os.rename(out_dir, backup)
        try:
            os.rename(staging, out_dir)
        except BaseException:
            os.rename(backup, out_dir)
            raise
        os.rename(backup, staging)
    with contextlib.suppress(OSError):  # the swap is done; a failed flush does not undo it
        _sync_dirs([root])


def apply(root: Path, out_dir: Path, change: Plan, *, keep_spare_since_ns: int | None = None) -> int | None:
    """Write the planned tree: stage beside out/, then swap it in atomically.
    Call with the build lock held, after `recover`. Returns when the last file
    was written (see `_stage`), or None when nothing was.

    The tree it replaces is deleted, or, with `keep_spare_since_ns` (the build
    lock's time), kept to stage the next build from (compiler/spare_tree.py)."""
    if change.is_current and (out_dir / INDEX_NAME).exists():
        return None
    staging = root / f"{STAGING_PREFIX}{os.getpid()}"
    if _leftover_dir(staging):
        shutil.rmtree(staging)
    replacing = out_dir.is_dir() and not out_dir.is_symlink()
    try:
        written_by = _stage(staging, out_dir, change, change.spare)
        _swap(root, staging, out_dir)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise OutputError(f"could not write {out_dir.name}/ ({exc}); {out_dir.name}/ is unchanged") from exc
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    kept = (
        replacing
        and keep_spare_since_ns is not None
        and spare_tree.retire(root, staging, change.current, keep_spare_since_ns)
    )
    if not kept:
        shutil.rmtree(staging, ignore_errors=True)
    return written_by
