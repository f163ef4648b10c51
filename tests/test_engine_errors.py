"""Both engines' real error messages become one diagnostic at the right file:line:col.

The messages are produced by evaluating broken files with each engine, not
written by hand, so a change in an engine's wording or trace format fails here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler.diagnostics import Diagnostic
from compiler.engines import ENGINE_NAMES, EngineError, get_engine
from compiler.evaluate import MAX_STACK, HermeticImporter, evaluate_entry, parse_engine_error
from compiler.project import load_project

LIBRARY = """// a helper library with a bug
{
  ok: 1,
  check(v):: if v > 1 then error 'too big: %d' % v else v,
}
"""


def diagnose(repo: Path, engine: str, files: dict[str, str], entry: str = "overlays/t.jsonnet") -> Diagnostic:
    for rel, text in files.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    result = evaluate_entry(load_project(repo), entry, get_engine(engine), target="t")
    (diagnostic,) = result.diagnostics
    return diagnostic


def raw_message(repo: Path, engine: str, entry: str) -> str:
    try:
        get_engine(engine).evaluate_file(
            entry, import_callback=HermeticImporter(load_project(repo)), max_stack=MAX_STACK
        )
    except EngineError as exc:
        return str(exc)
    raise AssertionError("the file evaluated without an error")


@pytest.mark.parametrize("engine", ENGINE_NAMES)
def test_syntax_error_in_the_entry(repo: Path, engine: str) -> None:
    diagnostic = diagnose(repo, engine, {"overlays/t.jsonnet": "{\n  a: 1\n  b: 2,\n}\n"})
    assert diagnostic.code == "E101"
    assert diagnostic.message.startswith("syntax error: ")
    assert str(diagnostic.span) == "overlays/t.jsonnet:3:3"


@pytest.mark.parametrize("engine", ENGINE_NAMES)
def test_syntax_error_in_an_imported_library_points_at_the_library(repo: Path, engine: str) -> None:
    diagnostic = diagnose(
        repo,
        engine,
        {
            "catalog/lib/broken.libsonnet": "{\n  a: [1, 2,\n}\n",
            "overlays/t.jsonnet": "local b = import 'catalog/lib/broken.libsonnet';\n{ y: b }\n",
        },
    )
    assert diagnostic.code == "E101"
    assert str(diagnostic.span) == "catalog/lib/broken.libsonnet:3:1"
    # The import that led there is named too.
    assert "overlays/t.jsonnet:1:11" in [str(s) for s in diagnostic.related]


@pytest.mark.parametrize("engine", ENGINE_NAMES)
def test_runtime_error_in_the_library_points_at_the_callers_line(repo: Path, engine: str) -> None:
    diagnostic = diagnose(
        repo,
        engine,
        {
            "catalog/lib/helpers.libsonnet": LIBRARY,
            "overlays/t.jsonnet": "local h = import 'catalog/lib/helpers.libsonnet';\n{\n  y: h.check(3),\n}\n",
        },
    )
    assert diagnostic.code == "E102"
    assert diagnostic.message == "too big: 3"
    assert str(diagnostic.span) == "overlays/t.jsonnet:3:6"
    error_column = LIBRARY.splitlines()[3].index("error") + 1
    assert [str(s) for s in diagnostic.related][:1] == [f"catalog/lib/helpers.libsonnet:4:{error_column}"]


@pytest.mark.parametrize("engine", ENGINE_NAMES)
def test_error_in_a_runtime_file_points_at_it(repo: Path, engine: str) -> None:
    runtime = repo / "catalog/vllm/main.libsonnet"
    runtime.write_text(runtime.read_text().replace("name: 'vllm',", "name: error 'vllm is retired',"))
    result = evaluate_entry(load_project(repo), "overlays/prod-airgap.jsonnet", get_engine(engine), target="t")
    (diagnostic,) = result.diagnostics
    assert diagnostic.message == "vllm is retired"
    assert diagnostic.span is not None and diagnostic.span.file == "catalog/vllm/main.libsonnet"
    assert diagnostic.span.line == 6


@pytest.mark.parametrize("engine", ENGINE_NAMES)
def test_missing_field_is_located_for_both_engines(repo: Path, engine: str) -> None:
    diagnostic = diagnose(repo, engine, {"overlays/t.jsonnet": "local o = { a: 1 };\n{\n  z: o.nope,\n}\n"})
    assert diagnostic.code == "E102"
    assert "nope" in diagnostic.message
    assert diagnostic.span is not None
    assert (diagnostic.span.file, diagnostic.span.line) == ("overlays/t.jsonnet", 3)


def test_a_std_function_jrsonnet_lacks_is_located_with_a_hint(repo: Path) -> None:
    # jrsonnet names no place at all for this; the message alone would leave the user searching.
    raw = raw_message(repo, "rjsonnet", _write(repo, "overlays/t.jsonnet", "{\n  a: 1,\n  b: std.trim(' x '),\n}\n"))
    assert parse_engine_error(raw)[1] == []
    diagnostic = diagnose(repo, "rjsonnet", {})
    assert str(diagnostic.span) == "overlays/t.jsonnet:3:10"
    assert diagnostic.hint is not None and "std.trim" in diagnostic.hint and "gojsonnet" in diagnostic.hint
    # go-jsonnet has the function: the same file evaluates.
    assert evaluate_entry(load_project(repo), "overlays/t.jsonnet", get_engine("gojsonnet")).ok


@pytest.mark.parametrize("engine", ENGINE_NAMES)
def test_runaway_recursion_is_an_error_at_the_recursive_call(repo: Path, engine: str) -> None:
    diagnostic = diagnose(repo, engine, {"overlays/t.jsonnet": "local f(n) = f(n + 1);\n{\n  z: f(0),\n}\n"})
    assert diagnostic.code == "E112"
    assert str(diagnostic.span) == "overlays/t.jsonnet:1:14"


def _write(repo: Path, rel: str, text: str) -> str:
    (repo / rel).write_text(text)
    return rel
