"""YAML with positions: where each value of a document sits in its file.

Lint findings name a JSON path (`spec.containers[0].image`); this module turns
it into `line:col` in the emitted or user-written YAML. It composes the node
graph (PyYAML's C composer keeps start marks) and records, for every path, the
position of its key (mapping entries) or item (sequence entries), and for
literal block scalars where the text's first line starts, so a finding inside
a startup script can point at the script's own line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

# PyYAML is loaded where YAML is read: a build reads none unless lint has a finding to place.
if TYPE_CHECKING:
    import yaml

JsonPath = tuple[str | int, ...]


@dataclass(frozen=True)
class Position:
    """1-based line and column of a value; for a literal block scalar (`|`)
    also the line and indentation of the text's first line; for a folded one
    (`>`), where each line of its text starts in the file."""

    line: int
    column: int
    block_line: int = 0
    block_indent: int = 0
    # Folded scalars: per text line, the (line, column) of each source segment joined into it.
    folded: tuple[tuple[tuple[int, int, int], ...], ...] = ()
    # One-line plain or quoted scalars: where the text starts (after any quote); 0 if not one.
    text_line: int = 0
    text_column: int = 0


@dataclass
class Positions:
    """JSON path -> Position, for one document."""

    by_path: dict[JsonPath, Position] = field(default_factory=dict)

    def locate(self, path: JsonPath, text_offset: tuple[int, int] | None = None) -> tuple[int, int]:
        """The line and column of `path`, or of its deepest recorded ancestor.

        `text_offset` (0-based line, 1-based column inside a string value)
        lands on that line of a literal block scalar; other scalar styles fold
        or escape their text, so the value's own position is used for them.
        """
        probe = tuple(path)
        while probe and probe not in self.by_path:
            probe = probe[:-1]
        position = self.by_path.get(probe)
        if position is None:
            return (1, 1)
        if text_offset is not None and probe == tuple(path):
            line_in_text, column = text_offset
            if position.block_line:
                return (position.block_line + line_in_text, position.block_indent + column)
            if 0 <= line_in_text < len(position.folded) and position.folded[line_in_text]:
                return _in_segments(position.folded[line_in_text], column)
            if position.text_line and line_in_text == 0:
                return (position.text_line, position.text_column + column - 1)
        return (position.line, position.column)


class LazyPositions(Positions):
    """The positions of the first document of `text`, worked out on first use.

    Lint needs a position only to report a finding; parsing every emitted file
    up front cost rtc build more than evaluating, validating and emitting it."""

    def __init__(self, text: str) -> None:
        self._text: str | None = text
        self._by_path: dict[JsonPath, Position] = {}

    @property
    def by_path(self) -> dict[JsonPath, Position]:
        if self._text is not None:
            documents = load_documents(self._text)
            self._text = None
            if documents:
                self._by_path = documents[0].positions.by_path
        return self._by_path

    @by_path.setter
    def by_path(self, value: dict[JsonPath, Position]) -> None:
        self._text, self._by_path = None, value


def _in_segments(segments: tuple[tuple[int, int, int], ...], column: int) -> tuple[int, int]:
    """The file position of `column` (1-based) of a folded text line made of
    source segments (line, first column, length) joined by single spaces."""
    remaining = column
    for line, start, length in segments:
        if remaining <= length + 1 or (line, start, length) == segments[-1]:
            return (line, start + remaining - 1)
        remaining -= length + 1
    return (segments[0][0], segments[0][1])


@dataclass
class Document:
    data: Any
    positions: Positions
    # 1-based line where the document starts in its file.
    line: int = 1


class YamlError(Exception):
    """The text is not YAML; `line` and `column` are 1-based (0 if unknown)."""

    def __init__(self, message: str, line: int = 0, column: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


def load_documents(text: str) -> list[Document]:
    """Every non-empty document of a YAML stream, with positions."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    lines = text.splitlines()
    documents: list[Document] = []
    try:
        nodes = list(yaml.compose_all(text, Loader=loader))
        datas = list(yaml.load_all(text, Loader=loader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or str(exc)
        raise YamlError(problem, mark.line + 1 if mark else 0, mark.column + 1 if mark else 0) from None
    except yaml.YAMLError as exc:
        raise YamlError(str(exc)) from None
    for node, data in zip(nodes, datas, strict=True):
        if node is None or data is None:
            continue
        positions = Positions()
        _record(node, (), positions, lines)
        documents.append(Document(data=data, positions=positions, line=node.start_mark.line + 1))
    return documents


def _record(node: yaml.Node, path: JsonPath, positions: Positions, lines: list[str]) -> None:
    import yaml  # loaded by load_documents already: a dictionary lookup

    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
            child = (*path, key)
            positions.by_path[child] = _position(key_node, value_node, lines)
            _record(value_node, child, positions, lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            child = (*path, index)
            positions.by_path[child] = _position(item, item, lines)
            _record(item, child, positions, lines)


def _position(anchor: yaml.Node, value: yaml.Node, lines: list[str]) -> Position:
    import yaml

    line, column = anchor.start_mark.line + 1, anchor.start_mark.column + 1
    if isinstance(value, yaml.ScalarNode) and value.style == "|":
        block_line, indent = _block_start(value, lines)
        return Position(line, column, block_line, indent)
    if isinstance(value, yaml.ScalarNode) and value.style == ">":
        return Position(line, column, folded=_folded_lines(value, lines))
    if isinstance(value, yaml.ScalarNode) and value.start_mark.line == value.end_mark.line and "\n" not in value.value:
        quote = 1 if value.style in ("'", '"') else 0
        # Escapes (\" or '') would shift later columns; only unescaped text maps exactly.
        raw = lines[value.start_mark.line][value.start_mark.column : value.end_mark.column] if lines else ""
        if raw[quote : len(raw) - quote] == value.value:
            return Position(
                line, column, text_line=value.start_mark.line + 1, text_column=value.start_mark.column + 1 + quote
            )
    return Position(line, column)


def _folded_lines(node: yaml.ScalarNode, lines: list[str]) -> tuple[tuple[tuple[int, int, int], ...], ...]:
    """For each line of a folded scalar's text, the source segments it is made
    of. Folding joins adjacent non-empty lines with a space; each empty source
    line becomes a line break; more-indented lines keep their breaks."""
    source = lines[node.start_mark.line + 1 : node.end_mark.line + 1]
    content = [ln for ln in source if ln.strip()]
    if not content:
        return ()
    indent = len(content[0]) - len(content[0].lstrip(" "))
    text_lines = node.value.split("\n")
    result: list[tuple[tuple[int, int, int], ...]] = []
    cursor = 0
    for text_line in text_lines:
        segments: list[tuple[int, int, int]] = []
        remaining = text_line
        while remaining and cursor < len(source):
            raw = source[cursor]
            body = raw[indent:] if len(raw) >= indent else raw.strip()
            if not raw.strip():
                cursor += 1
                continue
            if not remaining.startswith(body):
                break
            segments.append((node.start_mark.line + 2 + cursor, indent + 1, len(body)))
            remaining = remaining[len(body) :].lstrip(" ")
            cursor += 1
        if not text_line and cursor < len(source) and not source[cursor].strip():
            cursor += 1
        result.append(tuple(segments))
    return tuple(result)


def _block_start(node: yaml.ScalarNode, lines: list[str]) -> tuple[int, int]:
    """The 1-based line of a literal block's first text line (the line after
    the `|` indicator) and the block's indentation."""
    first = node.start_mark.line + 2
    for index in range(node.start_mark.line + 1, min(node.end_mark.line + 1, len(lines))):
        content = lines[index]
        if content.strip():
            return first, len(content) - len(content.lstrip(" "))
    return first, node.start_mark.column


def render_path(path: JsonPath) -> str:
    """`spec.containers[0].image`, the way messages and JSON output name a path."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif out:
            out += f".{part}" if _plain_key(part) else f"[{part!r}]"
        else:
            out = part if _plain_key(part) else f"[{part!r}]"
    return out


def _plain_key(key: str) -> bool:
    return bool(key) and all(ch.isalnum() or ch in "_-" for ch in key)
