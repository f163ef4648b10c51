"""The catalog at another Git revision, checked out in a temporary worktree.

`git worktree add --detach` gives exactly the files Git would check out
(filters and attributes applied), without touching the user's working tree,
index or branches; the worktree is removed again, whatever happens.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

DEFAULT_BRANCHES = ("main", "origin/main")


class GitError(Exception):
    """Git is missing, the folder is not in a repository, or the revision does not exist."""


@dataclass(frozen=True)
class Revision:
    ref: str  # as the user named it (or how rtc chose it)
    commit: str

    @property
    def short(self) -> str:
        return self.commit[:12]


def _git(cwd: Path, *args: str) -> str:
    try:
        proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise GitError("git is not installed; rtc diff needs it to read the base revision") from None
    if proc.returncode != 0:
        raise GitError(proc.stderr.strip() or f"git {' '.join(args)} failed")
    return proc.stdout.strip()


def toplevel(path: Path) -> Path:
    try:
        return Path(_git(path, "rev-parse", "--show-toplevel")).resolve()
    except GitError:
        raise GitError(f"{path} is not inside a Git repository; rtc diff compares Git revisions") from None


def resolve(root: Path, ref: str | None) -> Revision:
    """The commit of `ref`; without one, the merge base of HEAD with main (or origin/main)."""
    toplevel(root)
    if ref is not None:
        try:
            return Revision(ref, _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"))
        except GitError:
            raise GitError(f"no commit {ref!r} in this repository (try a branch, tag or commit)") from None
    for branch in DEFAULT_BRANCHES:
        try:
            _git(root, "rev-parse", "--verify", "--quiet", f"{branch}^{{commit}}")
        except GitError:
            continue
        try:
            return Revision(f"merge-base(HEAD, {branch})", _git(root, "merge-base", "HEAD", branch))
        except GitError:
            raise GitError(f"HEAD and {branch} have no common commit; pass --base REF") from None
    raise GitError(f"no branch {' or '.join(DEFAULT_BRANCHES)} to compare with; pass --base REF")


@contextlib.contextmanager
def checkout(root: Path, revision: Revision) -> Iterator[Path]:
    """Check `revision` out in a temporary worktree; yields the folder matching `root` in it."""
    top = toplevel(root)
    inside = root.resolve().relative_to(top)
    scratch = Path(tempfile.mkdtemp(prefix="rtc-diff-"))
    worktree = scratch / "base"
    try:
        _git(top, "worktree", "add", "--detach", "--quiet", str(worktree), revision.commit)
        yield worktree / inside
    finally:
        with contextlib.suppress(GitError):
            _git(top, "worktree", "remove", "--force", str(worktree))
        shutil.rmtree(scratch, ignore_errors=True)
        with contextlib.suppress(GitError):
            _git(top, "worktree", "prune")
