"""The spare tree: out/ as the last build replaced it, kept to stage the next build's tree.

`output.apply` builds the new out/ beside the old one and swaps it in whole, so a
killed build never leaves a mixed tree. Building it from nothing means a hard link
per unchanged file, and deleting the old tree after the swap an unlink per file:
on a fleet (~2 000 files) ~30 ms each, for an edit that changes 25 files. So the
old tree is not deleted: it moves to .rtc-cache/out-spare/ with a manifest of its
entries, and the next build renames it to its staging folder and changes only
what differs from the tree it wants (the files that changed since, either way),
instead of linking every file again.

Nothing in the spare is trusted that its manifest does not vouch for by stat,
with the build stamp's rule (compiler/stamp.py): same type, size, inode and
times, and modified before the horizon of the build that recorded it. Its
unchanged files are hard links to out/'s, so a file edited in place in out/
changes in the spare too, and its stat says so. An entry not vouched for is
removed and made again; a spare whose folder is not the one the manifest
describes is not used at all. A build killed while it changes the spare leaves
a staging folder, which the next build deletes (`output.recover`), as any
killed build's.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import shutil
import stat
from dataclasses import dataclass, field
from pathlib import Path

from compiler.repository import CACHE_DIR_NAME
from compiler.stamp import Entry, entry_of, kind_of, settled, walk

SPARE_NAME = "out-spare"
MANIFEST_NAME = "out-spare.manifest"
_MAGIC = b"rtc-spare 1\n"


@dataclass
class Spare:
    """A spare tree as checked against its manifest (call `take` to use it)."""

    path: Path
    # Every entry of the spare: relative path -> "f" (file), "l" (link), "d" (folder) or "o" (anything else).
    kinds: dict[str, str] = field(default_factory=dict)
    # The SHA-256 of the regular files whose stat is as the manifest recorded it.
    digests: dict[str, str] = field(default_factory=dict)


def spare_dir(root: Path) -> Path:
    return root / CACHE_DIR_NAME / SPARE_NAME


def _manifest_path(root: Path) -> Path:
    return root / CACHE_DIR_NAME / MANIFEST_NAME


def check(root: Path) -> Spare | None:
    """The spare tree with what its manifest vouches for, or None when there is none to use."""
    path = spare_dir(root)
    try:
        with open(_manifest_path(root), "rb") as f:
            data = f.read()
        if not data.startswith(_MAGIC):
            return None
        manifest = marshal.loads(data[len(_MAGIC) :])
        info = os.lstat(path)
        if not (
            isinstance(manifest, dict)
            and stat.S_ISDIR(info.st_mode)
            and info.st_dev == os.lstat(root).st_dev  # renamed into the staging folder beside out/
            and manifest.get("folder") == (info.st_dev, info.st_ino)
            and isinstance(manifest.get("entries"), dict)
        ):
            return None
        recorded: dict[str, Entry] = manifest["entries"]
        spare = Spare(path)
        for rel, entry_info in walk(str(path)):
            spare.kinds[rel] = kind = kind_of(entry_info.st_mode) or "o"
            entry = recorded.get(rel)
            if kind == "f" and entry is not None and isinstance(entry[5], str) and settled(entry, entry_info):
                spare.digests[rel] = entry[5]
    except (OSError, EOFError, ValueError, TypeError, KeyError, IndexError):
        return None
    return spare


def discard(root: Path) -> None:
    """Delete the spare tree and its manifest (a build that cannot use it makes a new one)."""
    with contextlib.suppress(OSError):
        os.unlink(_manifest_path(root))
    path = spare_dir(root)
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)


def retire(root: Path, old_tree: Path, digests: dict[str, str], horizon_ns: int) -> bool:
    """Keep `old_tree` (out/ as this build replaced it) as the next build's spare.

    `digests`: the SHA-256 of the old tree's files as the build knew them (the
    stamp's, for files whose stat held); `horizon_ns`: the build lock's time.
    False when it could not be kept: the caller deletes it then."""
    cache = root / CACHE_DIR_NAME
    if not cache.is_dir() or cache.is_symlink():
        return False
    discard(root)
    try:
        entries: dict[str, Entry] = {}
        for rel, info in walk(str(old_tree)):
            entry = entry_of(info, digests.get(rel), horizon_ns)
            if entry is not None:
                entries[rel] = entry
        folder = os.lstat(old_tree)
        payload = {"folder": (folder.st_dev, folder.st_ino), "entries": entries}
        manifest = _manifest_path(root)
        temp = f"{manifest}.tmp-{os.getpid()}"
        with open(temp, "wb") as f:
            f.write(_MAGIC + marshal.dumps(payload))
        os.replace(temp, manifest)
        # Written before the move: a build killed in between leaves a manifest for a folder
        # that is not there, never a spare its manifest does not describe.
        os.rename(old_tree, spare_dir(root))
    except (OSError, ValueError):
        discard(root)
        return False
    return True
