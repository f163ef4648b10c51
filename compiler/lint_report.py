"""Lint output formats: text, json, sarif, github. Pure: diagnostics in, text out."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from compiler.ci_formats import github_data, github_property, sarif_log
from compiler.diagnostics import Diagnostic, Severity
from compiler.lint import DEFAULT_SEVERITY
from compiler.rules import RULES

FORMATS = ("text", "json", "sarif", "github")
_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


def ordered(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """File, line, column, then rule: the order a reader walks a file in."""

    def key(d: Diagnostic) -> tuple[str, int, int, str, str]:
        span = d.span
        return (span.file if span else "", span.line if span else 0, span.column if span else 0, d.code, d.message)

    return sorted(diagnostics, key=key)


def counts(diagnostics: list[Diagnostic]) -> dict[str, int]:
    return {
        "errors": sum(d.severity is Severity.ERROR for d in diagnostics),
        "warnings": sum(d.severity is Severity.WARNING for d in diagnostics),
        "info": sum(d.severity is Severity.INFO for d in diagnostics),
    }


def summary_line(diagnostics: list[Diagnostic]) -> str:
    c = counts(diagnostics)
    return (
        f"{c['errors']} error{'s' * (c['errors'] != 1)}, {c['warnings']} warning{'s' * (c['warnings'] != 1)}, "
        f"{c['info']} info"
    )


def text(diagnostics: list[Diagnostic]) -> str:
    """`file:line:col: severity: message (ID)`, then where the value came from."""
    lines = []
    for d in ordered(diagnostics):
        where = f"{d.span}: " if d.span else ""
        lines.append(f"{where}{d.severity.value}: {d.message} ({d.code})")
        if d.related:
            lines.append("  source: " + ", ".join(str(s) for s in d.related))
        if d.hint:
            lines.append(f"  hint: {d.hint}")
    return "".join(line + "\n" for line in lines)


def _record(d: Diagnostic) -> dict[str, Any]:
    return {
        "rule": d.code,
        "severity": d.severity.value,
        "message": d.message,
        "file": d.span.file if d.span else None,
        "line": d.span.line if d.span else None,
        "column": d.span.column if d.span else None,
        "target": d.target,
        "object": d.object,
        "path": d.path,
        "hint": d.hint,
        "sources": [str(s) for s in d.related],
    }


def as_json(diagnostics: list[Diagnostic]) -> str:
    document = {"findings": [_record(d) for d in ordered(diagnostics)], "summary": counts(diagnostics)}
    return json.dumps(document, indent=2, sort_keys=False) + "\n"


_SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def _location(span: Any) -> dict[str, Any]:
    region: dict[str, int] = {}
    if span.line:
        region["startLine"] = span.line
    if span.column:
        region["startColumn"] = span.column
    physical: dict[str, Any] = {"artifactLocation": {"uri": span.file, "uriBaseId": "%SRCROOT%"}}
    if region:
        physical["region"] = region
    return {"physicalLocation": physical}


def sarif(diagnostics: list[Diagnostic]) -> str:
    """SARIF 2.1.0, for GitHub code scanning and other viewers."""
    rule_ids = sorted(RULES)
    rules = [
        {
            "id": rule_id,
            "name": RULES[rule_id].check.__name__,
            "shortDescription": {"text": RULES[rule_id].summary},
            "fullDescription": {"text": RULES[rule_id].doc.split("\n\n", 1)[0].replace("\n", " ")},
            "help": {"text": RULES[rule_id].doc, "markdown": RULES[rule_id].doc},
            "defaultConfiguration": {"level": _SARIF_LEVEL[DEFAULT_SEVERITY[rule_id]]},
        }
        for rule_id in rule_ids
    ]
    results = []
    for d in ordered(diagnostics):
        message = d.message + (f" (hint: {d.hint})" if d.hint else "")
        result: dict[str, Any] = {"ruleId": d.code, "level": _SARIF_LEVEL[d.severity], "message": {"text": message}}
        if d.code in RULES:
            result["ruleIndex"] = rule_ids.index(d.code)
        if d.span:
            result["locations"] = [_location(d.span)]
        if d.related:
            result["relatedLocations"] = [
                {"id": index, **_location(span)} for index, span in enumerate(d.related, start=1)
            ]
        results.append(result)
    return sarif_log(rules, results)


_GITHUB_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def github(diagnostics: list[Diagnostic]) -> str:
    """GitHub Actions workflow commands: annotations on the pull request's files."""
    lines = []
    for d in ordered(diagnostics):
        properties = []
        if d.span:
            properties.append(f"file={github_property(d.span.file)}")
            if d.span.line:
                properties.append(f"line={d.span.line}")
            if d.span.column:
                properties.append(f"col={d.span.column}")
        properties.append(f"title={github_property(d.code)}")
        message = d.message + (f"\nhint: {d.hint}" if d.hint else "")
        lines.append(f"::{_GITHUB_LEVEL[d.severity]} {','.join(properties)}::{github_data(message)}")
    return "".join(line + "\n" for line in lines)


RENDERERS: dict[str, Callable[[list[Diagnostic]], str]] = {
    "text": text,
    "json": as_json,
    "sarif": sarif,
    "github": github,
}


def render(diagnostics: list[Diagnostic], output: str) -> str:
    return RENDERERS[output](diagnostics)
