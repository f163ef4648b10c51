"""What every render depends on besides the catalog's own files: one digest per build.

The compiler's source and data files (by name, size and modification time, as
Python's bytecode cache judges sources: reading the 5 MB of vendored CRDs on
every build would cost a no-op build dearly), the installed distributions and
their versions, the Python version, rtc.toml (lint, GitOps and limit settings),
the engine and the render variant. The build cache (compiler/cache.py) keys its
entries on a digest of it; the build stamp (compiler/stamp.py) compares the
description itself before trusting out/. Standard library only, and hashlib
only where a digest is made (loading OpenSSL takes ~4 ms): the stamp's check
runs before the rest of rtc loads.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys

from compiler.repository import CONFIG_NAME

# Read by the stages besides the import closure; their bytes are part of the fingerprint.
PROJECT_INPUTS = (CONFIG_NAME,)
PACKAGE = os.path.dirname(os.path.abspath(__file__))


def compiler_files() -> list[str]:
    """Every source and data file of the compiler package, relative to it (POSIX paths), sorted."""
    found: list[str] = []
    for folder, dirs, files in os.walk(PACKAGE):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        rel = os.path.relpath(folder, PACKAGE).replace(os.sep, "/")
        prefix = "" if rel == "." else rel + "/"
        found.extend(prefix + name for name in files if not name.endswith((".pyc", ".pyo")))
    return sorted(found)


def installed_distributions() -> list[str]:
    """Name and version of every installed distribution ("rjsonnet-0.5.6.dist-info"):
    any upgrade invalidates the cache. Listing the folders is far cheaper than
    importlib.metadata, and a no-op build should start fast."""
    found: set[str] = set()
    for entry in sys.path:
        with contextlib.suppress(OSError):
            found.update(name for name in os.listdir(entry or ".") if name.endswith((".dist-info", ".egg-info")))
    return sorted(found)


@functools.cache
def compiler_description() -> str:
    """The compiler, its Python and its installed dependencies, as they are in this process."""
    parts = [f"python {sys.version}"]
    for rel in compiler_files():
        info = os.stat(os.path.join(PACKAGE, rel))
        parts.append(f"{rel} {info.st_size} {info.st_mtime_ns}")
    parts.extend(installed_distributions())
    return "\0".join(parts)


def project_inputs(root: str | os.PathLike[str]) -> bytes:
    """The project-wide files every stage may read (rtc.toml), their bytes in one string."""
    parts = []
    for name in PROJECT_INPUTS:
        try:
            with open(os.path.join(root, name), "rb") as f:
                content = f.read()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            content = b"<absent>"
        parts.append(name.encode() + b"\0" + str(len(content)).encode() + b"\0" + content)
    return b"\0".join(parts)


def folder_digest(folder: str | os.PathLike[str]) -> str:
    """One digest of a folder's whole content (names, links and file bytes), or
    "<absent>": what a stage that reads a folder records in TargetRender.inputs.
    Links are recorded by target, never followed."""
    top = os.fspath(folder)
    if os.path.islink(top) or not os.path.isdir(top):
        return "<absent>"
    entries: list[tuple[str, str]] = []
    for parent, dirs, files in os.walk(top):
        rel = os.path.relpath(parent, top).replace(os.sep, "/")
        prefix = "" if rel == "." else rel + "/"
        entries.extend((prefix + name, os.path.join(parent, name)) for name in (*dirs, *files))
    import hashlib

    digest = hashlib.sha256()
    for rel, path in sorted(entries, key=lambda entry: entry[0].split("/")):
        if os.path.islink(path):
            digest.update(f"link {rel} {os.readlink(path)}\0".encode())
        elif os.path.isfile(path):
            with open(path, "rb") as f:
                digest.update(f"file {rel}\0".encode() + hashlib.sha256(f.read()).digest())
        else:
            digest.update(f"dir {rel}\0".encode())
    return digest.hexdigest()


def fingerprint(root: str | os.PathLike[str], engine_name: str, variant: str, cache_format: int) -> str:
    """Everything besides the import closure that a render depends on, as one digest."""
    import hashlib

    digest = hashlib.sha256(f"rtc-cache {cache_format}\0engine {engine_name}\0{variant}\0".encode())
    digest.update(compiler_description().encode() + b"\0" + project_inputs(root))
    return digest.hexdigest()
