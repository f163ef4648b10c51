"""The pinned Go tools (`make tools` installs them into .tools/bin)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent.parent


def tool(name: str) -> str:
    """Path of a real binary: on PATH (make test puts .tools/bin first) or in .tools/bin."""
    found = shutil.which(name) or shutil.which(name, path=str(REPO / ".tools" / "bin"))
    if found is None:
        pytest.fail(f"{name} is not installed: run `make tools` (tests use the real binary, never a stand-in)")
    return found
