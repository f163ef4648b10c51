"""The spare tree (compiler/spare_tree.py): out/ as the last build replaced it stages the next
build's tree, changed only where it differs, and nothing in it is trusted that its manifest does
not vouch for: out/ is always exactly what a build from scratch writes."""

from __future__ import annotations

import os
import random
import shutil
from pathlib import Path
from typing import Any

import pytest

from compiler import output, spare_tree
from compiler.cache import CACHE_DIR_NAME
from compiler.output import LOCK_NAME, apply, build_lock
from compiler.pipeline import build
from compiler.project import load_project
from tests.conftest import copy_catalog, run_rtc, snapshot

RUNTIME = "catalog/vllm/main.libsonnet"
IMAGE = "vllm/vllm-openai:v0.18.0"


def _edit_image(root: Path, tag: str) -> None:
    path = root / RUNTIME
    text = path.read_text()
    old = next(line for line in text.splitlines() if "vllm/vllm-openai:" in line)
    path.write_text(text.replace(old, f"    'nvidia-cuda-12.1': 'vllm/vllm-openai:{tag}',"))


def _build(root: Path) -> None:
    done = run_rtc(root, "-q", "build")
    assert done.code == 0, done.stderr


def _clean_build(root: Path, scratch: Path) -> dict[str, bytes]:
    """out/ as a build of the same sources from nothing writes it."""
    shutil.rmtree(scratch, ignore_errors=True)
    shutil.copytree(root, scratch, ignore=shutil.ignore_patterns(CACHE_DIR_NAME, "out", ".rtc*"))
    _build(scratch)
    return snapshot(scratch / "out")


def test_the_replaced_tree_is_kept_and_stages_the_next_build(tmp_path: Path) -> None:
    root = copy_catalog(tmp_path / "repo")
    _build(root)
    assert not spare_tree.spare_dir(root).exists()  # nothing was replaced
    before = snapshot(root / "out")
    _edit_image(root, "v0.18.1")
    _build(root)
    spare = spare_tree.spare_dir(root)
    assert snapshot(spare) == before  # the tree this build replaced
    # Its unchanged files are the same inodes as out/'s (links, not copies).
    shared = [p for p in (root / "out").rglob("*.yaml") if (spare / p.relative_to(root / "out")).exists()]
    same = [p for p in shared if p.stat().st_ino == (spare / p.relative_to(root / "out")).stat().st_ino]
    assert len(same) >= len(shared) - 3
    assert snapshot(root / "out") == _clean_build(root, tmp_path / "clean")
    assert not list(root.glob(output.STAGING_PREFIX + "*"))


def test_an_edit_links_and_writes_only_what_changed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = copy_catalog(tmp_path / "repo")
    _build(root)
    _edit_image(root, "v0.18.1")
    _build(root)  # now there is a spare
    _edit_image(root, "v0.18.2")
    project = load_project(root)
    links: list[str] = []
    real_link = os.link

    def counted_link(*args: Any, **kwargs: Any) -> None:
        links.append(str(args[1]))
        real_link(*args, **kwargs)

    monkeypatch.setattr(os, "link", counted_link)
    with build_lock(root, 5):
        result = build(project, jobs=1)
        assert result.plan is not None and result.plan.spare is not None
        changed = len(result.plan.written)
        assert 0 < changed < len(result.plan.desired) // 2
        apply(root, project.out_dir, result.plan, keep_spare_since_ns=os.stat(root / LOCK_NAME).st_mtime_ns)
    # Without the spare every unchanged file is linked; from it, at most the ones the
    # last build changed and this one did not.
    assert len(links) <= changed, links
    assert snapshot(root / "out") == _clean_build(root, tmp_path / "clean")


def _hand_edit_in_place(path: Path, keep_times: bool) -> None:
    """Change bytes without changing the size (and, if asked, the modification time)."""
    info = path.stat()
    data = bytearray(path.read_bytes())
    index = data.rfind(b"e")
    data[index : index + 1] = b"E"
    with open(path, "r+b") as f:  # the same inode: the spare's link sees the edit too
        f.write(data)
    if keep_times:
        os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))


def _mischief(root: Path, rng: random.Random, step: int) -> str:
    out, spare = root / "out", spare_tree.spare_dir(root)
    kind = rng.choice(["source", "out-in-place", "out-in-place-same-time", "spare-file", "spare-junk", "manifest"])
    files = sorted(p for p in (out.rglob("*.yaml") if out.exists() else []))
    spare_files = sorted(p for p in spare.rglob("*.yaml")) if spare.is_dir() else []
    if kind == "source" or not files:
        _edit_image(root, f"v0.{step}.{rng.randrange(100)}")
    elif kind.startswith("out-in-place"):
        _hand_edit_in_place(rng.choice(files), keep_times=kind.endswith("same-time"))
    elif kind == "spare-file" and spare_files:
        victim = rng.choice(spare_files)
        if rng.random() < 0.5:
            victim.unlink()
        else:  # a new file under the same name: another inode, other bytes
            text = victim.read_bytes() + b"# changed\n"
            victim.unlink()
            victim.write_bytes(text)
    elif kind == "spare-junk" and spare.is_dir():
        folder = rng.choice([p for p in spare.iterdir() if p.is_dir()] or [spare])
        (folder / f"junk-{step}.yaml").write_text("junk: true\n")
        (folder / f"dir-{step}").mkdir()
        os.symlink("/etc/passwd", folder / f"link-{step}.yaml")
    elif kind == "manifest":
        manifest = root / CACHE_DIR_NAME / spare_tree.MANIFEST_NAME
        if manifest.exists():
            manifest.write_bytes(manifest.read_bytes()[:-7])
    return kind


@pytest.mark.parametrize("seed", [1, 2])
def test_out_is_what_a_build_from_nothing_writes_whatever_happened_to_the_spare(tmp_path: Path, seed: int) -> None:
    root = copy_catalog(tmp_path / "repo")
    rng = random.Random(seed)
    _build(root)
    kinds = []
    for step in range(10):
        kinds.append(_mischief(root, rng, step))
        _edit_image(root, f"v1.{step}") if rng.random() < 0.5 else None
        _build(root)
        assert snapshot(root / "out") == _clean_build(root, tmp_path / "clean"), (seed, kinds)
        # The stamp answers the next build only when out/ really is current.
        again = run_rtc(root, "build")
        assert again.code == 0 and "is current" in again.stderr, (seed, kinds, again.stderr)


def test_a_spare_that_is_not_the_folder_its_manifest_describes_is_not_used(tmp_path: Path) -> None:
    root = copy_catalog(tmp_path / "repo")
    _build(root)
    _edit_image(root, "v0.18.1")
    _build(root)
    spare = spare_tree.spare_dir(root)
    assert spare_tree.check(root) is not None
    copy = spare.with_name("copy")
    shutil.copytree(spare, copy, symlinks=True)
    shutil.rmtree(spare)
    copy.rename(spare)  # the same names and bytes, other inodes
    assert spare_tree.check(root) is None
    _edit_image(root, "v0.18.2")
    _build(root)
    assert snapshot(root / "out") == _clean_build(root, tmp_path / "clean")
    assert spare_tree.check(root) is not None  # the tree this build replaced is the new spare


def test_without_the_cache_the_spare_is_neither_used_nor_replaced(tmp_path: Path) -> None:
    root = copy_catalog(tmp_path / "repo")
    _build(root)
    _edit_image(root, "v0.18.1")
    _build(root)
    spare = snapshot(spare_tree.spare_dir(root))
    _edit_image(root, "v0.18.2")
    done = run_rtc(root, "-q", "build", "--no-cache")
    assert done.code == 0, done.stderr
    assert snapshot(spare_tree.spare_dir(root)) == spare
    assert snapshot(root / "out") == _clean_build(root, tmp_path / "clean")
    assert not list(root.glob(output.STAGING_PREFIX + "*"))
