"""Suppressions: written next to the runtime, each with its reason."""

from __future__ import annotations

from collections.abc import Iterator

from compiler.diagnostics import SourceSpan
from compiler.rules.registry import RULES, Finding, LintContext, Subject, closest_rule, rule

# Rules about suppressions cannot themselves be suppressed.
UNSUPPRESSIBLE = ("RTC001", "RTC002", "RTC003")


def _span_of(subject: Subject, rule_id: str) -> SourceSpan | None:
    return subject.catalog_spans.get(f"lintExceptions.{rule_id}") or subject.catalog_spans.get("lintExceptions")


@rule(id="RTC001", summary="A lint exception names a rule that exists")
def known_rule(subject: Subject, context: LintContext) -> Iterator[Finding]:
    """Every key of a runtime's `lintExceptions` is the id of a rule
    (`rtc rules` lists them) other than RTC001, RTC002 and RTC003.

    A misspelt id suppresses nothing and hides that the finding it meant to
    accept is still reported, or worse, that nobody looked at it.
    """
    for rule_id in sorted(subject.suppressions):
        if rule_id in RULES and rule_id not in UNSUPPRESSIBLE:
            continue
        if rule_id in UNSUPPRESSIBLE:
            message = f"lintExceptions cannot suppress {rule_id}"
        else:
            close = closest_rule(rule_id)
            message = f"lintExceptions names {rule_id!r}, which is not a rule" + (
                f"; did you mean {close}?" if close else ""
            )
        yield Finding(("metadata",), message, span=_span_of(subject, rule_id))


@rule(id="RTC002", summary="A lint exception says why")
def reasoned(subject: Subject, context: LintContext) -> Iterator[Finding]:
    """Every lint exception has a written reason: a non-empty string saying why
    the runtime cannot meet the rule (`RTC602: 'the Ascend driver stack in
    this image works only as root'`).

    The reason is what a reviewer weighs and what the next maintainer needs
    before removing the exception; an exception without one is an error, and
    it suppresses nothing.
    """
    for rule_id, reason in sorted(subject.suppressions.items()):
        if isinstance(reason, str) and reason.strip():
            continue
        yield Finding(
            ("metadata",),
            f"lint exception for {rule_id} has no reason; write why this runtime cannot follow the rule",
            span=_span_of(subject, rule_id),
        )


@rule(id="RTC003", summary="A lint exception is still needed")
def used(subject: Subject, context: LintContext) -> Iterator[Finding]:
    """A lint exception suppresses at least one finding of its object.

    When the runtime is fixed, its exception should go too; otherwise it
    silently covers the next regression. The engine reports this after all
    rules ran (this check itself finds nothing).
    """
    return iter(())
