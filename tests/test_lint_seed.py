"""The vendor's examples (tests/fixtures/seed) and the generated rules reference.

docs/rules.md documents the findings on the seed files; the drift test keeps
that table equal to what rtc finds, and the assertions below pin the
findings the project exists to catch, independent of the table."""

from __future__ import annotations

from compiler.diagnostics import Diagnostic
from compiler.docs_rules import rules_document
from compiler.lint import LintConfig
from compiler.lint_inputs import lint_files, load_files
from compiler.project import load_project
from tests.conftest import REPO

SEED = REPO / "tests" / "fixtures" / "seed"


def seed_findings(platform: str) -> list[Diagnostic]:
    loaded = load_files([SEED], {p: p.name for p in SEED.iterdir()})
    assert loaded.diagnostics == []
    return lint_files(loaded.subjects, LintConfig(), platform=platform)


def found(diagnostics: list[Diagnostic], code: str, file: str) -> list[str]:
    return [d.message for d in diagnostics if d.code == code and d.span and d.span.file == file]


def test_docs_rules_md_is_current() -> None:
    text, problems = rules_document(load_project(REPO))
    assert problems == []
    assert (REPO / "docs" / "rules.md").read_text(encoding="utf-8") == text, "run `rtc docs rules` and commit"


def test_dangling_runtime_in_the_vendor_service_with_the_closest_name() -> None:
    diagnostics = seed_findings("alauda")
    [dangling] = [d for d in diagnostics if d.code == "RTC801"]
    assert dangling.message == "runtime 'aml-vllm-ascend-0.18.0rc1' does not exist in the linted files"
    assert dangling.hint == "did you mean 'aml-vllm-ascend-cann-8.5.1'?"
    assert dangling.span is not None and (dangling.span.file, dangling.span.line) == (
        "vllm-ascend-qwen35.inferenceservice.yaml",
        29,
    )


def test_server_fields_vocabulary_and_scripts() -> None:
    diagnostics = seed_findings("alauda")
    mlserver = "mlserver-cuda-11.6.clusterservingruntime.yaml"
    assert [m.split(" ", 1)[0] for m in found(diagnostics, "RTC103", mlserver)] == [
        "metadata.creationTimestamp",
        "metadata.generation",
    ]
    assert found(diagnostics, "RTC102", "mindie-2.2rc1-310p.clusterservingruntime.yaml") == [
        "cpaas.io/accelerator-type is 'npu'; this catalog's word for that accelerator is 'ascend'"
    ]
    # The unquoted "$@" of three scripts and the __LT__ arithmetic of MindIE's are shellcheck errors.
    errors = {d.span.file for d in diagnostics if d.code == "RTC701" and d.span}
    assert errors == {
        mlserver,
        "xinference-cuda-12.1.clusterservingruntime.yaml",
        "vllm-ascend-cann-8.5.1.clusterservingruntime.yaml",
        "mindie-2.2rc1-310p.clusterservingruntime.yaml",
    }
    assert found(diagnostics, "RTC403", mlserver) == []  # the Alauda profile accepts the vendor's quoted keys


def test_upstream_kserve_rejects_every_quoted_placeholder() -> None:
    diagnostics = seed_findings("kserve")
    quoted = [d for d in diagnostics if d.code == "RTC403"]
    # Every `{{ index .Annotations "…" }}` in the examples: 2 MindIE, 3 MLServer, 2 Triton, 1 vLLM-ascend, 2 Xinference.
    assert len(quoted) == 10
    assert all(d.message.endswith('unexpected "\\" in operand') for d in quoted)
    assert not [d for d in diagnostics if d.code in ("RTC101", "RTC102")]


def test_seed_is_not_modified_by_linting() -> None:
    before = {p.name: p.read_bytes() for p in SEED.iterdir()}
    seed_findings("alauda")
    assert {p.name: p.read_bytes() for p in SEED.iterdir()} == before
