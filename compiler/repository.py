"""Where the catalog repository is (the nearest folder upwards that holds
rtc.toml), and the names rtc reserves in it.

Standard library only, and not even pathlib: the build stamp's check
(compiler/startup.py, compiler/stamp.py) finds the repository before anything
else is loaded.
"""

from __future__ import annotations

import os

CONFIG_NAME = "rtc.toml"
# The names rtc reserves beside and inside out/ (compiler/output.py, compiler/cache.py).
CACHE_DIR_NAME = ".rtc-cache"
LOCK_NAME = ".rtc.lock"
INDEX_NAME = ".rtc-index.json"
STAGING_PREFIX = ".rtc-staging-"
BACKUP_SUFFIX = ".rtc-previous"


class RepositoryNotFound(Exception):
    """No rtc.toml in the folder or any parent."""


def find_root(start: str) -> str:
    """The nearest folder from `start` (an absolute path) upwards that holds rtc.toml."""
    candidate = start
    while True:
        if os.path.isfile(os.path.join(candidate, CONFIG_NAME)):
            return candidate
        parent = os.path.dirname(candidate)
        if parent == candidate:
            raise RepositoryNotFound(
                f"no {CONFIG_NAME} in {start} or any parent folder; run rtc inside a catalog "
                f"repository (one with {CONFIG_NAME}, catalog/, hardware/ and overlays/) or pass --root"
            )
        candidate = parent
