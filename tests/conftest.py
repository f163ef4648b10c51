"""Shared fixtures: a throw-away copy of the bundled catalog, and a CLI runner."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# A build server the developer left running (`rtc server start`) must not run the tests'
# commands: some check what the rtc process itself loads. tests/test_server.py starts its own.
os.environ["RTC_NO_SERVER"] = "1"
SOURCE_ITEMS = ("catalog", "hardware", "overlays", "rtc.toml")


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str


def copy_catalog(dest: Path, items: tuple[str, ...] = SOURCE_ITEMS) -> Path:
    """Copy the bundled catalog sources (not out/) into `dest`."""
    dest.mkdir(parents=True, exist_ok=True)
    for item in items:
        source = REPO / item
        if source.is_dir():
            shutil.copytree(source, dest / item)
        else:
            shutil.copy2(source, dest / item)
    return dest


def run_rtc(root: Path, *args: str, stdin: str | None = None) -> Run:
    """Run the real console entry point in a subprocess, as a user would."""
    proc = subprocess.run(
        [sys.executable, "-m", "compiler", "--root", str(root), *args],
        capture_output=True,
        text=True,
        input=stdin,
        cwd=root,
        check=False,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)


def snapshot(directory: Path) -> dict[str, bytes]:
    """Every file under `directory` with its bytes (links recorded by target)."""
    files: dict[str, bytes] = {}
    if not directory.exists():
        return files
    for path in sorted(directory.rglob("*")):
        rel = path.relative_to(directory).as_posix()
        if path.is_symlink():
            files[rel] = b"-> " + str(path.readlink()).encode()
        elif path.is_file():
            files[rel] = path.read_bytes()
    return files


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A fresh copy of the bundled catalog sources."""
    return copy_catalog(tmp_path / "repo")


@pytest.fixture
def rtc() -> Callable[..., Run]:
    return run_rtc
