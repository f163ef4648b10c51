"""Documents generated from the catalog, and the drift check that keeps them true.

A generator registers itself with `@generated_doc(name, path, summary)`; its
module is imported by compiler/cli/docs.py. `rtc docs` writes every registered
document (or the named ones), `rtc docs --check` exits 1 when one is missing
or out of date, so the docs cannot drift from the sources (make check runs it).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

from compiler.diagnostics import Diagnostic, has_errors
from compiler.project import Project

# (project, engine name or None) -> (the document's text, or None on errors; diagnostics)
Generator = Callable[[Project, str | None], tuple[str | None, list[Diagnostic]]]


@dataclass(frozen=True)
class GeneratedDoc:
    name: str
    path: str  # relative to the repository root
    summary: str
    generate: Generator


REGISTRY: dict[str, GeneratedDoc] = {}


def generated_doc(name: str, path: str, summary: str) -> Callable[[Generator], Generator]:
    def register(generate: Generator) -> Generator:
        REGISTRY[name] = GeneratedDoc(name, path, summary, generate)
        return generate

    return register


@dataclass
class DocResult:
    doc: GeneratedDoc
    status: str = "current"  # current | written | stale | missing | failed
    diagnostics: list[Diagnostic] = field(default_factory=list)


def update(
    project: Project, docs: list[GeneratedDoc], *, check: bool, engine_name: str | None = None
) -> list[DocResult]:
    """Generate each document; write it (or, with `check`, only compare it)."""
    results = []
    for doc in docs:
        result = DocResult(doc)
        text, result.diagnostics = doc.generate(project, engine_name)
        if text is None or has_errors(result.diagnostics):
            result.status = "failed"
            results.append(result)
            continue
        path = project.root / doc.path
        data = text.encode("utf-8")
        current = path.read_bytes() if path.is_file() else None
        if current == data:
            result.status = "current"
        elif check:
            result.status = "missing" if current is None else "stale"
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_name(f".{path.name}.rtc-tmp")
            temporary.write_bytes(data)
            os.replace(temporary, path)
            result.status = "written"
        results.append(result)
    return results
