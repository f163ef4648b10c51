"""The build cache: a target whose inputs did not change is not rendered again.

A target's render (its TargetRender: files, diagnostics, objects, whatever
later stages add to it) depends only on
  - the files its evaluation read (the import closure, by content hash) and
    the import candidates that did not exist (creating one would change what
    an import resolves to),
  - the other files and folders its stages read (TargetRender.inputs, e.g.
    lint's overlays/<cluster>/services/),
  - the target's name and entry file,
  - the compiler: its source and data files (by name, size and modification
    time), the installed distributions' versions, the Python version, rtc.toml, the engine, and whether lint ran
    (a variant: renders with and without lint have separate entries).
The last group is one fingerprint per build. An entry is used only when all of
it matches; a missing, stale, truncated or otherwise broken entry is ignored,
never trusted, and replaced by the next store.

Layout: .rtc-cache/<target>.<engine>[.<variant>].entry beside out/ (never inside it),
each one file written atomically: a JSON header line, then the pickled render
without its objects, then the pickled objects (`cluster.objects`), then the
pickled reuse memo (compiler/reuse.py: what the next render of the target may
take over); the header records the SHA-256 of each. `rtc build` needs only the
first part, so a no-op build does not pay for loading thousands of objects.
Renders with errors are not cached, so error messages always come from a
fresh evaluation.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from compiler.atomic import write_atomically
from compiler.fingerprint import PROJECT_INPUTS as PROJECT_INPUTS
from compiler.fingerprint import fingerprint as project_fingerprint
from compiler.fingerprint import folder_digest
from compiler.project import Project
from compiler.repository import CACHE_DIR_NAME as CACHE_DIR_NAME
from compiler.targets import Target

if TYPE_CHECKING:
    from compiler.pipeline import TargetRender
    from compiler.reuse import PreviousRender

_FORMAT = 5
_SUFFIX = ".entry"


def fingerprint(project: Project, engine_name: str, variant: str = "") -> str:
    """Everything besides the import closure that a render depends on (compiler/fingerprint.py)."""
    return project_fingerprint(project.root, engine_name, variant, _FORMAT)


@dataclass
class _SourceState:
    """What the files of the repository hold now, read at most once per build."""

    root: Path
    hashes: dict[str, str | None] = field(default_factory=dict)
    present: dict[str, bool] = field(default_factory=dict)

    def sha256(self, rel: str) -> str | None:
        if rel not in self.hashes:
            path = self.root / rel
            if path.is_symlink() or not path.is_file():
                self.hashes[rel] = None
            else:
                try:
                    self.hashes[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
                except OSError:
                    self.hashes[rel] = None
        return self.hashes[rel]

    def exists(self, rel: str) -> bool:
        # Remembered like the hashes: the targets share most of their absent import candidates.
        found = self.present.get(rel)
        if found is None:
            path = os.path.join(self.root, rel)
            found = self.present[rel] = os.path.isfile(path) or os.path.islink(path)
        return found

    def input_digest(self, rel: str) -> str | None:
        """A recorded input's digest now: folders (ending in "/") as folder_digest, files by content."""
        if not rel.endswith("/"):
            return self.sha256(rel)
        if rel not in self.hashes:
            try:
                self.hashes[rel] = folder_digest(os.path.join(self.root, rel))
            except OSError:
                self.hashes[rel] = None
        return self.hashes[rel]


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    stored: int = 0


class BuildCache:
    """Cached renders of one project with one engine and compiler."""

    def __init__(self, project: Project, engine_name: str, *, variant: str = "", directory: Path | None = None) -> None:
        self.project = project
        self.engine_name = engine_name
        self.directory = directory or project.root / CACHE_DIR_NAME
        self.fingerprint = fingerprint(project, engine_name, variant)
        self._suffix = f".{engine_name}{'.' + variant if variant else ''}{_SUFFIX}"
        self.stats = CacheStats()
        self._sources = _SourceState(project.root)

    def _path(self, target: Target) -> Path:
        return self.directory / f"{target.name}{self._suffix}"

    def lookup(self, target: Target, *, with_objects: bool = True) -> TargetRender | None:
        """The cached render of `target`, if every input is as it was; without
        `with_objects`, its `cluster.objects` is left empty."""
        render = self._read(target, with_objects)
        if render is None:
            self.stats.misses += 1
        else:
            self.stats.hits += 1
        return render

    def _read(self, target: Target, with_objects: bool) -> TargetRender | None:
        from compiler.pipeline import TargetRender

        try:
            with self._path(target).open("rb") as entry:
                header = json.loads(entry.readline())
                if not (
                    self._made_here(header, target)
                    and self._inputs_unchanged(header.get("imports"), header.get("absent"), header.get("inputs"))
                ):
                    return None
                render_blob = entry.read(int(header["render_size"]))
                if header.get("render") != hashlib.sha256(render_blob).hexdigest():
                    return None
                render = pickle.loads(render_blob)
                if not isinstance(render, TargetRender) or render.target != target:
                    return None
                if with_objects:
                    # Only a build that keeps the objects reads (and checks) this part.
                    objects_blob = entry.read(int(header["objects_size"]))
                    if header.get("objects") != hashlib.sha256(objects_blob).hexdigest():
                        return None
                    objects = pickle.loads(objects_blob)
                    if not isinstance(objects, list) or render.cluster is None:
                        return None
                    render.cluster.objects = objects
        except Exception:  # a broken entry of any kind is ignored
            return None
        render.from_cache = True
        return render

    def previous(self, target: Target) -> PreviousRender | None:
        """What the target's stored render leaves to its next render, whatever its
        sources are now: it must come from this compiler, settings and engine
        (the fingerprint) and the same entry file; None if there is no such entry."""
        from compiler.pipeline import TargetRender
        from compiler.reuse import PreviousRender, ReuseMemo

        try:
            with self._path(target).open("rb") as entry:
                header = json.loads(entry.readline())
                if not self._made_here(header, target):
                    return None
                render_blob = entry.read(int(header["render_size"]))
                entry.seek(int(header["objects_size"]), os.SEEK_CUR)
                reuse_blob = entry.read()
            if (
                header.get("render") != hashlib.sha256(render_blob).hexdigest()
                or header.get("reuse") != hashlib.sha256(reuse_blob).hexdigest()
            ):
                return None
            render = pickle.loads(render_blob)
            memo = pickle.loads(reuse_blob)
            if not (isinstance(render, TargetRender) and render.target == target and isinstance(memo, ReuseMemo)):
                return None
        except Exception:  # a broken entry of any kind is ignored
            return None
        return PreviousRender(files=render.files, memo=memo)

    def _made_here(self, header: object, target: Target) -> bool:
        """Whether an entry's header is this format's, for this fingerprint, target and entry file."""
        return (
            isinstance(header, dict)
            and header.get("format") == _FORMAT
            and header.get("fingerprint") == self.fingerprint
            and header.get("target") == target.name
            and header.get("entry") == target.entry
        )

    def _inputs_unchanged(self, imports: object, absent: object, inputs: object) -> bool:
        if not (isinstance(imports, dict) and imports and isinstance(absent, list) and isinstance(inputs, dict)):
            return False
        for rel, recorded in imports.items():
            if not isinstance(rel, str) or self._sources.sha256(rel) != recorded:
                return False
        for rel, recorded in inputs.items():
            if not isinstance(rel, str) or self._sources.input_digest(rel) != recorded:
                return False
        return not any(not isinstance(rel, str) or self._sources.exists(rel) for rel in absent)

    def store(self, render: TargetRender) -> None:
        """Remember a successful render; failures to write are not errors (the cache is an optimization)."""
        if not render.ok or not render.imports:
            return
        # Not read again here: `imports` and `inputs` are the digests of the very bytes the
        # render read, so a file edited after it was read differs from its entry at the next
        # lookup, and the target renders again then.
        if render.cluster is None:
            return  # the objects are part of the render: never cache a render without them
        try:
            shell = dataclasses.replace(render, cluster=dataclasses.replace(render.cluster, objects=[]), reuse=None)
            render_blob = pickle.dumps(shell, protocol=pickle.HIGHEST_PROTOCOL)
            objects_blob = pickle.dumps(render.cluster.objects, protocol=pickle.HIGHEST_PROTOCOL)
            reuse_blob = pickle.dumps(render.reuse, protocol=pickle.HIGHEST_PROTOCOL) if render.reuse else b""
        except Exception:
            return
        header = {
            "format": _FORMAT,
            "fingerprint": self.fingerprint,
            "target": render.target.name,
            "entry": render.target.entry,
            "imports": render.imports,
            "absent": list(render.absent),
            "inputs": render.inputs,
            "render": hashlib.sha256(render_blob).hexdigest(),
            "render_size": len(render_blob),
            "objects": hashlib.sha256(objects_blob).hexdigest(),
            "objects_size": len(objects_blob),
            "reuse": hashlib.sha256(reuse_blob).hexdigest(),
        }
        data = json.dumps(header, sort_keys=True).encode() + b"\n" + render_blob + objects_blob + reuse_blob
        with contextlib.suppress(OSError):
            self._write_atomically(self._path(render.target), data)
            self.stats.stored += 1

    def _write_atomically(self, path: Path, data: bytes) -> None:
        if not path.parent.is_dir():
            path.parent.mkdir(parents=True, exist_ok=True)
            # Like .pytest_cache: the folder ignores itself in any Git repository.
            (path.parent / ".gitignore").write_text("# rtc's build cache: never commit it\n*\n", encoding="utf-8")
        write_atomically(path, data, suffix=_SUFFIX)

    def recall(self, name: str, key: str) -> object | None:
        """A value remembered under `name` for `key` (and this fingerprint), or None."""
        try:
            with (self.directory / f"{name}{self._suffix[: -len(_SUFFIX)]}.memo").open("rb") as memo:
                header = json.loads(memo.readline())
                payload = memo.read()
            if not (
                isinstance(header, dict)
                and header.get("format") == _FORMAT
                and header.get("fingerprint") == self.fingerprint
                and header.get("key") == key
                and header.get("payload") == hashlib.sha256(payload).hexdigest()
            ):
                return None
            value: object = pickle.loads(payload)
        except Exception:  # a broken memo is ignored like a broken entry
            return None
        return value

    def remember(self, name: str, key: str, value: object) -> None:
        try:
            payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:
            return
        header = {"format": _FORMAT, "fingerprint": self.fingerprint, "key": key}
        header["payload"] = hashlib.sha256(payload).hexdigest()
        data = json.dumps(header, sort_keys=True).encode() + b"\n" + payload
        with contextlib.suppress(OSError):
            self._write_atomically(self.directory / f"{name}{self._suffix[: -len(_SUFFIX)]}.memo", data)

    def prune(self, targets: list[Target]) -> None:
        """Delete entries of this engine and variant for targets that no longer exist, and stray temp files."""
        keep = {self._path(t).name for t in targets}
        if not self.directory.is_dir():
            return
        for path in self.directory.iterdir():
            stale = path.name.endswith(self._suffix) and path.name not in keep
            if stale or path.name.startswith(".tmp-"):
                with contextlib.suppress(OSError):
                    path.unlink()
