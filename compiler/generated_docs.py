"""Writing a generated document, or checking that the committed one is current."""

from __future__ import annotations

import os
from pathlib import Path

CURRENT, WRITTEN, STALE, MISSING = "current", "written", "stale", "missing"


def write_or_check(path: Path, text: str, *, check: bool) -> str:
    """Write `text` to `path` unless it is already there; with `check`, only compare.

    Returns current, written, stale or missing. The write goes through a
    temporary file and a rename, so a reader never sees half a document.
    """
    data = text.encode("utf-8")
    existing = path.read_bytes() if path.is_file() else None
    if existing == data:
        return CURRENT
    if check:
        return MISSING if existing is None else STALE
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.rtc-tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)
    return WRITTEN
