"""The build stamp: `rtc build` with nothing changed answers before the compiler loads.

After every successful full `rtc build`, the stamp (.rtc-cache/build.stamp)
records what that build depended on and what it left in out/:

- the compiler, its Python and dependencies, rtc.toml and the engine
  (compiler/fingerprint.py's description, not a digest of it);
- the overlays it found, every file an evaluation read, the import candidates
  that did not exist, the folders a stage read (lint's services/): the union
  of every target's entry in the build cache;
- every entry of out/ as the build left it;
- what a no-op build prints: each target's line, the diagnostics, the kept files.

A file is recorded as its type, size, inode, modification and change times
and SHA-256. `check` holds all of that against the repository as it is, under
the build lock (shared), with a stat per file: a few milliseconds where
loading the compiler, the cache entries and out/'s files takes hundreds. If
everything holds, out/ is exactly what a full build would leave, and what
that build would print is printed; if anything differs or cannot be read, the
full build runs (the stamp only ever says "nothing to do", so a doubt costs
time, never output).

Trusting a file by its stat follows git's rule for racily clean files: a file
whose modification time is before a horizon, sampled before anyone else could
have written it, cannot have changed since without its stat changing, because
every later write gets a time at or after the horizon. Files the build wrote
(in its private staging tree) have the time sampled after the last write and
before the swap as horizon; files it read (sources, and out/'s files it kept)
have the build lock's time, taken before anything was read. A file at or
after its horizon is "racy": its bytes are hashed and compared, every time;
so are the bytes of a file whose inode or times changed but not its size (a
checkout or `touch` that kept the content).

Standard library only, and nothing of rtc but the repository's names and the
fingerprint: this runs at the start of every `rtc build`. The stamp is
marshal data (Python's own, read in a millisecond); a stamp from another
Python version does not load, or does not match its description.
"""

from __future__ import annotations

import contextlib
import fcntl
import marshal
import os
import stat

from compiler.fingerprint import compiler_description, folder_digest, project_inputs
from compiler.repository import BACKUP_SUFFIX, CACHE_DIR_NAME, LOCK_NAME, STAGING_PREFIX

# Not `typing.TYPE_CHECKING`: importing typing alone takes 5 ms, a sixth of a no-op build.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

STAMP_NAME = "build.stamp"
_MAGIC = b"rtc build stamp 1\n"
OVERLAYS = "overlays"
OVERLAY_SUFFIX = ".jsonnet"

# One file or folder: kind ("f" file, "l" link, "d" folder), size, inode, mtime_ns,
# ctime_ns, SHA-256 (files only), and whether the stat alone is to be trusted.
Entry = tuple[str, int, int, int, int, str | None, bool]


class Verdict:
    """What a no-op build prints: every line a full build would print, but its timing."""

    def __init__(self, progress: list[str], diagnostics: list[str], kept: list[str], files: int, out: str) -> None:
        self.progress = progress
        self.diagnostics = diagnostics
        self.kept = kept
        self.files = files
        self.out = out


def stamp_path(root: str) -> str:
    return os.path.join(root, CACHE_DIR_NAME, STAMP_NAME)


def build_key(root: str, engine: str) -> tuple[str, str, bytes]:
    """What a stamp is valid for; a build takes it before it reads anything else."""
    return engine, compiler_description(), project_inputs(root)


def sha256_of(path: str) -> str | None:
    """The SHA-256 of a regular file that is not a link, as the build cache judges sources; else None."""
    import hashlib  # here: loading OpenSSL costs a no-op build that needs no digest 4 ms

    try:
        if os.path.islink(path):
            return None
        with open(path, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                return None
            return hashlib.sha256(f.read()).hexdigest()
    except OSError:
        return None


def overlay_entries(root: str) -> list[str] | None:
    """The overlays target discovery finds (compiler/targets.py), in its order; None without overlays/."""
    folder = os.path.join(root, OVERLAYS)
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return None
    return [
        f"{OVERLAYS}/{name}"
        for name in names
        if name.endswith(OVERLAY_SUFFIX) and os.path.isfile(os.path.join(folder, name))
    ]


def walk(top: str) -> Iterator[tuple[str, os.stat_result]]:
    """Every entry under `top` with its lstat; links are listed, never followed.
    (listdir and a stat relative to the folder: twice as fast as scandir's entries.)"""
    pending = [""]
    while pending:
        prefix = pending.pop()
        fd = os.open(os.path.join(top, prefix) if prefix else top, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            for name in os.listdir(fd):
                info = os.stat(name, dir_fd=fd, follow_symlinks=False)
                yield prefix + name, info
                if stat.S_ISDIR(info.st_mode):
                    pending.append(prefix + name + "/")
        finally:
            os.close(fd)


def kind_of(mode: int) -> str | None:
    if stat.S_ISREG(mode):
        return "f"
    if stat.S_ISLNK(mode):
        return "l"
    if stat.S_ISDIR(mode):
        return "d"
    return None


def entry_of(info: os.stat_result, digest: str | None, horizon_ns: int | None) -> Entry | None:
    kind = kind_of(info.st_mode)
    if kind is None:
        return None
    if kind == "d":
        return ("d", 0, 0, 0, 0, None, True)
    trusted = horizon_ns is not None and info.st_mtime_ns < horizon_ns
    return (kind, info.st_size, info.st_ino, info.st_mtime_ns, info.st_ctime_ns, digest, trusted)


def _holds(entry: object, path: str, info: os.stat_result | None = None) -> bool:
    """Whether the file or folder at `path` is as `entry` recorded it."""
    if not isinstance(entry, tuple) or len(entry) != 7:
        return False
    kind, size, ino, mtime, ctime, digest, trusted = entry
    if info is None:
        try:
            info = os.lstat(path)
        except OSError:
            return False
    if kind_of(info.st_mode) != kind:
        return False
    if kind == "d":
        return True
    if size != info.st_size:
        return False
    if trusted and (ino, mtime, ctime) == (info.st_ino, info.st_mtime_ns, info.st_ctime_ns):
        return True
    # Racy, or touched (a checkout rewrites files with the same bytes): the bytes decide.
    return digest is not None and sha256_of(path) == digest


# ---------------------------------------------------------------------------- recording


def _folder_entries(folder: str, horizon_ns: int) -> dict[str, Entry] | None:
    """Every entry of a folder a stage read (by stat, as they are now), or None if one is neither file,
    link nor folder. Their bytes are the folder's digest's business."""
    found: dict[str, Entry] = {}
    if os.path.islink(folder) or not os.path.isdir(folder):
        return found
    for rel, info in walk(folder):
        entry = entry_of(info, None, horizon_ns)
        if entry is None:
            return None
        found[rel] = entry
    return found


def record(
    root: str,
    *,
    key: tuple[str, str, bytes],
    out_name: str,
    targets: list[str],
    sources: dict[str, str],
    absent: set[str],
    folders: dict[str, str],
    digests: dict[str, str],
    written: set[str],
    read_since_ns: int,
    written_since_ns: int | None,
    files: int,
    progress: list[str],
    diagnostics: list[str],
    kept: list[str],
) -> bool:
    """Write the stamp of a successful full build that has just left out/ as it is.

    `key`: `build_key()` as the build took it when it started. `sources`: the
    files evaluations read and `folders` the folders stages read, with the
    digests they had then. `digests`: every file rtc owns in out/ now;
    `written`: those this build wrote, all before `written_since_ns`.
    `read_since_ns`: the build lock's time. `files`: how many files the build
    planned. False when no stamp could be written (nothing is wrong then: the
    next build runs in full)."""
    try:
        source_entries: dict[str, Entry] = {}
        for rel, digest in sources.items():
            entry = entry_of(os.lstat(os.path.join(root, rel)), digest, read_since_ns)
            if entry is None or entry[0] != "f":
                return False  # a link: the build cache never trusts one either
            source_entries[rel] = entry
        folder_entries: dict[str, tuple[str, dict[str, Entry]]] = {}
        for rel, digest in folders.items():
            listing = _folder_entries(os.path.join(root, rel), read_since_ns)
            if listing is None:
                return False
            folder_entries[rel] = (digest, listing)
        out_entries: dict[str, Entry] = {}
        for rel, info in walk(os.path.join(root, out_name)):
            horizon = written_since_ns if rel in written else read_since_ns
            entry = entry_of(info, digests.get(rel), horizon)
            if entry is None:
                return False
            out_entries[rel] = entry
    except OSError:
        return False
    payload = {
        "key": key,
        "out": out_name,
        "targets": targets,
        "sources": source_entries,
        "absent": sorted(absent),
        "folders": folder_entries,
        "entries": out_entries,
        "files": files,
        "progress": progress,
        "diagnostics": diagnostics,
        "kept": kept,
    }
    path = stamp_path(root)
    temp = f"{path}.tmp-{os.getpid()}"
    try:
        with open(temp, "wb") as f:
            f.write(_MAGIC + marshal.dumps(payload))
        os.replace(temp, path)
    except (OSError, ValueError):
        with contextlib.suppress(OSError):
            os.unlink(temp)
        return False
    return True


def forget(root: str) -> None:
    """Remove the stamp: the next build runs in full."""
    with contextlib.suppress(OSError):
        os.unlink(stamp_path(root))


# ---------------------------------------------------------------------------- checking


@contextlib.contextmanager
def _shared_lock(root: str) -> Iterator[bool]:
    """The build lock, shared, without waiting: False when a build holds it (or there is none)."""
    try:
        fd = os.open(os.path.join(root, LOCK_NAME), os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        yield False
        return
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            yield False
            return
        try:
            fcntl.lockf(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


def _load(root: str) -> dict[str, Any] | None:
    try:
        with open(stamp_path(root), "rb") as f:
            data = f.read()
        if not data.startswith(_MAGIC):
            return None
        payload = marshal.loads(data[len(_MAGIC) :])
    except (OSError, EOFError, ValueError, TypeError):
        return None
    return payload if isinstance(payload, dict) else None


def _sources_hold(root: str, payload: dict[str, Any]) -> bool:
    if payload["targets"] != overlay_entries(root):
        return False
    for rel, entry in payload["sources"].items():
        if not _holds(entry, os.path.join(root, rel)):
            return False
    for rel in payload["absent"]:
        path = os.path.join(root, rel)
        if os.path.isfile(path) or os.path.islink(path):
            return False
    for rel, (digest, listing) in payload["folders"].items():
        folder = os.path.join(root, rel)
        if not _listing_holds(folder, listing) and folder_digest(folder) != digest:
            return False
    return True


def settled(entry: Entry | None, info: os.stat_result) -> bool:
    """The common case of `_holds` in one expression: a trusted entry with its stat as recorded."""
    return (
        entry is not None
        and entry[6] is True
        and entry[0] == kind_of(info.st_mode)
        and (entry[0] == "d" or entry[1:5] == (info.st_size, info.st_ino, info.st_mtime_ns, info.st_ctime_ns))
    )


def _listing_holds(top: str, recorded: dict[str, Entry]) -> bool:
    """Whether every entry under `top` is as recorded, and no other is there."""
    if not isinstance(recorded, dict):
        return False
    if os.path.islink(top) or not os.path.isdir(top):
        return not recorded
    seen = 0
    for rel, info in walk(top):
        entry = recorded.get(rel)
        if not settled(entry, info) and not _holds(entry, os.path.join(top, rel), info):
            return False
        seen += 1
    return seen == len(recorded)


def settled_digests(root: str, out_name: str) -> dict[str, str]:
    """The SHA-256 of every file in out/ that the last full build recorded and that is
    still as recorded by its stat alone (trusted, same size, inode and times): a
    build's plan compares those by digest instead of reading them. Empty without a
    stamp for `out_name`; a file not listed is simply read."""
    payload = _load(root)
    if payload is None:
        return {}
    try:
        if payload["out"] != out_name:
            return {}
        recorded = payload["entries"]
        top = os.path.join(root, out_name)
        if not isinstance(recorded, dict) or os.path.islink(top) or not os.path.isdir(top):
            return {}
        known: dict[str, str] = {}
        for rel, info in walk(top):
            entry = recorded.get(rel)
            if entry is not None and entry[0] == "f" and isinstance(entry[5], str) and settled(entry, info):
                known[rel] = entry[5]
        return known
    except (OSError, KeyError, IndexError, TypeError):
        return {}


def check(root: str, engine: str | None) -> Verdict | None:
    """What a no-op build of `root` prints, if the stamp holds; None if a full build must run."""
    payload = _load(root)
    if payload is None:
        return None
    try:
        out_name = payload["out"]
        recorded_engine = payload["key"][0]
        if not isinstance(out_name, str) or (engine is not None and engine != recorded_engine):
            return None
        with _shared_lock(root) as locked:
            if not locked:
                return None
            if os.path.lexists(os.path.join(root, out_name + BACKUP_SUFFIX)):
                return None  # a killed build's tree: the full build puts it back
            if any(name.startswith(STAGING_PREFIX) for name in os.listdir(root)):
                return None  # a killed build's staging tree: the full build removes it
            if payload["key"] != build_key(root, recorded_engine):
                return None
            if not _sources_hold(root, payload):
                return None
            out_dir = os.path.join(root, out_name)
            if os.path.islink(out_dir) or not _listing_holds(out_dir, payload["entries"]):
                return None
        progress, diagnostics, kept, files = (payload[k] for k in ("progress", "diagnostics", "kept", "files"))
        return Verdict(list(progress), list(diagnostics), list(kept), int(files), out_name)
    except (OSError, KeyError, IndexError, TypeError, ValueError):
        return None
