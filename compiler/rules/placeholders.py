"""KServe placeholders: `{{ … }}` in runtime containers, rendered per InferenceService."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from compiler.gotemplate import LEFT, Action, json_encoded, parse
from compiler.rules.k8s import substituted_containers
from compiler.rules.registry import Finding, LintContext, Subject, rule
from compiler.yamlpos import JsonPath

# The ObjectMeta fields a runtime may read: stable for every InferenceService.
METADATA_FIELDS = ("Name", "Namespace", "Labels", "Annotations")
# Other ObjectMeta fields: they exist, but say nothing a runtime should depend on.
_OTHER_OBJECT_META = frozenset(
    {
        "GenerateName",
        "UID",
        "ResourceVersion",
        "Generation",
        "CreationTimestamp",
        "DeletionTimestamp",
        "DeletionGracePeriodSeconds",
        "OwnerReferences",
        "Finalizers",
        "ManagedFields",
        "SelfLink",
    }
)


def _offset(text: str, index: int) -> tuple[int, int]:
    """(0-based line, 1-based column) of `index` in `text`."""
    line = text.count("\n", 0, index)
    start = text.rfind("\n", 0, index) + 1
    return line, index - start + 1


def _action_strings(value: Any, path: JsonPath, found: list[tuple[JsonPath, str]]) -> None:
    """Append every string under `value` that holds `{{`, with its path. (A path is
    built only for containers and hits: the walk visits every string of every object.)"""
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, str):
                if LEFT in item:
                    found.append(((*path, str(key)), item))
            elif isinstance(item, dict | list):
                _action_strings(item, (*path, str(key)), found)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, str):
                if LEFT in item:
                    found.append(((*path, index), item))
            elif isinstance(item, dict | list):
                _action_strings(item, (*path, index), found)
    elif isinstance(value, str) and LEFT in value:
        found.append((path, value))


def _placed_strings(subject: Subject) -> tuple[list[tuple[JsonPath, str]], list[tuple[JsonPath, str]]]:
    """The subject's strings that hold `{{`: those in containers KServe substitutes, and the rest."""
    found: list[tuple[JsonPath, str]] = []
    if subject.emitted is not None and LEFT not in subject.emitted:
        return [], []  # most objects: no string to walk to (`{{` is never escaped or folded in rtc's YAML)
    _action_strings(subject.body, (), found)
    if not found:
        return [], []
    substituted = [c.path for c in substituted_containers(subject.body)]
    inside: list[tuple[JsonPath, str]] = []
    outside: list[tuple[JsonPath, str]] = []
    for path, text in found:
        placed = any(path[: len(prefix)] == prefix for prefix in substituted)
        (inside if placed else outside).append((path, text))
    return inside, outside


def container_strings(subject: Subject, context: LintContext) -> list[tuple[JsonPath, str]]:
    """Strings of the containers KServe substitutes, that hold `{{`."""
    return context.derived("placeholders", subject, _placed_strings)[0]


def unsubstituted_strings(subject: Subject, context: LintContext) -> list[tuple[JsonPath, str]]:
    """Strings that hold `{{` anywhere else in the object."""
    return context.derived("placeholders", subject, _placed_strings)[1]


def _field_problem(action: Action) -> str | None:
    for reference in action.references:
        if reference.scoped:
            continue
        if reference.field not in METADATA_FIELDS:
            if reference.field in _OTHER_OBJECT_META:
                return (
                    f"{action.text} reads .{reference.field}; runtimes may read only "
                    ".Name, .Namespace, .Labels and .Annotations of the InferenceService"
                )
            return (
                f"{action.text} reads .{reference.field}, which the InferenceService's metadata does not have: "
                "KServe fails to render the container"
            )
        if reference.field in ("Name", "Namespace") and reference.rest:
            return f"{action.text} reads a field of .{reference.field}, which is a string"
        if reference.field in ("Labels", "Annotations") and len(reference.rest) > 1:
            return f"{action.text} reads a field of a {reference.field[:-1].lower()} value, which is a string"
    return None


@rule(id="RTC401", summary="Placeholders parse as Go template actions and read only object metadata")
def placeholder_syntax(subject: Subject, context: LintContext) -> Iterator[Finding]:
    """Every `{{ … }}` in kserve-container or transformer-container is a Go
    template action that reads only the InferenceService's metadata.

    KServe renders these two containers as one Go template per
    InferenceService, with its ObjectMeta as data. One bad action fails the
    whole container, so every InferenceService using the runtime fails. rtc
    parses each action as Go would (delimiters, trim markers, comments,
    pipelines, builtin functions, `if`/`with`/`range` … `end`) and reports:

    - syntax errors: an unclosed `{{`, an unknown function (`{{ foo }}`), a
      key with `-` in the dotted form (`{{ .Annotations.aml-model-repo }}`:
      use ``{{ index .Annotations `aml-model-repo` }}``);
    - fields other than `.Name`, `.Namespace`, `.Labels`, `.Annotations`
      (`{{ .UID }}`); a literal `{{` that is not meant for KServe, such as a
      `docker inspect -f {{.State.Pid}}` in a script, fails at render time
      because `.State` does not exist.

    Values substituted by upstream KServe are HTML-escaped (`&` becomes
    `&amp;`), and a key that is not set becomes the empty string; RTC402
    covers the keys.
    """
    for path, text in container_strings(subject, context):
        parsed = parse(text)
        if parsed.error is not None:
            yield Finding(
                path,
                f"placeholder does not parse as a Go template: {parsed.error.message}",
                text_offset=_offset(text, parsed.error.offset),
                hint="write a literal {{ as {{`{{`}}",
            )
            continue
        for action in parsed.actions:
            problem = _field_problem(action)
            if problem:
                yield Finding(path, problem, text_offset=_offset(text, action.start))


@rule(id="RTC402", summary="Placeholders read only annotations the platform sets")
def placeholder_annotations(subject: Subject, context: LintContext) -> Iterator[Finding]:
    """An annotation a runtime reads (``{{ index .Annotations `key` }}`` or
    `{{ .Annotations.key }}`) is one the platform sets on every
    InferenceService.

    A key that is not set renders as the empty string, silently: a model path
    of `/mnt/models/` or a served model name of `""`. **Alauda profile:** the
    platform sets `aml-model-repo` and `aml-pipeline-tag` on the
    InferenceServices it creates. **Upstream KServe profile:** the platform
    sets none, so each such key is a contract every InferenceService has to
    honour by hand. Change the list in rtc.toml:

    ```toml
    [lint.platform-annotations]
    alauda = ["aml-model-repo", "aml-pipeline-tag"]
    ```
    """
    known = set(context.profile.platform_annotations)
    for path, text in container_strings(subject, context):
        parsed = parse(text)
        if parsed.error is not None:
            continue
        reported: set[str] = set()
        for action in parsed.actions:
            for reference in action.references:
                if reference.field != "Annotations" or reference.key is None or reference.scoped:
                    continue
                if reference.key in known or reference.key in reported:
                    continue
                reported.add(reference.key)
                platform = context.profile.name
                yield Finding(
                    path,
                    f"placeholder reads annotation {reference.key!r}, which the {platform} platform does not set; "
                    "it renders empty unless every InferenceService sets it",
                    text_offset=_offset(text, action.start),
                )


@rule(id="RTC403", summary="Placeholders survive KServe's JSON encoding (no double quotes inside {{ }})")
def placeholder_json(subject: Subject, context: LintContext) -> Iterator[Finding]:
    """**Upstream KServe profile** (and platforms rtc has no profile for): no
    action contains a character JSON escapes, such as a double quote.

    Upstream KServe serializes the container to JSON and parses *that text* as
    the template, so `{{ index .Annotations "aml-model-repo" }}` reaches the
    parser as `{{ index .Annotations \\"aml-model-repo\\" }}` and fails with
    `unexpected "\\" in operand`; the container is not created. A raw string
    survives: ``{{ index .Annotations `aml-model-repo` }}`` (rtc.annotation()
    in catalog/lib/rtc.libsonnet writes that form).

    **Alauda profile:** not checked. The vendor's guide documents the
    double-quoted form and the platform's own substitution is not public, so
    rtc does not contradict it there; the bundled catalog still uses the
    portable backtick form.
    """
    if not context.profile.json_templates:
        return
    for path, text in container_strings(subject, context):
        parsed = parse(text)
        if parsed.error is not None:
            continue
        for action in parsed.actions:
            encoded = parse(json_encoded(action.text))
            if encoded.error is not None:
                yield Finding(
                    path,
                    f"{action.text} breaks once KServe JSON-encodes the container: {encoded.error.message}",
                    text_offset=_offset(text, action.start),
                    hint="quote keys with backticks: {{ index .Annotations `key` }}",
                )


@rule(id="RTC404", summary="Placeholders appear only where KServe substitutes them")
def placeholder_scope(subject: Subject, context: LintContext) -> Iterator[Finding]:
    """`{{ … }}` appears only in kserve-container and transformer-container.

    KServe renders placeholders in those two containers only: in volumes,
    annotations, other containers or workerSpec the text stays literal, so a
    pod gets a volume named `{{.Name}}` or a worker started with a literal
    `{{ index .Annotations … }}` argument.
    """
    for path, text in unsubstituted_strings(subject, context):
        yield Finding(
            path,
            "placeholder is not substituted here; KServe renders {{ }} only in kserve-container and "
            "transformer-container",
            text_offset=_offset(text, text.index("{{")),
        )
