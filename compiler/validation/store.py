"""Where schemas come from: the vendored CRDs, the vendored Kubernetes kinds, the user's CRDs.

Parsing the vendored CRDs takes seconds (4 MB of YAML, 2 MB of it the
InferenceService), so each CRD file is converted once and the result kept in
a cache folder keyed by the file's content hash and the converter version:
later runs read only the small JSON of the kinds they meet. The cache is an
optimisation only; when it cannot be written, rtc converts in memory.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compiler.atomic import write_atomically
from compiler.validation.convert import (
    CONVERTER_VERSION,
    KUBERNETES_VERSION,
    CrdError,
    builtin_dir,
    convert_crd,
    object_meta_defs,
    schemas_dir,
)
from compiler.validation.sites import Site, find_sites

# The vendored CRDs under compiler/schemas/ (provenance in SOURCES.md there), by kind.
VENDORED_INDEX = "index.json"


class SchemaLoadError(Exception):
    """A --schema-location path cannot be used; the message says why."""


def group_of(api_version: str) -> str:
    return api_version.rsplit("/", 1)[0] if "/" in api_version else ""


def export_name(api_version: str, kind: str) -> str:
    """kubeconform's file name: {kind}-{first label of the group}-{version}.json, lower case
    (`{{ .ResourceKind }}{{ .KindSuffix }}.json`); core kinds are {kind}-{version}.json."""
    group, _, version = api_version.rpartition("/")
    suffix = f"-{group.split('.')[0]}-{version}" if group else f"-{version}"
    return f"{kind}{suffix}.json".lower()


@dataclass
class KindSchema:
    api_version: str
    kind: str
    namespaced: bool | None
    source: str
    _schema: dict[str, Any] | None = None
    _sites: list[Site] | None = None
    _load: Any = field(default=None, repr=False)

    @property
    def group(self) -> str:
        return group_of(self.api_version)

    @property
    def schema(self) -> dict[str, Any]:
        if self._schema is None:
            self._materialize()
        assert self._schema is not None
        return self._schema

    @property
    def sites(self) -> list[Site]:
        if self._sites is None:
            self._materialize()
        if self._sites is None:
            self._sites = find_sites(self.schema)
        return self._sites

    def _materialize(self) -> None:
        schema, sites = self._load()
        self._schema = schema
        if sites is not None:
            self._sites = sites


def default_cache_dir() -> Path:
    explicit = os.environ.get("RTC_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "rtc"


def _writable(directory: Path) -> Path | None:
    """`directory`, or a per-user folder under the system temp dir when it cannot be written."""
    fallback = Path(tempfile.gettempdir()) / f"rtc-cache-{os.getuid()}" / "schemas"
    for candidate in (directory, fallback):
        try:
            candidate.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(candidate, os.W_OK | os.X_OK):
            return candidate
    return None


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, text.encode("utf-8"))


class _CrdCache:
    """Converted CRD files: <dir>/schemas/<key>/index.json and one <n>.json per version."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = _writable(directory / "schemas") if directory else None
        meta = json.dumps(object_meta_defs(), sort_keys=True).encode()
        self._salt = CONVERTER_VERSION.encode() + b"\0" + hashlib.sha256(meta).digest()

    def key(self, data: bytes) -> str:
        return hashlib.sha256(self._salt + data).hexdigest()[:32]

    def kinds(self, data: bytes, source: str) -> list[KindSchema]:
        key = self.key(data)
        cached = self._read_index(key)
        if cached is not None:
            return [self._lazy(key, entry, source) for entry in cached]
        kinds = []
        index = []
        for number, version in enumerate(_convert_documents(data, source)):
            sites = find_sites(version.schema)
            kinds.append(
                KindSchema(version.api_version, version.kind, version.namespaced, source, version.schema, sites)
            )
            index.append(
                {
                    "apiVersion": version.api_version,
                    "kind": version.kind,
                    "namespaced": version.namespaced,
                    "file": f"{number}.json",
                }
            )
            self._write(key, f"{number}.json", {"schema": version.schema, "sites": [s.to_json() for s in sites]})
        self._write(key, "index.json", index)
        return kinds

    def _read_index(self, key: str) -> list[dict[str, Any]] | None:
        if self.directory is None:
            return None
        try:
            data = json.loads((self.directory / key / "index.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, list) else None

    def _lazy(self, key: str, entry: dict[str, Any], source: str) -> KindSchema:
        assert self.directory is not None
        path = self.directory / key / entry["file"]

        def load() -> tuple[dict[str, Any], list[Site]]:
            data = json.loads(path.read_text(encoding="utf-8"))
            return data["schema"], [Site.from_json(s) for s in data["sites"]]

        return KindSchema(entry["apiVersion"], entry["kind"], entry["namespaced"], source, _load=load)

    def _write(self, key: str, name: str, payload: Any) -> None:
        if self.directory is None:
            return
        with contextlib.suppress(OSError):
            _atomic_write(self.directory / key / name, json.dumps(payload, separators=(",", ":")))


def _convert_documents(data: bytes, source: str) -> Iterator[Any]:
    import yaml  # here: a build with its schemas converted already never reads YAML

    try:
        documents = list(yaml.load_all(data, Loader=yaml.CSafeLoader))
    except yaml.YAMLError as exc:
        raise SchemaLoadError(f"{source}: not valid YAML: {exc}") from None
    found = False
    for document in _flatten(documents):
        if not isinstance(document, dict) or document.get("kind") != "CustomResourceDefinition":
            continue
        found = True
        try:
            yield from convert_crd(document)
        except CrdError as exc:
            name = (document.get("metadata") or {}).get("name", "?")
            raise SchemaLoadError(f"{source}: CustomResourceDefinition {name}: {exc}") from None
    if not found:
        raise SchemaLoadError(f"{source}: no CustomResourceDefinition in this file")


def _flatten(documents: Iterable[Any]) -> Iterator[Any]:
    for document in documents:
        if isinstance(document, dict) and document.get("kind") == "List" and isinstance(document.get("items"), list):
            yield from document["items"]
        elif document is not None:
            yield document


def vendored_index() -> list[dict[str, Any]]:
    """compiler/schemas/index.json: which vendored CRD file serves which kind (a test keeps it true)."""
    data: list[dict[str, Any]] = json.loads(schemas_dir().joinpath(VENDORED_INDEX).read_text(encoding="utf-8"))
    return data


def _vendored_kinds(cache: _CrdCache) -> list[KindSchema]:
    """Lazily converted: a build that meets only ClusterServingRuntime never reads the
    2 MB InferenceService CRD."""
    kinds = []
    for entry in vendored_index():
        source = f"compiler/schemas/{entry['file']}"

        def load(entry: dict[str, Any] = entry, source: str = source) -> tuple[dict[str, Any], list[Site]]:
            resource = schemas_dir()
            for part in entry["file"].split("/"):
                resource = resource.joinpath(part)
            for version in cache.kinds(resource.read_bytes(), source):
                if (version.api_version, version.kind) == (entry["apiVersion"], entry["kind"]):
                    return version.schema, version.sites
            raise SchemaLoadError(f"{source} does not define {entry['kind']} {entry['apiVersion']}; see index.json")

        kinds.append(KindSchema(entry["apiVersion"], entry["kind"], entry["namespaced"], source, _load=load))
    return kinds


def _builtin_kinds() -> list[KindSchema]:
    base = builtin_dir()
    index = json.loads(base.joinpath("index.json").read_text(encoding="utf-8"))
    kinds = []
    for entry in index:
        resource = base.joinpath(entry["file"])

        def load(resource: Any = resource) -> tuple[dict[str, Any], None]:
            return json.loads(resource.read_text(encoding="utf-8")), None

        kinds.append(
            KindSchema(
                entry["apiVersion"],
                entry["kind"],
                entry["namespaced"],
                f"Kubernetes {KUBERNETES_VERSION}",
                _load=load,
            )
        )
    return kinds


def _user_files(location: Path) -> list[Path]:
    from compiler.validation.documents import MANIFEST_SUFFIXES

    if location.is_dir():
        return sorted(
            p for p in location.rglob("*") if p.is_file() and p.suffix in MANIFEST_SUFFIXES and not _hidden(p, location)
        )
    if location.is_file():
        return [location]
    raise SchemaLoadError(f"--schema-location {location}: no such file or folder")


def _hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)


class SchemaStore:
    """Every schema rtc knows, by (apiVersion, kind). User CRDs win over vendored ones."""

    def __init__(self, kinds: Iterable[KindSchema]) -> None:
        self._kinds: dict[tuple[str, str], KindSchema] = {}
        for kind in kinds:
            self._kinds.setdefault((kind.api_version, kind.kind), kind)

    @classmethod
    def load(cls, locations: Iterable[Path] = (), cache_dir: Path | None = None) -> SchemaStore:
        cache = _CrdCache(cache_dir)
        kinds: list[KindSchema] = []
        for location in locations:
            files = _user_files(location)
            if not files:
                raise SchemaLoadError(f"--schema-location {location}: no .yaml, .yml or .json files in this folder")
            for path in files:
                try:
                    data = path.read_bytes()
                except OSError as exc:
                    raise SchemaLoadError(f"{path}: cannot read: {exc.strerror}") from None
                if location.is_dir() and b"CustomResourceDefinition" not in data:
                    continue  # a folder may hold other manifests next to its CRDs
                kinds.extend(cache.kinds(data, str(path)))
        kinds.extend(_vendored_kinds(cache))
        kinds.extend(_builtin_kinds())
        return cls(kinds)

    def get(self, api_version: str, kind: str) -> KindSchema | None:
        return self._kinds.get((api_version, kind))

    def versions_of(self, kind: str) -> list[str]:
        return sorted(v for v, k in self._kinds if k == kind)

    def all(self) -> list[KindSchema]:
        return [self._kinds[key] for key in sorted(self._kinds)]
