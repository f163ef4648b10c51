"""rtc's verdicts on the corpus in tests/validation/, checked against the real kubeconform.

Every file in invalid/ starts with two comment lines:
    # rtc: <invalid|error> <code> [<JSON path>]
    # kubeconform: <invalid|error|valid (rtc is stricter: reason)>
A file where kubeconform says valid is a documented place where rtc is stricter
(docs/validation.md lists them); everywhere else the two must agree.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from compiler.validation import default_validator
from tests.conftest import REPO, run_rtc
from tests.support.tools import tool

CORPUS = REPO / "tests" / "validation"
INVALID = sorted((CORPUS / "invalid").glob("*.yaml"))
VALID = sorted((CORPUS / "valid").glob("*.yaml"))
_RTC_HEADER = re.compile(r"^# rtc: (invalid|error) (E\d{3})(?: (.+))?$")
_KC_HEADER = re.compile(r"^# kubeconform: (invalid|error|valid \(rtc is stricter: .+\))$")
_KC_STATUS = {"statusValid": "valid", "statusInvalid": "invalid", "statusError": "error", "statusSkipped": "skipped"}


def expectations(path: Path) -> tuple[str, str, str | None, str]:
    first, second = path.read_text(encoding="utf-8").splitlines()[:2]
    rtc, kubeconform = _RTC_HEADER.match(first), _KC_HEADER.match(second)
    assert rtc and kubeconform, f"{path.name}: the first two lines must say what rtc and kubeconform expect"
    status, code, json_path = rtc.groups()
    return status, code, json_path, kubeconform.group(1).split()[0]


def relative(path: Path) -> str:
    return str(path.relative_to(REPO))


def rtc_json(*paths: Path) -> dict[str, list[dict[str, Any]]]:
    run = run_rtc(REPO, "validate", "-o", "json", *(relative(p) for p in paths))
    assert run.code in (0, 1), run.stderr
    by_file: dict[str, list[dict[str, Any]]] = {}
    for resource in json.loads(run.stdout)["resources"]:
        by_file.setdefault(resource["filename"], []).append(resource)
    return by_file


@pytest.fixture(scope="module")
def schema_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("schemas")
    run = run_rtc(REPO, "-q", "schemas", "export", str(directory))
    assert run.code == 0, run.stderr
    return directory


def kubeconform(schema_dir: Path, *paths: Path) -> dict[str, list[str]]:
    proc = subprocess.run(
        [
            tool("kubeconform"),
            "-strict",
            "-verbose",
            "-output",
            "json",
            "-schema-location",
            f"{schema_dir}/{{{{ .ResourceKind }}}}{{{{ .KindSuffix }}}}.json",
            "-ignore-filename-pattern",
            r"(^|/)(kustomization\.yaml|\.rtc-index\.json)$",
            *(relative(p) for p in paths),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode in (0, 1), proc.stderr
    statuses: dict[str, list[str]] = {}
    for resource in json.loads(proc.stdout)["resources"]:
        statuses.setdefault(resource["filename"], []).append(_KC_STATUS[resource["status"]])
    return statuses


def test_corpus_is_large_enough_and_annotated() -> None:
    assert len(INVALID) >= 40
    stricter = [p for p in INVALID if expectations(p)[3] == "valid"]
    # Each reason rtc is stricter is in docs/validation.md.
    docs = (REPO / "docs" / "validation.md").read_text(encoding="utf-8")
    for path in stricter:
        assert path.stem in docs, f"{path.name} disagrees with kubeconform but docs/validation.md does not list it"


def test_rtc_rejects_every_invalid_manifest_with_the_expected_code_and_path() -> None:
    results = rtc_json(CORPUS / "invalid")
    for path in INVALID:
        status, code, json_path, _ = expectations(path)
        (result,) = results[str(path.relative_to(REPO))]
        found = [(f["code"], f["path"]) for f in result["findings"]]
        assert result["status"] == status, (path.name, result)
        assert any(c == code and (json_path is None or p == json_path) for c, p in found), (path.name, found)


def test_rtc_accepts_every_valid_manifest() -> None:
    results = rtc_json(CORPUS / "valid")
    statuses = {name: [r["status"] for r in rs] for name, rs in results.items()}
    assert statuses.pop("tests/validation/valid/kustomization.yaml") == ["skipped"]
    assert statuses.pop("tests/validation/valid/runtime-list.yaml") == ["valid"]
    assert statuses.pop("tests/validation/valid/core-kinds.yaml") == ["valid"] * 5
    assert statuses and all(s == ["valid"] for s in statuses.values()), statuses


def test_kubeconform_agrees_wherever_it_can_judge(schema_dir: Path) -> None:
    verdicts = kubeconform(schema_dir, CORPUS / "invalid", CORPUS / "valid")
    for path in INVALID:
        _, _, _, expected = expectations(path)
        assert verdicts[relative(path)] == [expected], (path.name, verdicts[relative(path)])
    for path in VALID:
        if path.name != "kustomization.yaml":
            assert set(verdicts[relative(path)]) == {"valid"}, (path.name, verdicts[relative(path)])


def test_rendered_output_is_valid_for_rtc_and_kubeconform(schema_dir: Path) -> None:
    out = REPO / "out"
    results = rtc_json(out)
    assert results and all(r["status"] in ("valid", "skipped") for rs in results.values() for r in rs), results
    verdicts = kubeconform(schema_dir, out)
    judged = [f for f in verdicts if f.endswith(".yaml")]
    # Every object file: the runtimes and the GitOps objects in out/argocd and out/flux.
    objects = [p for p in out.glob("*/*.yaml") if p.name != "kustomization.yaml"]
    assert len(judged) == len(objects) > len(list(out.glob("*/clusterservingruntime-*.yaml")))
    assert all(v == ["valid"] for v in verdicts.values()), verdicts


def test_public_kserve_runtimes_validate(schema_dir: Path) -> None:
    kserve = CORPUS / "public" / "kserve"
    results = rtc_json(kserve)
    assert len(results) == 4
    assert all(r["status"] == "valid" for rs in results.values() for r in rs), results
    verdicts = kubeconform(schema_dir, kserve)
    assert len(verdicts) == 4 and all(v == ["valid"] for v in verdicts.values()), verdicts


def test_public_odh_runtimes_validate_including_template_objects() -> None:
    odh = CORPUS / "public" / "odh-model-controller"
    validator = default_validator()
    checked = 0
    for path in sorted(odh.glob("*.yaml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        objects = document["objects"] if document["kind"] == "Template" else [document]
        for obj in objects:
            verdict = validator.validate(obj)
            assert verdict.status == "valid", (path.name, [(v.location, v.message) for v in verdict.violations])
            checked += 1
    assert checked == 3
    # As a whole, a Template is a kind rtc has no schema for: reported, not silently passed.
    run = run_rtc(REPO, "validate", str(odh / "vllm-cuda-template.yaml"))
    assert run.code == 1 and "no schema for Template in template.openshift.io/v1" in run.stdout
