"""The Go template parser against the behaviour recorded in
/work/shared/research/kserve-placeholders.md (Go's html/template over the
container's JSON)."""

from __future__ import annotations

import pytest

from compiler.gotemplate import Reference, json_encoded, parse


def refs(text: str) -> list[Reference]:
    parsed = parse(text)
    assert parsed.error is None, parsed.error
    return [r for action in parsed.actions for r in action.references]


def test_metadata_fields_and_index() -> None:
    assert refs("{{.Name}}") == [Reference("Name")]
    assert refs("{{.Namespace}}/{{.Name}}") == [Reference("Namespace"), Reference("Name")]
    assert Reference("Annotations", (), "aml-model-repo") in refs(
        "/mnt/models/{{ index .Annotations `aml-model-repo` }}"
    )
    assert refs("{{.Labels.modelClass}}") == [Reference("Labels", ("modelClass",), "modelClass")]
    assert refs("{{ $.Annotations.modelFormat }}") == [Reference("Annotations", ("modelFormat",), "modelFormat")]


def test_quoted_key_parses_raw_but_not_json_encoded() -> None:
    text = '/mnt/models/{{ index .Annotations "aml-model-repo" }}'
    assert parse(text).error is None
    encoded = parse(json_encoded(text))
    assert encoded.error is not None
    assert encoded.error.message == 'unexpected "\\" in operand'


def test_backticks_survive_json_encoding() -> None:
    assert parse(json_encoded("/mnt/models/{{ index .Annotations `aml-model-repo` }}")).error is None


def test_json_encoding_matches_go() -> None:
    assert json_encoded('a<b>&"c"\n') == 'a\\u003cb\\u003e\\u0026\\"c\\"\\n'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{{.Annotations.aml-model-repo}}", "bad number syntax: '-model-repo'"),
        ("{{ foo }}", 'function "foo" not defined'),
        ("a {{ .Name", "unclosed action"),
        ("{{ if .Name }}x", "unexpected EOF: {{if}} has no {{end}}"),
        ("{{ end }}", "unexpected {{end}}"),
        ("{{ }}", "missing value for command"),
        ("{{ .Name | }}", "missing command after |"),
        ("{{ `open }}", "unterminated raw quoted string"),
    ],
)
def test_syntax_errors(text: str, message: str) -> None:
    parsed = parse(text)
    assert parsed.error is not None
    assert parsed.error.message == message


def test_literal_docker_format_reads_a_missing_field() -> None:
    assert refs("docker inspect -f {{.State.Pid}} x") == [Reference("State", ("Pid",))]


def test_control_flow_scopes_the_dot() -> None:
    found = refs("{{ with .Annotations }}{{ .foo }}{{ end }}")
    assert found == [Reference("Annotations"), Reference("foo", (), None, scoped=True)]
    assert refs("{{ if .Name }}a{{ else }}b{{ end }}") == [Reference("Name")]


def test_trim_markers_comments_and_pipelines() -> None:
    assert refs("{{- .Name -}}") == [Reference("Name")]
    assert refs("{{/* a comment */}}x") == []
    assert refs('{{ printf "%s-%s" .Name .Namespace }}') == [Reference("Name"), Reference("Namespace")]
    assert refs("{{ index .Labels `a` | len }}")[-1] == Reference("Labels", (), "a")
    assert refs("{{ $x := .Name }}{{ $x }}") == [Reference("Name")]


def test_action_offsets() -> None:
    parsed = parse("ab {{.Name}} cd {{ .Namespace }}")
    assert [(a.start, a.end, a.text) for a in parsed.actions] == [(3, 12, "{{.Name}}"), (16, 32, "{{ .Namespace }}")]
