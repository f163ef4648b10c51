"""CEL rules (``x-kubernetes-validations``), evaluated offline.

The expressions run on `common-expression-language` (the Rust cel-interpreter
behind a Python binding): a real CEL implementation with the standard macros
(`has`, `all`, `exists`, `size`, `matches`, ...), compiled once per rule and
then ~10 microseconds per evaluation. What it lacks are the Kubernetes
extension libraries (`quantity()`, `isURL()`, `url()`, `ip()`, `cidr()`,
`format`, ...) and transition rules (`oldSelf`, meaningless without a stored
object): a rule that needs them is reported as not checked, never guessed at.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Rule:
    rule: str
    message: str = ""
    message_expression: str = ""
    field_path: str = ""

    @classmethod
    def from_schema(cls, entry: dict[str, Any]) -> Rule:
        return cls(
            rule=str(entry.get("rule", "")),
            message=str(entry.get("message", "") or ""),
            message_expression=str(entry.get("messageExpression", "") or ""),
            field_path=str(entry.get("fieldPath", "") or ""),
        )


@dataclass(frozen=True)
class Outcome:
    """passed: True/False; None when the rule could not be evaluated (see `reason`)."""

    passed: bool | None
    message: str = ""
    reason: str = ""


class _Unsupported(Exception):
    pass


@cache
def _engine() -> Any:
    """The compiled extension module `cel.cel`, loaded without the package's __init__,
    which imports an interactive CLI (prompt_toolkit, rich, typer: 0.25 s per run)."""
    spec = importlib.util.find_spec("cel")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for folder in locations:
        for candidate in sorted(Path(folder).glob("cel.*")):
            if candidate.suffix in (".so", ".pyd"):
                loader = importlib.machinery.ExtensionFileLoader("cel.cel", str(candidate))
                module_spec = importlib.util.spec_from_file_location("cel.cel", candidate, loader=loader)
                if module_spec is not None:
                    module = importlib.util.module_from_spec(module_spec)
                    loader.exec_module(module)
                    return module
    import cel  # the layout changed: fall back to the ordinary (slower) import

    return cel


@cache
def _compile(expression: str) -> Any:
    if "oldSelf" in expression:
        raise _Unsupported("it is a transition rule (oldSelf), which only applies to updates")
    try:
        return _engine().compile(expression)
    except ValueError as exc:
        raise _Unsupported(f"it does not compile: {str(exc).splitlines()[0]}") from None


def evaluate(rule: Rule, value: Any) -> Outcome:
    try:
        program = _compile(rule.rule)
    except _Unsupported as exc:
        return Outcome(None, reason=str(exc))
    try:
        result = program.execute({"self": value})
    except RuntimeError as exc:
        text = str(exc)
        if "Undefined variable or function" in text:
            return Outcome(
                None, reason=f"it uses a Kubernetes CEL extension rtc cannot evaluate ({text.split('.')[0]})"
            )
        return Outcome(False, message=f"evaluation error: {text}")
    except (KeyError, TypeError, ValueError) as exc:
        # cel-go reports these as "no such key" / type errors and the API server rejects the object.
        return Outcome(False, message=f"evaluation error: {type(exc).__name__}: {exc}")
    if not isinstance(result, bool):
        return Outcome(False, message=f"rule returned {result!r}, not a boolean")
    if result:
        return Outcome(True)
    return Outcome(False, message=_message(rule, value))


def _message(rule: Rule, value: Any) -> str:
    if rule.message_expression:
        try:
            text = _compile(rule.message_expression).execute({"self": value})
            if isinstance(text, str) and text:
                return text
        except (_Unsupported, RuntimeError, KeyError, TypeError, ValueError):
            pass
    return rule.message or f"failed rule: {rule.rule}"
