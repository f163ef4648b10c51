"""`rtc validate` results as text, JSON, JUnit XML, SARIF 2.1.0 or GitHub annotations.

Each function returns the whole output as a string; the CLI prints it.
"""

from __future__ import annotations

import json
from typing import Any
from xml.etree import ElementTree

from compiler.ci_formats import github_data, github_property, sarif_log
from compiler.diagnostics import Diagnostic, Severity, SourceSpan
from compiler.validation.manifests import ERROR, INVALID_DOC, SKIPPED_DOC, VALID, DocumentResult, Finding, Report

FORMATS = ("text", "json", "junit", "sarif", "github")
_CODES = {
    "E301": "The document does not match its kind's schema (CRD or Kubernetes OpenAPI).",
    "E302": "Object metadata the API server would reject (name, namespace, labels, annotations).",
    "E303": "A repeated key in a list the schema declares as a map or set.",
    "E304": "A CEL rule (x-kubernetes-validations) of the CRD fails.",
    "E305": "No schema is known for this apiVersion and kind.",
    "E306": "The document cannot be read (YAML syntax, duplicate keys, encoding).",
    "E307": "The document is not a Kubernetes object (no apiVersion or kind).",
    "W301": "A CEL rule rtc cannot evaluate offline; it was not checked.",
}


def summary(report: Report) -> str:
    parts = [f"{report.count(s)} {s}" for s in (VALID, INVALID_DOC, ERROR, SKIPPED_DOC) if report.count(s)]
    documents = len(report.results)
    files = f"{report.files} file{'s' * (report.files != 1)}"
    return f"{documents} document{'s' * (documents != 1)} in {files}: {', '.join(parts) or 'nothing to check'}"


def _diagnostic(result: DocumentResult, finding: Finding) -> Diagnostic:
    violation = finding.violation
    return Diagnostic(
        Severity.WARNING if violation.warning else Severity.ERROR,
        violation.code,
        f"{violation.location}: {violation.message}" if violation.path else violation.message,
        span=SourceSpan(result.source, finding.line),
        object=result.label,
    )


def as_text(report: Report) -> str:
    lines = [_diagnostic(r, f).format() for r in report.results for f in r.findings]
    lines.append(f"rtc: {summary(report)}")
    return "\n".join(lines) + "\n"


def _result_json(result: DocumentResult) -> dict[str, Any]:
    return {
        "filename": result.source,
        "document": result.number,
        **({"item": result.item} if result.item is not None else {}),
        "line": result.line,
        "apiVersion": result.api_version,
        "kind": result.kind,
        "name": result.name,
        "namespace": result.namespace,
        "status": result.status,
        **({"reason": result.reason} if result.reason else {}),
        "findings": [
            {
                "code": f.violation.code,
                "severity": "warning" if f.warning else "error",
                "path": f.violation.location if f.violation.path else "",
                "line": f.line,
                "message": f.violation.message,
            }
            for f in result.findings
        ],
    }


def as_json(report: Report) -> str:
    payload = {
        "resources": [_result_json(r) for r in report.results],
        "summary": {
            "files": report.files,
            "documents": len(report.results),
            **{status: report.count(status) for status in (VALID, INVALID_DOC, ERROR, SKIPPED_DOC)},
        },
    }
    return json.dumps(payload, indent=2) + "\n"


def as_junit(report: Report) -> str:
    suites = ElementTree.Element("testsuites", name="rtc validate")
    by_file: dict[str, list[DocumentResult]] = {}
    for result in report.results:
        by_file.setdefault(result.source, []).append(result)
    for source, results in by_file.items():
        failures = sum(r.status == INVALID_DOC for r in results)
        errors = sum(r.status == ERROR for r in results)
        skipped = sum(r.status == SKIPPED_DOC for r in results)
        suite = ElementTree.SubElement(
            suites,
            "testsuite",
            name=source,
            tests=str(len(results)),
            failures=str(failures),
            errors=str(errors),
            skipped=str(skipped),
        )
        for result in results:
            case = ElementTree.SubElement(
                suite, "testcase", classname=source, name=f"{result.label} line {result.line}"
            )
            body = "\n".join(_diagnostic(result, f).format() for f in result.findings)
            if result.status == INVALID_DOC:
                ElementTree.SubElement(case, "failure", message=_first(result), type="invalid").text = body
            elif result.status == ERROR:
                ElementTree.SubElement(case, "error", message=_first(result), type="error").text = body
            elif result.status == SKIPPED_DOC:
                ElementTree.SubElement(case, "skipped", message=result.reason)
    ElementTree.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(suites, encoding="unicode") + "\n"


def _first(result: DocumentResult) -> str:
    errors = [f for f in result.findings if not f.warning] or result.findings
    return errors[0].violation.message if errors else result.status


def as_sarif(report: Report) -> str:
    results = []
    used: set[str] = set()
    for result in report.results:
        for finding in result.findings:
            violation = finding.violation
            used.add(violation.code)
            text = f"{violation.location}: {violation.message}" if violation.path else violation.message
            results.append(
                {
                    "ruleId": violation.code,
                    "level": "warning" if finding.warning else "error",
                    "message": {"text": f"{result.label}: {text}"},
                    "locations": [
                        {
                            "physicalLocation": {
                                "artifactLocation": {"uri": result.source},
                                "region": {"startLine": max(finding.line, 1)},
                            }
                        }
                    ],
                }
            )
    rules = [{"id": code, "shortDescription": {"text": _CODES[code]}} for code in sorted(used) if code in _CODES]
    return sarif_log(rules, results)


def as_github(report: Report) -> str:
    """GitHub Actions workflow commands: one annotation per finding."""
    lines = []
    for result in report.results:
        for finding in result.findings:
            violation = finding.violation
            level = "warning" if finding.warning else "error"
            text = f"{violation.location}: {violation.message}" if violation.path else violation.message
            properties = ",".join(
                (
                    f"file={github_property(result.source)}",
                    f"line={finding.line}",
                    f"title={github_property(f'rtc {violation.code} {result.label}')}",
                )
            )
            lines.append(f"::{level} {properties}::{github_data(text)}")
    lines.append(f"rtc: {summary(report)}")
    return "\n".join(lines) + "\n"


RENDERERS = {"text": as_text, "json": as_json, "junit": as_junit, "sarif": as_sarif, "github": as_github}
