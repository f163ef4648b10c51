"""Jsonnet evaluation: hermetic imports, import sets, engine errors as diagnostics."""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compiler.diagnostics import Diagnostic, SourceSpan, error
from compiler.engines import Engine, EngineError
from compiler.project import Project

MAX_STACK = 500
LIBRARY_PREFIX = "catalog/lib/"

# A place in an engine trace: "file:12:5", "file:(12:5)-(13:1)", "file:12:5-9".
_LOCATION = re.compile(r"(?P<file>[A-Za-z0-9_./@+-]+\.[A-Za-z0-9]+):\(?(?P<line>\d+):(?P<col>\d+)")
_ENGINE_PREFIXES = (
    ("RUNTIME ERROR: ", ""),
    ("runtime error: ", ""),
    ("syntax error: ", "syntax error: "),
    ("STATIC ERROR: ", ""),
)


class ImportRefused(Exception):
    """An import the hermetic rules do not allow, or that does not exist."""


class UnreadableSource(ImportRefused):
    """A file rtc may read but cannot decode; `span` is where decoding fails."""

    def __init__(self, message: str, span: SourceSpan) -> None:
        super().__init__(message)
        self.span = span


_JSONNET_SUFFIXES = (".jsonnet", ".libsonnet")


@dataclass
class HermeticImporter:
    """Resolves imports only inside the project's source folders.

    Paths handed to the engine are repository-relative, so traces and the
    recorded import set do not depend on the working directory. Every file
    read is recorded with a content hash: the target's import closure. The
    candidates tried before a match that did not exist are recorded too: a
    file created there later would change what the import resolves to.
    """

    project: Project
    files: dict[str, str] = field(default_factory=dict)
    absent: set[str] = field(default_factory=set)
    texts: dict[str, str] = field(default_factory=dict)
    refused: list[tuple[str, str, str]] = field(default_factory=list)
    # Set when the first refusal is a file that does not decode.
    unreadable: UnreadableSource | None = None

    def __post_init__(self) -> None:
        self._root = str(self.project.root)
        self._real_root = os.path.realpath(self._root)
        self._allowed = tuple(d.rstrip("/") + "/" for d in self.project.source_dirs)
        # Folder -> the folder with its links resolved: a target imports ~100 files
        # from a dozen folders, and resolving each path anew was a third of the imports' cost.
        self._real_dirs: dict[str, str] = {}
        self._resolved: dict[tuple[str, str], tuple[str, str]] = {}

    def _real(self, full: str) -> str:
        """`full` with every symbolic link resolved (os.path.realpath, folders remembered)."""
        directory, name = os.path.split(full)
        real_dir = self._real_dirs.get(directory)
        if real_dir is None:
            real_dir = self._real_dirs[directory] = os.path.realpath(directory)
        real = os.path.join(real_dir, name)
        return os.path.realpath(full) if os.path.islink(real) else real

    def _inside_sources(self, rel_path: str) -> bool:
        return rel_path.startswith(self._allowed)

    def _candidates(self, base: str, rel: str) -> list[str]:
        bases = [base, ".", *self.project.library_paths]
        seen: list[str] = []
        for b in bases:
            candidate = os.path.normpath(os.path.join(b, rel))
            if candidate not in seen:
                seen.append(candidate)
        return seen

    def __call__(self, base: str, rel: str) -> tuple[str, str]:
        # jrsonnet asks again for every import expression (125 calls for 25 files in a
        # fleet cluster); within one evaluation the answer cannot change.
        found = self._resolved.get((base, rel))
        if found is not None:
            return found
        try:
            found = self._resolved[(base, rel)] = self._resolve(base, rel)
            return found
        except ImportRefused as exc:
            if not self.refused and isinstance(exc, UnreadableSource):
                self.unreadable = exc
            self.refused.append((base, rel, str(exc)))
            raise

    def _resolve(self, base: str, rel: str) -> tuple[str, str]:
        if not rel:
            raise ImportRefused("empty import path")
        if "\x00" in rel:
            raise ImportRefused(f"import path {rel!r} contains a NUL byte")
        if os.path.isabs(rel):
            raise ImportRefused(
                f"import {rel!r} is an absolute path; imports must be relative and stay inside "
                f"{', '.join(self.project.source_dirs)}"
            )
        # A path that climbs out of the repository is refused outright, even if
        # a library path would also match: silently picking another file hides the escape.
        lexical = os.path.normpath(os.path.join(base, rel))
        if lexical == ".." or lexical.startswith("../"):
            raise ImportRefused(f"import {rel!r} leaves the repository")
        for candidate in self._candidates(base, rel):
            if candidate.startswith("../") or candidate == "..":
                continue
            full = os.path.join(self._root, candidate)
            if not os.path.isfile(full):
                self.absent.add(candidate)
                continue
            if not self._inside_sources(candidate):
                raise ImportRefused(
                    f"import {rel!r} resolves to {candidate}, outside the source folders "
                    f"({', '.join(self.project.source_dirs)})"
                )
            real = self._real(full)
            real_rel = real[len(self._real_root) + 1 :] if real.startswith(self._real_root + os.sep) else ".."
            if real_rel.startswith("..") or not self._inside_sources(real_rel.replace(os.sep, "/")):
                raise ImportRefused(f"import {rel!r} is a symbolic link to {real}, outside the source folders")
            text = self.texts.get(candidate)
            return candidate, text if text is not None else self._read(candidate, full)
        raise ImportRefused(f"import {rel!r} not found (looked in: {', '.join(self._candidates(base, rel))})")

    def _read(self, rel_path: str, full: str) -> str:
        with open(full, "rb") as f:
            data = f.read()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
            guess = " (it looks like UTF-16)" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else ""
            raise UnreadableSource(
                f"not UTF-8: byte 0x{data[exc.start]:02x} cannot be decoded{guess}; save the file as UTF-8",
                SourceSpan(rel_path, line, column),
            ) from None
        if text.startswith("\ufeff") and rel_path.endswith(_JSONNET_SUFFIXES):
            raise UnreadableSource(
                "starts with a byte order mark, which Jsonnet cannot read; save the file as UTF-8 without BOM",
                SourceSpan(rel_path, 1, 1),
            )
        self.files[rel_path] = hashlib.sha256(data).hexdigest()
        self.texts[rel_path] = text
        return text

    def locate_refusal(self, trace_files: tuple[str, ...] = ()) -> SourceSpan | None:
        """Where the first refused import is written, found in the files already
        read (jrsonnet's error does not say). Files the engine's trace names are
        searched first; imports inside comments do not count."""
        if not self.refused:
            return None
        base, rel, _ = self.refused[0]
        pattern = re.compile(r"\bimport(?:str|bin)?\s*@?(['\"])" + re.escape(rel) + r"\1")
        base_dir = os.path.normpath(base)
        candidates = [p for p in self.texts if os.path.normpath(os.path.dirname(p) or ".") == base_dir]
        candidates.sort(key=lambda p: trace_files.index(p) if p in trace_files else len(trace_files))
        for path in candidates:
            text = self.texts[path]
            match = pattern.search(_mask_comments(text))
            if match:
                line = text.count("\n", 0, match.start()) + 1
                column = match.start() - (text.rfind("\n", 0, match.start()) + 1) + 1
                return SourceSpan(path, line, column)
        return None


def _mask_comments(text: str) -> str:
    """`text` with Jsonnet comments blanked out (same length, newlines kept)."""
    out = list(text)
    i, n = 0, len(text)
    quote: str | None = None
    while i < n:
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 2
                continue
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "#" or text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
            out[i:end] = " " * (end - i)
            i = end
            continue
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            out[i:end] = ["\n" if c == "\n" else " " for c in text[i:end]]
            i = end
            continue
        i += 1
    return "".join(out)


@dataclass
class EvalResult:
    entry: str
    data: Any = None
    imports: dict[str, str] = field(default_factory=dict)
    # Import candidates that did not exist (see HermeticImporter.absent).
    absent: list[str] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.data is not None and not self.diagnostics


def parse_engine_error(text: str) -> tuple[str, list[SourceSpan]]:
    """The message and the trace's locations (innermost first) of an engine error."""
    lines = [line for line in text.splitlines() if line.strip()]
    first = lines[0] if lines else text
    message = first
    for prefix, replacement in _ENGINE_PREFIXES:
        if message.startswith(prefix):
            message = replacement + message[len(prefix) :]
            break
    message = re.sub(r"^importer error: ", "", message)
    message = re.sub(r"^import_callback error: \w+: ", "", message)
    spans: list[SourceSpan] = []
    head_location = _LOCATION.match(message)
    if head_location:
        # go-jsonnet puts a static error's location first: "file:3:3-4 Expected ..."
        spans.append(_span(head_location))
        message = "syntax error: " + message[head_location.end() :].split(" ", 1)[-1].strip()
    for line in lines[1:]:
        match = _LOCATION.search(line)
        if match and not match.group("file").startswith("<"):
            spans.append(_span(match))
    return message.strip(), spans


def _span(match: re.Match[str]) -> SourceSpan:
    return SourceSpan(match.group("file"), int(match.group("line")), int(match.group("col")))


def primary_span(spans: list[SourceSpan]) -> SourceSpan | None:
    """The innermost place outside the rtc library: where the user's own code
    called into it. A library-only trace keeps its innermost place."""
    for span in spans:
        if not span.file.startswith(LIBRARY_PREFIX):
            return span
    return spans[0] if spans else None


def evaluate_entry(
    project: Project, entry: str, engine: Engine, *, target: str | None = None, snippet: str | None = None
) -> EvalResult:
    """Evaluate one entry file (repository-relative) and parse its JSON.

    With `snippet`, evaluate that code instead, as if written in `entry`'s
    folder (used to read hidden fields such as a cluster's stages)."""
    importer = HermeticImporter(project)
    result = EvalResult(entry=entry)
    try:
        if snippet is None:
            text = engine.evaluate_file(entry, import_callback=importer, max_stack=project.limits.max_stack)
        else:
            text = engine.evaluate_snippet(entry, snippet, import_callback=importer, max_stack=project.limits.max_stack)
    except (EngineError, ImportRefused) as exc:
        result.imports = importer.files
        result.diagnostics.append(_engine_diagnostic(str(exc), importer, entry, target, project.limits.max_stack))
        return result
    result.imports = importer.files
    result.absent = sorted(importer.absent)
    try:
        result.data = json.loads(text)
    except json.JSONDecodeError as exc:  # an engine bug, not a user error; still say where
        result.diagnostics.append(error("E103", f"engine produced invalid JSON: {exc}", target=target))
    return result


_OWNER_NAMES = (
    (re.compile(r'\bruntime "(?P<name>[^"/]+)"'), "catalog/{name}/main.libsonnet"),
    (re.compile(r'\bhardware "(?P<name>[^"/]+)"'), "hardware/{name}.libsonnet"),
)


_MISSING_FIELD = re.compile(r"^(?:no such field|Field does not exist): (?P<field>[A-Za-z_][A-Za-z0-9_]*)$")
_TOP_LEVEL_FUNCTION = re.compile(r"during TLA call|Top-level function call")


def _owner_file(message: str, importer: HermeticImporter, entry: str) -> SourceSpan | None:
    """Where, outside the rtc library, an error raised inside it comes from:
    the runtime, hardware or overlay file it names, or the use of a missing field."""
    for pattern, template in _OWNER_NAMES:
        match = pattern.search(message)
        if match and template.format(name=match.group("name")) in importer.files:
            return SourceSpan(template.format(name=match.group("name")))
    if re.search(r"\bcluster\b", message):
        return SourceSpan(entry)
    missing = _MISSING_FIELD.match(message)
    if missing:
        use = re.compile(r"\.\s*" + re.escape(missing.group("field")) + r"\b")
        for path, text in importer.texts.items():
            if path.startswith(LIBRARY_PREFIX):
                continue
            match = use.search(_mask_comments(text))
            if match:
                line = text.count("\n", 0, match.start()) + 1
                return SourceSpan(path, line, match.start() - (text.rfind("\n", 0, match.start()) + 1) + 2)
    return None


_STACK_OVERFLOW = re.compile(r"stack overflow|max stack frames exceeded", re.IGNORECASE)


def _engine_diagnostic(
    text: str, importer: HermeticImporter, entry: str, target: str | None, max_stack: int
) -> Diagnostic:
    message, spans = parse_engine_error(text)
    if importer.unreadable is not None:
        return error("E115", str(importer.unreadable), span=importer.unreadable.span, target=target)
    if importer.refused:
        _, _, reason = importer.refused[0]
        span = importer.locate_refusal(tuple(s.file for s in spans)) or SourceSpan(entry)
        return error("E104", f"import refused: {reason}", span=span, target=target)
    code = "E101" if message.startswith("syntax error") else "E102"
    hint = None
    missing = _NO_SUCH_FIELD.match(message)
    if missing and not spans:
        # jrsonnet names no place for a missing field (and std.trim, std.isNull, ... are
        # missing fields of std there): find where the source asks for it.
        spans, hint = _locate_std_field(missing.group(1), importer.texts)
    # A syntax error is where the parser stopped, even inside the library.
    span = (spans[0] if code == "E101" and spans else primary_span(spans)) or SourceSpan(entry)
    related = tuple(dict.fromkeys(s for s in spans if s != span))[:4]
    if _TOP_LEVEL_FUNCTION.search(text):
        return error(
            "E102",
            f"{entry} evaluates to a function; an overlay must evaluate to rtc.cluster {{ ... }}",
            span=SourceSpan(entry),
            target=target,
            hint="rtc passes no arguments to an overlay: turn the function's parameters into locals",
        )
    if code == "E102" and (span.file.startswith(LIBRARY_PREFIX) or not spans):
        # Only the rtc library is in the trace (a required field left out, a
        # wrong type passed in): point at the user's file the message is about.
        owner = _owner_file(message, importer, entry)
        if isinstance(owner, SourceSpan):
            span, related = owner, ((span, *related) if spans else related)[:4]
        elif span.file != entry and entry not in {s.file for s in related}:
            related = (*related[:3], SourceSpan(entry))
    if _STACK_OVERFLOW.search(message):
        return error(
            "E112",
            f"Jsonnet calls nested deeper than {max_stack} (limits.max-stack)",
            span=span,
            target=target,
            related=related[:1],
            hint="a function or field probably refers to itself without end: give the recursion a base case; "
            "if the depth is intended, raise limits.max-stack in rtc.toml",
        )
    return error(code, message, span=span, target=target, related=related, hint=hint)


_NO_SUCH_FIELD = re.compile(r"no such field: (\w+)")


def _locate_std_field(name: str, texts: dict[str, str]) -> tuple[list[SourceSpan], str | None]:
    """Where `std.<name>` is written in the files read (user files first), at the name."""
    pattern = re.compile(r"\bstd\s*\.\s*(" + re.escape(name) + r")\b")
    found = [
        SourceSpan(path, number, match.start(1) + 1)
        for path, text in texts.items()
        for number, line in enumerate(text.splitlines(), start=1)
        if not line.lstrip().startswith("//")
        for match in [pattern.search(line)]
        if match
    ]
    if not found:
        return [], None
    found.sort(key=lambda s: (s.file.startswith(LIBRARY_PREFIX), s.file, s.line))
    hint = (
        f"the rjsonnet engine (jrsonnet) has no std.{name}: write it without, or, "
        "if go-jsonnet has it, build with --engine gojsonnet"
    )
    return found, hint


def read_source_text(project: Project, rel_path: str) -> str | None:
    path = Path(project.root, rel_path)
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
