"""Replace one file so that a reader sees the old content or all of the new, never a part."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def write_atomically(path: Path, data: bytes, *, suffix: str = "") -> None:
    """Write `data` to a temporary file beside `path`, then rename it over `path`.

    The folder must exist. On any failure the temporary file is removed and the
    error propagates; `path` keeps its old content."""
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
