"""Every rule's pass and fail cases, from tests/rules/RTC###.yaml.

A fixture file:

    rule: RTC201
    cases:
    - name: a pinned tag passes
      objects: [<manifest>, ...]      # or {manifest:, requirements:, suppressions:,
                                      #     hardware:, resourceKey:, scriptFiles:}
      platform: alauda                # optional (default alauda)
      cluster: demo                   # optional
      allowedRegistries: [...]        # optional
      options: {min-startup-seconds: 600}   # optional [lint] settings
      alsoRun: [RTC602]               # optional: other rules to run (their findings are not compared)
      expect: []                      # or [{path:, message:, object:?, file:?, line:?}]

Only the case's rule (and alsoRun) runs; messages are compared word for word.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from compiler.diagnostics import Diagnostic, Severity
from compiler.lint import LintConfig, lint
from compiler.rules import RULES
from compiler.rules.profiles import profile_for
from compiler.rules.registry import RUNTIME_KINDS, LintContext, LintOptions, Subject
from compiler.yamlpos import load_documents

FIXTURES = Path(__file__).parent / "rules"
_OPTION_NAMES = {
    "min-startup-seconds": "min_startup_seconds",
    "moving-tags": "moving_tags",
    "llm-formats": "llm_formats",
    "shellcheck-exclude": "shellcheck_exclude",
}


def _fixture_files() -> list[Path]:
    return sorted(FIXTURES.glob("RTC*.yaml"))


def _cases() -> list[Any]:
    params = []
    for path in _fixture_files():
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for index, case in enumerate(data["cases"]):
            params.append(pytest.param(data["rule"], case, id=f"{data['rule']}-{index}-{case['name']}"))
    return params


def _subject(item: dict[str, Any], index: int) -> Subject:
    wrapped = "manifest" in item
    body = item["manifest"] if wrapped else item
    text = yaml.safe_dump(body, sort_keys=False)
    positions = load_documents(text)[0].positions
    extra = item if wrapped else {}
    return Subject(
        body=body,
        file=f"case/{index}.yaml",
        positions=positions,
        runtime=extra.get("runtime"),
        hardware=extra.get("hardware"),
        suppressions=extra.get("suppressions", {}),
        requirements=extra.get("requirements", {}),
        resource_key=extra.get("resourceKey"),
        script_files=extra.get("scriptFiles", {}),
    )


def case_options(case: dict[str, Any]) -> LintOptions:
    settings: dict[str, Any] = {
        _OPTION_NAMES[k]: tuple(v) if isinstance(v, list) else v for k, v in (case.get("options") or {}).items()
    }
    return LintOptions(**settings)


def case_context(case: dict[str, Any], subjects: list[Subject], options: LintOptions) -> LintContext:
    """The lint context a fixture case describes (platform, cluster, registries), with `options`."""
    registries = case.get("allowedRegistries")
    return LintContext(
        profile=profile_for(case.get("platform", "alauda")),
        options=options,
        cluster=case.get("cluster"),
        allowed_registries=tuple(registries) if registries is not None else None,
        runtimes=[s for s in subjects if s.kind in RUNTIME_KINDS],
    )


def run_case(rule_id: str, case: dict[str, Any]) -> list[Diagnostic]:
    subjects = [_subject(item, index) for index, item in enumerate(case["objects"])]
    running = {rule_id, *case.get("alsoRun", [])}
    only = {rid: (Severity.ERROR if rid in running else None) for rid in RULES}
    options = case_options(case)
    config = LintConfig(severity=only, options=options)
    return lint(subjects, case_context(case, subjects, options), config)


@pytest.mark.parametrize(("rule_id", "case"), _cases())
def test_rule_case(rule_id: str, case: dict[str, Any]) -> None:
    found = [d for d in run_case(rule_id, case) if d.code == rule_id]
    expected = case["expect"] or []
    actual = []
    for diagnostic, wanted in zip(found, expected + [{}] * (len(found) - len(expected)), strict=False):
        record: dict[str, Any] = {"path": diagnostic.path, "message": diagnostic.message}
        if "object" in wanted:
            record["object"] = (diagnostic.object or "").split("/", 1)[-1]
        if "file" in wanted:
            record["file"] = diagnostic.span.file if diagnostic.span else None
        if "line" in wanted:
            record["line"] = diagnostic.span.line if diagnostic.span else None
        actual.append(record)
    assert actual == expected


def test_every_rule_has_pass_and_fail_cases() -> None:
    covered: dict[str, list[dict[str, Any]]] = {}
    for path in _fixture_files():
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert path.stem == data["rule"], f"{path.name} holds cases for {data['rule']}"
        covered[data["rule"]] = data["cases"]
    assert sorted(covered) == sorted(RULES)
    for rule_id, cases in covered.items():
        assert any(not c["expect"] for c in cases), f"{rule_id} has no passing case"
        assert any(c["expect"] for c in cases), f"{rule_id} has no failing case"
