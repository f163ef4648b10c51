"""The lint engine: runs the rules, owns severity and suppressions.

Rules (compiler/rules/) yield Findings at JSON paths; the engine
- decides each rule's severity (defaults below, `[lint.severity]` in rtc.toml,
  where "off" skips a rule),
- applies the runtime's `lintExceptions` (valid ones only: a known rule and a
  written reason) and reports the ones that suppressed nothing,
- turns findings into Diagnostics located in the emitted or user-written YAML
  (`out/demo/clusterservingruntime-x.yaml:12:7`) with the layer files as
  related places.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from compiler.diagnostics import Diagnostic, Severity, SourceSpan
from compiler.project import CONFIG_NAME, Project, ProjectError
from compiler.rules import RULES
from compiler.rules.k8s import derived_once, runtime_containers, scripts
from compiler.rules.profiles import PlatformProfile, profile_for
from compiler.rules.registry import RUNTIME_KINDS, Finding, LintContext, LintOptions, Rule, Subject, closest_rule
from compiler.rules.suppressions import UNSUPPRESSIBLE
from compiler.shellcheck import check_scripts
from compiler.yamlpos import render_path

if TYPE_CHECKING:
    from compiler.reuse import Reuse

E, W, N = Severity.ERROR, Severity.WARNING, Severity.INFO
DEFAULT_SEVERITY: dict[str, Severity] = {
    "RTC001": E,
    "RTC002": E,
    "RTC003": W,
    "RTC101": E,
    "RTC102": E,
    "RTC103": E,
    "RTC201": E,
    "RTC202": E,
    "RTC301": W,
    "RTC302": W,
    "RTC303": E,
    "RTC401": E,
    "RTC402": W,
    "RTC403": E,
    "RTC404": W,
    "RTC501": E,
    "RTC502": E,
    "RTC503": E,
    "RTC504": W,
    "RTC505": N,
    "RTC506": W,
    "RTC601": E,
    "RTC602": E,
    "RTC603": E,
    "RTC604": E,
    "RTC701": E,
    "RTC702": W,
    "RTC801": E,
    "RTC802": E,
    "RTC803": E,
    "RTC804": E,
    "RTC805": E,
}
if set(DEFAULT_SEVERITY) != set(RULES):  # pragma: no cover - a programming error, caught by every test run
    raise RuntimeError(
        f"rules without a default severity, or severities without a rule: {set(DEFAULT_SEVERITY) ^ set(RULES)}"
    )

OFF = "off"
DEFAULT_PLATFORM = "alauda"
_SEVERITY_WORDS = {"error": E, "warning": W, "info": N}


@dataclass(frozen=True)
class LintConfig:
    """The [lint] table of rtc.toml, checked."""

    severity: dict[str, Severity | None] = field(default_factory=dict)
    options: LintOptions = field(default_factory=LintOptions)
    # Platform assumed for files linted without --target.
    platform: str = DEFAULT_PLATFORM
    platform_annotations: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def severity_of(self, rule_id: str) -> Severity | None:
        """The rule's severity, or None when it is switched off."""
        if rule_id in self.severity:
            return self.severity[rule_id]
        return DEFAULT_SEVERITY[rule_id]

    def profile(self, platform: str) -> PlatformProfile:
        profile = profile_for(platform)
        if platform in self.platform_annotations:
            profile = profile.with_annotations(self.platform_annotations[platform])
        return profile


_OPTION_KEYS = ("platform", "min-startup-seconds", "moving-tags", "llm-formats", "shellcheck-exclude")


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ProjectError(f"{CONFIG_NAME}: {where} must be a list of strings")
    return tuple(value)


def load_lint_config(project: Project) -> LintConfig:
    """rtc.toml's [lint] table; a bad value is a ProjectError naming the key."""
    table = project.settings.get("lint", {})
    if not isinstance(table, dict):
        raise ProjectError(f"{CONFIG_NAME}: [lint] must be a table")
    severity: dict[str, Severity | None] = {}
    raw_severity = table.get("severity", {})
    if not isinstance(raw_severity, dict):
        raise ProjectError(f"{CONFIG_NAME}: [lint.severity] must be a table of rule id = severity")
    for rule_id, word in raw_severity.items():
        if rule_id not in RULES:
            close = closest_rule(rule_id)
            hint = f"; did you mean {close}?" if close else "; `rtc rules` lists them"
            raise ProjectError(f"{CONFIG_NAME}: [lint.severity] names {rule_id!r}, which is not a rule{hint}")
        if word == OFF:
            severity[rule_id] = None
        elif word in _SEVERITY_WORDS:
            severity[rule_id] = _SEVERITY_WORDS[word]
        else:
            raise ProjectError(
                f"{CONFIG_NAME}: [lint.severity] {rule_id} = {word!r}; use one of error, warning, info, off"
            )
    unknown = sorted(k for k in table if k not in (*_OPTION_KEYS, "severity", "platform-annotations"))
    if unknown:
        raise ProjectError(f"{CONFIG_NAME}: unknown key [lint] {unknown[0]} (known: {', '.join(_OPTION_KEYS)})")
    defaults = LintOptions()
    minimum = table.get("min-startup-seconds", defaults.min_startup_seconds)
    if not isinstance(minimum, int) or isinstance(minimum, bool) or minimum < 0:
        raise ProjectError(f"{CONFIG_NAME}: [lint] min-startup-seconds must be a whole number of seconds")
    exclude = (
        _strings(table.get("shellcheck-exclude", []), "[lint] shellcheck-exclude")
        if "shellcheck-exclude" in table
        else ()
    )
    for code in exclude:
        if not (code.startswith("SC") and code[2:].isdigit()):
            raise ProjectError(f"{CONFIG_NAME}: [lint] shellcheck-exclude has {code!r}; codes look like SC2086")
    options = LintOptions(
        min_startup_seconds=minimum,
        moving_tags=_strings(table["moving-tags"], "[lint] moving-tags")
        if "moving-tags" in table
        else defaults.moving_tags,
        llm_formats=_strings(table["llm-formats"], "[lint] llm-formats")
        if "llm-formats" in table
        else defaults.llm_formats,
        shellcheck_exclude=exclude,
    )
    platform = table.get("platform", DEFAULT_PLATFORM)
    if not isinstance(platform, str) or not platform:
        raise ProjectError(f"{CONFIG_NAME}: [lint] platform must be a platform name such as alauda or kserve")
    annotations_table = table.get("platform-annotations", {})
    if not isinstance(annotations_table, dict):
        raise ProjectError(f"{CONFIG_NAME}: [lint.platform-annotations] must map platform names to lists of keys")
    platform_annotations = {
        name: _strings(keys, f"[lint.platform-annotations] {name}") if keys else ()
        for name, keys in annotations_table.items()
    }
    return LintConfig(severity=severity, options=options, platform=platform, platform_annotations=platform_annotations)


def _rules_for(kind: str, config: LintConfig) -> list[tuple[Rule, Severity]]:
    chosen = []
    for rule_id in sorted(RULES):
        rule = RULES[rule_id]
        severity = config.severity_of(rule_id)
        if severity is not None and kind in rule.kinds:
            chosen.append((rule, severity))
    return chosen


def _valid_suppressions(subject: Subject) -> dict[str, str]:
    return {
        rule_id: reason
        for rule_id, reason in subject.suppressions.items()
        if rule_id in RULES and rule_id not in UNSUPPRESSIBLE and isinstance(reason, str) and reason.strip()
    }


def prepare_scripts(subjects: list[Subject], context: LintContext) -> None:
    """Check every startup script of the run in one shellcheck call per shell."""
    keys = [
        (script.shell, script.text)
        for subject in subjects
        if subject.kind in RUNTIME_KINDS
        for container in runtime_containers(subject.body)
        for script in scripts(container)
    ]
    context.scripts = check_scripts(keys, context.options.shellcheck_exclude)


def lint(
    subjects: list[Subject], context: LintContext, config: LintConfig, reuse: Reuse | None = None
) -> list[Diagnostic]:
    """Every diagnostic for `subjects`, in a stable order. With `reuse`, the rules that
    look at a subject alone are not run again on a subject the same as last time."""
    with derived_once():
        return _lint(subjects, context, config, reuse)


_SCRIPT_RULES = ("RTC701", "RTC702")


def _lint(subjects: list[Subject], context: LintContext, config: LintConfig, reuse: Reuse | None) -> list[Diagnostic]:
    earlier = {id(s): found for s in subjects if reuse is not None and (found := reuse.findings_for(s)) is not None}
    if context.scripts is None and any(config.severity_of(r) is not None for r in _SCRIPT_RULES):
        # Only the scripts whose findings are not taken over from the last render.
        fresh = [s for s in subjects if id(s) not in earlier or not set(_SCRIPT_RULES) <= earlier[id(s)].alone]
        prepare_scripts(fresh, context)
    diagnostics: list[Diagnostic] = []
    rules_by_kind: dict[str, list[tuple[Rule, Severity]]] = {}
    for subject in subjects:
        suppressed = _valid_suppressions(subject)
        used: set[str] = set()
        if subject.kind not in rules_by_kind:
            rules_by_kind[subject.kind] = _rules_for(subject.kind, config)
        before = earlier.get(id(subject))
        glance = context.glance
        alone: set[str] = set()
        kept: dict[str, list[Finding]] = {}
        for rule, severity in rules_by_kind[subject.kind]:
            if before is not None and rule.id in before.alone:
                findings = before.findings.get(rule.id, [])
                alone.add(rule.id)
            else:
                glance.seen = False
                findings = list(rule.check(subject, context))
                if not glance.seen:
                    alone.add(rule.id)
            if findings and rule.id in alone:
                kept[rule.id] = findings
            for finding in findings:
                if rule.id in suppressed:
                    used.add(rule.id)
                    continue
                diagnostics.append(_diagnostic(subject, context, rule.id, severity, finding))
        if reuse is not None:
            reuse.keep_findings(subject, alone, kept)
        unused_severity = config.severity_of("RTC003")
        if unused_severity is None:
            continue
        for rule_id in sorted(set(suppressed) - used):
            if config.severity_of(rule_id) is None or subject.kind not in RULES[rule_id].kinds:
                continue
            span = subject.catalog_spans.get(f"lintExceptions.{rule_id}")
            finding = Finding(("metadata",), f"lint exception for {rule_id} suppresses nothing; remove it", span=span)
            diagnostics.append(_diagnostic(subject, context, "RTC003", unused_severity, finding))
    return sorted(diagnostics, key=_order)


def _order(diagnostic: Diagnostic) -> tuple[str, int, int, str, str]:
    span = diagnostic.span or SourceSpan("")
    return (span.file, span.line, span.column, diagnostic.code, diagnostic.message)


def _diagnostic(
    subject: Subject, context: LintContext, rule_id: str, severity: Severity, finding: Finding
) -> Diagnostic:
    span = finding.span
    related = tuple(SourceSpan(f) for f in subject.sources)
    if span is None:
        line, column = subject.positions.locate(finding.path, finding.text_offset)
        span = SourceSpan(subject.file, line, column)
    else:
        line, column = subject.positions.locate(finding.path)
        related = (SourceSpan(subject.file, line, column), *related)
    return Diagnostic(
        severity=severity,
        code=rule_id,
        message=finding.message,
        span=span,
        target=context.cluster,
        object=subject.label,
        path=render_path(finding.path) or None,
        hint=finding.hint,
        related=related,
    )


def is_lint_code(code: str) -> bool:
    return code in RULES
