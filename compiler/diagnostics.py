"""Diagnostics: what every stage returns instead of printing or raising."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, order=True)
class SourceSpan:
    """A place in a file; line and column are 1-based, 0 when unknown."""

    file: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line and self.column:
            return f"{self.file}:{self.line}:{self.column}"
        if self.line:
            return f"{self.file}:{self.line}"
        return self.file


@dataclass(frozen=True)
class Diagnostic:
    """One finding. `code` is stable (RTC### for lint, E### for compiler errors)."""

    severity: Severity
    code: str
    message: str
    span: SourceSpan | None = None
    target: str | None = None
    object: str | None = None
    path: str | None = None
    hint: str | None = None
    # Other places that explain the finding (e.g. the layer files of an object).
    related: tuple[SourceSpan, ...] = field(default=())

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def format(self) -> str:
        """`file:line:col: severity: message [code]` plus context lines."""
        where = f"{self.span}: " if self.span else ""
        context = []
        if self.target:
            context.append(f"target {self.target}")
        if self.object:
            context.append(self.object)
        if self.path:
            context.append(f"at {self.path}")
        head = f"{where}{self.severity.value}: {self.message} [{self.code}]"
        lines = [head]
        if context:
            lines.append("  in " + ", ".join(context))
        lines.extend(f"  see {span}" for span in self.related)
        if self.hint:
            lines.append(f"  hint: {self.hint}")
        return "\n".join(lines)


def has_errors(diagnostics: list[Diagnostic]) -> bool:
    return any(d.is_error for d in diagnostics)


def error(code: str, message: str, **kwargs: object) -> Diagnostic:
    return Diagnostic(Severity.ERROR, code, message, **kwargs)  # type: ignore[arg-type]
