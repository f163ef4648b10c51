"""Evaluation: the import closure, hermetic imports and engine errors mapped to file:line:col."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler.engines import ENGINE_NAMES, get_engine
from compiler.evaluate import evaluate_entry, parse_engine_error
from compiler.project import load_project


@pytest.mark.parametrize("engine", ENGINE_NAMES)
def test_import_closure_is_recorded_with_hashes(repo: Path, engine: str) -> None:
    project = load_project(repo)
    result = evaluate_entry(project, "overlays/prod-airgap.jsonnet", get_engine(engine))
    assert result.ok, result.diagnostics
    assert set(result.imports) == {
        "overlays/prod-airgap.jsonnet",
        "catalog/lib/rtc.libsonnet",
        "catalog/lib/platforms/alauda.libsonnet",
        "catalog/lib/scripts/vllm-model-path.sh",
        "catalog/vllm/main.libsonnet",
        "catalog/vllm/startup.sh",
        "catalog/vllm-ascend/main.libsonnet",
        "catalog/vllm-ascend/startup.sh",
        "catalog/triton/main.libsonnet",
        "catalog/triton/startup.sh",
        "hardware/nvidia-cuda-12.1.libsonnet",
        "hardware/ascend-910b4.libsonnet",
    }
    assert all(len(digest) == 64 for digest in result.imports.values())


@pytest.mark.parametrize("engine", ENGINE_NAMES)
@pytest.mark.parametrize(
    ("import_line", "reason"),
    [
        (
            "importstr '/etc/hostname'",
            "import '/etc/hostname' is an absolute path; imports must be relative and stay inside "
            "catalog, hardware, overlays",
        ),
        ("importstr '../../../../etc/hostname'", "import '../../../../etc/hostname' leaves the repository"),
        (
            "importstr '../rtc.toml'",
            "import '../rtc.toml' resolves to rtc.toml, outside the source folders (catalog, hardware, overlays)",
        ),
        ("importstr 'missing.sh'", "import 'missing.sh' not found (looked in: overlays/missing.sh, missing.sh)"),
    ],
)
def test_refused_imports_name_the_importing_line(repo: Path, engine: str, import_line: str, reason: str) -> None:
    (repo / "overlays" / "bad.jsonnet").write_text("// a bad overlay\n{\n  data: " + import_line + ",\n}\n")
    project = load_project(repo)
    result = evaluate_entry(project, "overlays/bad.jsonnet", get_engine(engine))
    assert not result.ok
    (diagnostic,) = result.diagnostics
    assert diagnostic.code == "E104"
    assert diagnostic.message == f"import refused: {reason}"
    assert str(diagnostic.span) == "overlays/bad.jsonnet:3:9"


def test_symlink_out_of_the_repository_is_refused(repo: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("s3cr3t")
    (repo / "catalog" / "link.txt").symlink_to(secret)
    (repo / "overlays" / "bad.jsonnet").write_text("{ data: importstr 'catalog/link.txt' }\n")
    result = evaluate_entry(load_project(repo), "overlays/bad.jsonnet", get_engine("rjsonnet"))
    (diagnostic,) = result.diagnostics
    assert diagnostic.message.startswith("import refused: import 'catalog/link.txt' is a symbolic link to ")
    assert "s3cr3t" not in diagnostic.format()


def test_engine_messages_of_both_engines_parse_to_the_same_place() -> None:
    go = 'RUNTIME ERROR: boom\n\tcatalog/x/main.libsonnet:4:6-23\tobject <anonymous>\n\tField "s"\t\n'
    rj = "runtime error: boom\n    catalog/x/main.libsonnet:4:6-24: error statement\n    field <s> manifestification"
    assert parse_engine_error(go)[1][0] == parse_engine_error(rj)[1][0]
    assert parse_engine_error(go)[0] == parse_engine_error(rj)[0] == "boom"
    go_syntax = "hardware/cpu.libsonnet:7:3-14 Expected a comma before next field\n\n  x\n"
    message, spans = parse_engine_error(go_syntax)
    assert message == "syntax error: Expected a comma before next field"
    assert str(spans[0]) == "hardware/cpu.libsonnet:7:3"
