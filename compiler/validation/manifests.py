"""`rtc validate`'s stage: sources -> one result per document (or `kind: List` item)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from compiler.validation.documents import Document, Source, parse_stream
from compiler.validation.validator import INVALID, MISSING_SCHEMA, SKIPPED, Validator
from compiler.validation.violations import Violation

# Statuses of a document, as every output format reports them.
VALID, INVALID_DOC, ERROR, SKIPPED_DOC = "valid", "invalid", "error", "skipped"


@dataclass(frozen=True)
class Finding:
    violation: Violation
    line: int

    @property
    def warning(self) -> bool:
        return self.violation.warning


@dataclass
class DocumentResult:
    source: str
    number: int
    line: int
    status: str
    item: int | None = None
    api_version: str = ""
    kind: str = ""
    name: str = ""
    namespace: str = ""
    findings: list[Finding] = field(default_factory=list)
    reason: str = ""  # why it was skipped

    @property
    def label(self) -> str:
        where = f"document {self.number}" + ("" if self.item is None else f", items[{self.item}]")
        if self.kind:
            return f"{self.kind}/{self.name or '?'} ({where})"
        return where


@dataclass
class Report:
    results: list[DocumentResult] = field(default_factory=list)
    files: int = 0

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.results)

    @property
    def ok(self) -> bool:
        return not any(r.status in (INVALID_DOC, ERROR) for r in self.results)


def validate_document(document: Document, validator: Validator, skip_file: bool) -> DocumentResult:
    result = DocumentResult(document.source, document.number, document.line, VALID, item=document.item)
    if document.data is None:
        result.status = ERROR
        result.findings = [Finding(p, document.line) for p in document.problems]
        return result
    data = document.data
    if isinstance(data, dict):
        for attribute, key in (("api_version", "apiVersion"), ("kind", "kind")):
            if isinstance(data.get(key), str):
                setattr(result, attribute, data[key])
        metadata = data.get("metadata")
        if isinstance(metadata, dict):
            result.name = str(metadata.get("name") or "")
            result.namespace = str(metadata.get("namespace") or "")
    if skip_file or document.skip:
        result.status, result.reason = SKIPPED_DOC, document.skip or "kustomization file"
        return result
    verdict = validator.validate(data)
    violations = [*document.problems, *verdict.violations]
    result.findings = [Finding(v, document.line_of(v.path)) for v in violations]
    if verdict.status == MISSING_SCHEMA:
        result.status = ERROR
    elif verdict.status == SKIPPED:
        result.status, result.reason = SKIPPED_DOC, f"no schema for {result.kind} {result.api_version}"
    elif verdict.status == INVALID or any(not f.warning for f in result.findings):
        result.status = INVALID_DOC
    return result


def validate_sources(sources: Iterable[Source], validator: Validator, read: Callable[[Source], str | bytes]) -> Report:
    """`read` returns a source's text (the CLI owns stdin); bytes that are not UTF-8 are an error."""
    report = Report()
    for source in sources:
        report.files += 1
        raw = read(source)
        try:
            text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        except UnicodeDecodeError as exc:
            problem = Violation("E306", (), f"not UTF-8 text (byte {exc.start}); manifests are UTF-8")
            report.results.append(DocumentResult(source.name, 1, 1, ERROR, findings=[Finding(problem, 1)]))
            continue
        for document in parse_stream(text, source.name):
            report.results.append(validate_document(document, validator, source.is_kustomization))
    return report
