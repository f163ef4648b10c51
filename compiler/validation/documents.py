"""Manifests as `rtc validate` reads them: files, folders, stdin; many documents per stream.

Each document keeps its YAML node tree, so a finding's JSON path can be turned
back into the line the user wrote. YAML is read the way the API server's
decoder (sigs.k8s.io/yaml) reads it: plain timestamps stay strings, keys
become strings, and a key written twice in one mapping is an error (kubectl
and `kubeconform -strict` reject it; PyYAML alone would keep the last one).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from compiler.validation.violations import Violation

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
KUSTOMIZE_GROUP = "kustomize.config.k8s.io/"
STDIN = "-"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_STR_TAG = "tag:yaml.org,2002:str"
_MAX_DEPTH = 200


class _Loader(yaml.CSafeLoader):
    """libyaml's parser; plain scalars that look like dates stay strings."""


_Loader.yaml_implicit_resolvers = {
    first: [r for r in resolvers if r[0] != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.CSafeLoader.yaml_implicit_resolvers.items()
}


@dataclass
class Document:
    source: str  # a path as the user gave it, or "<stdin>"
    number: int  # 1-based position in its stream
    line: int  # 1-based line where the document starts
    data: Any = None
    node: Any = None
    item: int | None = None  # index in a `kind: List`
    problems: list[Violation] = field(default_factory=list)
    skip: str = ""  # why this document is not validated (e.g. a kustomization)

    @property
    def label(self) -> str:
        where = f"document {self.number}"
        return where if self.item is None else f"{where}, items[{self.item}]"

    def line_of(self, path: tuple[str | int, ...]) -> int:
        """The line of the deepest node on `path` (the field itself when it exists)."""
        node, line = self.node, self.line
        for part in path:
            if isinstance(node, yaml.MappingNode):
                # The last occurrence: it is the one the data holds (and the duplicate to point at).
                matches = [(k, v) for k, v in node.value if _key_text(k) == str(part)]
                match = matches[-1] if matches else None
                if match is None:
                    return line
                line, node = match[0].start_mark.line + 1, match[1]
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
                node = node.value[part]
                line = node.start_mark.line + 1
            else:
                return line
        return line


def _key_text(node: Any) -> str:
    return str(node.value) if isinstance(node, yaml.ScalarNode) else ""


class _Builder:
    """Node tree -> plain data, noting duplicate keys on the way."""

    def __init__(self, loader: Any) -> None:
        self.loader = loader
        self.problems: list[Violation] = []

    def build(self, node: Any, path: tuple[str | int, ...] = (), depth: int = 0) -> Any:
        if depth > _MAX_DEPTH:
            raise ValueError(f"nesting deeper than {_MAX_DEPTH} levels (a recursive alias?)")
        kind = type(node)
        if kind is yaml.ScalarNode:
            return node.value if node.tag == _STR_TAG else self._scalar(node)
        if kind is yaml.SequenceNode:
            return [self.build(item, (*path, index), depth + 1) for index, item in enumerate(node.value)]
        if kind is not yaml.MappingNode:
            return self._scalar(node)
        if any(key_node.tag == _MERGE_TAG for key_node, _ in node.value):
            self._duplicates(node, path)
            self.loader.flatten_mapping(node)  # merged keys may be overridden: not duplicates
            pairs = [(self._key(k), v) for k, v in node.value]
        else:
            pairs = [(self._key(k), v) for k, v in node.value]
            if len({key for key, _ in pairs}) != len(pairs):
                self._duplicates(node, path)
        return {key: self.build(value, (*path, key), depth + 1) for key, value in pairs}

    def _key(self, node: Any) -> str:
        if node.tag == _STR_TAG:
            return str(node.value)
        value = self._scalar(node) if isinstance(node, yaml.ScalarNode) else node.value
        if isinstance(value, bool):
            return "true" if value else "false"
        return "null" if value is None else str(value)

    def _scalar(self, node: Any) -> Any:
        constructor = self.loader.yaml_constructors.get(node.tag)
        if constructor is None or node.tag in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:binary"):
            return str(node.value)
        return constructor(self.loader, node)

    def _duplicates(self, node: Any, path: tuple[str | int, ...]) -> None:
        seen: dict[str, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG or not isinstance(key_node, yaml.ScalarNode):
                continue
            key = self._key(key_node)
            line = key_node.start_mark.line + 1
            if key in seen:
                self.problems.append(
                    Violation(
                        "E306",
                        (*path, key),
                        f"key {key!r} appears twice in one mapping (first on line {seen[key]}); "
                        "the API server rejects duplicate fields",
                    )
                )
            else:
                seen[key] = line


def parse_stream(text: str, source: str) -> Iterator[Document]:
    """Every document of a YAML (or JSON) stream; a syntax error ends the stream with a problem."""
    loader = _Loader(text)
    number = 0
    try:
        while loader.check_node():
            number += 1
            node = loader.get_node()
            if node is None:
                continue
            yield from _documents(loader, node, source, number)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        message = f"not valid YAML: {exc.problem or exc}" + (f" ({exc.context})" if exc.context else "")
        yield Document(source, number or 1, line, problems=[Violation("E306", (), message)])
    except yaml.YAMLError as exc:
        yield Document(source, number or 1, 1, problems=[Violation("E306", (), f"not valid YAML: {exc}")])
    finally:
        loader.dispose()


def _documents(loader: Any, node: Any, source: str, number: int) -> Iterator[Document]:
    line = node.start_mark.line + 1
    builder = _Builder(loader)
    try:
        data = builder.build(node)
    except (ValueError, yaml.YAMLError) as exc:
        yield Document(source, number, line, problems=[Violation("E306", (), f"cannot read this document: {exc}")])
        return
    if data is None:
        return
    document = Document(source, number, line, data, node, problems=builder.problems)
    items_node = _list_items(node, data)
    if items_node is None:
        document.skip = _skip_reason(data)
        yield document
        return
    for index, item_node in enumerate(items_node.value):
        prefix = ("items", index)
        problems = [
            Violation(p.code, p.path[2:], p.message, p.warning) for p in document.problems if p.path[:2] == prefix
        ]
        item = Document(
            source,
            number,
            item_node.start_mark.line + 1,
            data["items"][index],
            item_node,
            item=index,
            problems=problems,
        )
        item.skip = _skip_reason(item.data)
        yield item


def _list_items(node: Any, data: Any) -> Any:
    """The items node of a `kind: List` (v1 List or any *List kind with items), else None."""
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        return None
    kind = data.get("kind")
    if not isinstance(kind, str) or not kind.endswith("List"):
        return None
    for key_node, value_node in node.value:
        if _key_text(key_node) == "items" and isinstance(value_node, yaml.SequenceNode):
            return value_node
    return None


def _skip_reason(data: Any) -> str:
    if isinstance(data, dict):
        api_version = data.get("apiVersion")
        if isinstance(api_version, str) and api_version.startswith(KUSTOMIZE_GROUP):
            return "kustomize configuration, not a Kubernetes object"
    return ""


@dataclass(frozen=True)
class Source:
    path: Path | None  # None for stdin
    name: str

    @property
    def is_kustomization(self) -> bool:
        return self.path is not None and self.path.name in KUSTOMIZATION_FILES


def collect(arguments: list[str]) -> tuple[list[Source], list[str]]:
    """The files to read, and the arguments that name nothing (usage errors)."""
    sources: list[Source] = []
    missing: list[str] = []
    for argument in arguments:
        if argument == STDIN:
            sources.append(Source(None, "<stdin>"))
            continue
        path = Path(argument)
        if path.is_dir():
            for found in sorted(path.rglob("*")):
                relative = found.relative_to(path).parts
                if any(part.startswith(".") for part in relative):
                    continue  # .git, editor droppings
                if found.is_file() and (found.suffix in MANIFEST_SUFFIXES or found.name in KUSTOMIZATION_FILES):
                    sources.append(Source(found, str(found)))
        elif path.is_file():
            sources.append(Source(path, str(path)))
        else:
            missing.append(argument)
    return sources, missing
