"""`rtc lint`, `rtc rules`, `rtc docs rules` and lint inside `rtc build`, run as a user would."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import yaml

from tests.conftest import REPO, Run, snapshot

Rtc = Callable[..., Run]
SEED_SERVICE = REPO / "tests" / "fixtures" / "seed" / "vllm-ascend-qwen35.inferenceservice.yaml"


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), start=1) if needle in line)


def test_bundled_catalog_lints_clean(repo: Path, rtc: Rtc) -> None:
    result = rtc(repo, "lint")
    assert (result.code, result.stdout) == (0, "")
    assert "0 errors, 0 warnings, 0 info" in result.stderr


def test_text_output_points_into_the_out_file_then_the_layers(repo: Path, rtc: Rtc) -> None:
    edit(repo / "catalog/vllm/main.libsonnet", "'vllm/vllm-openai:v0.18.0'", "'vllm/vllm-openai:latest'")
    result = rtc(repo, "lint", "--target", "demo")
    assert result.code == 1
    shown = rtc(repo, "show", "demo", "--runtime", "vllm").stdout
    line = line_of(shown, "image: vllm/vllm-openai:latest") + 1  # the file starts with rtc's header line
    assert result.stdout.splitlines()[:2] == [
        f"out/demo/clusterservingruntime-aml-vllm-cuda-12.1.yaml:{line}:5: error: image vllm/vllm-openai:latest "
        "uses the moving tag 'latest'; pin a version tag or a digest (RTC201)",
        "  source: catalog/vllm/main.libsonnet, hardware/nvidia-cuda-12.1.libsonnet, "
        "catalog/lib/platforms/alauda.libsonnet, overlays/demo.jsonnet",
    ]


def test_build_fails_on_a_lint_error_and_leaves_out_unchanged(repo: Path, rtc: Rtc) -> None:
    assert rtc(repo, "build").code == 0
    before = snapshot(repo / "out")
    edit(repo / "catalog/triton/startup.sh", "exec tritonserver", "echo starting $@\nexec tritonserver")
    result = rtc(repo, "build")
    assert result.code == 1
    assert snapshot(repo / "out") == before
    # The shellcheck finding is reported in the script's own file, at its own line.
    script = (repo / "catalog/triton/startup.sh").read_text(encoding="utf-8")
    line = line_of(script, "echo starting $@")
    assert f"catalog/triton/startup.sh:{line}:15: error: SC2068: Double quote array expansions" in result.stderr
    assert "build failed" in result.stderr


def test_output_formats(repo: Path, rtc: Rtc) -> None:
    edit(repo / "catalog/triton/main.libsonnet", "'alaudadockerhub/tritonserver:25.02-py3'", "'nvcr.io/tritonserver'")
    # The same findings, byte for byte, whichever Jsonnet engine renders the catalog.
    assert rtc(repo, "lint", "-o", "json").stdout == rtc(repo, "--engine", "gojsonnet", "lint", "-o", "json").stdout
    data = json.loads(rtc(repo, "lint", "-t", "prod-airgap", "-o", "json").stdout)
    [finding] = data["findings"]
    assert finding["rule"] == "RTC201"
    assert finding["file"] == "out/prod-airgap/clusterservingruntime-aml-triton-cuda-12.yaml"
    assert finding["path"] == "spec.containers[0].image"
    assert data["summary"] == {"errors": 1, "warnings": 0, "info": 0}

    sarif = json.loads(rtc(repo, "lint", "-t", "prod-airgap", "-o", "sarif").stdout)
    run = sarif["runs"][0]
    assert sarif["version"] == "2.1.0"
    assert [r["ruleId"] for r in run["results"]] == ["RTC201"]
    rule = run["tool"]["driver"]["rules"][run["results"][0]["ruleIndex"]]
    assert rule["id"] == "RTC201"
    region = run["results"][0]["locations"][0]["physicalLocation"]["region"]
    assert region["startLine"] == finding["line"] and region["startColumn"] == finding["column"]

    github = rtc(repo, "lint", "-t", "prod-airgap", "-o", "github").stdout
    assert re.fullmatch(
        r"::error file=out/prod-airgap/clusterservingruntime-aml-triton-cuda-12\.yaml,line=\d+,col=5,title=RTC201::"
        r"image registry\.prod\.internal/mirror/nvcr\.io/tritonserver has no tag.*\n",
        github,
    )


def test_severity_settings_in_rtc_toml(repo: Path, rtc: Rtc) -> None:
    edit(repo / "catalog/triton/main.libsonnet", "'alaudadockerhub/tritonserver:25.02-py3'", "'nvcr.io/tritonserver'")
    config = repo / "rtc.toml"
    base = config.read_text(encoding="utf-8")
    config.write_text(base + '\n[lint.severity]\nRTC201 = "warning"\n', encoding="utf-8")
    result = rtc(repo, "lint", "-t", "prod-airgap")
    assert result.code == 0 and ": warning: image" in result.stdout
    config.write_text(base + '\n[lint.severity]\nRTC201 = "off"\n', encoding="utf-8")
    assert rtc(repo, "lint", "-t", "prod-airgap").stdout == ""
    config.write_text(base + '\n[lint.severity]\nRTC210 = "off"\n', encoding="utf-8")
    bad = rtc(repo, "lint")
    assert bad.code == 2
    assert "[lint.severity] names 'RTC210', which is not a rule; did you mean RTC201?" in bad.stderr


def test_exceptions_need_a_reason_and_a_use(repo: Path, rtc: Rtc) -> None:
    mindie = repo / "catalog/mindie/main.libsonnet"
    edit(mindie, "RTC602: 'MindIE must run as root", "RTC603: '', RTC602: 'MindIE must run as root")
    result = rtc(repo, "lint", "-t", "demo")
    assert result.code == 1
    line = line_of(mindie.read_text(encoding="utf-8"), "RTC603: ''")
    assert (
        f"catalog/mindie/main.libsonnet:{line}:5: error: lint exception for RTC603 has no reason; "
        "write why this runtime cannot follow the rule (RTC002)"
    ) in result.stdout
    edit(mindie, "RTC603: '', ", "RTC603: 'was needed once', ")
    result = rtc(repo, "lint", "-t", "demo")
    assert result.code == 0
    assert "warning: lint exception for RTC603 suppresses nothing; remove it (RTC003)" in result.stdout


def test_allowed_registries_of_the_air_gapped_cluster(repo: Path, rtc: Rtc) -> None:
    edit(repo / "overlays/prod-airgap.jsonnet", "rtc.patch.mirrorImages('registry.prod.internal/mirror'),", "")
    result = rtc(repo, "lint", "-t", "prod-airgap", "-o", "json")
    findings = json.loads(result.stdout)["findings"]
    assert result.code == 1
    assert {f["rule"] for f in findings} == {"RTC202"}
    assert {f["message"].split(" is pulled")[0] for f in findings} == {
        "image vllm/vllm-openai:v0.18.0",
        "image quay.io/ascend/vllm-ascend:v0.18.0rc1",
        "image alaudadockerhub/tritonserver:25.02-py3",
    }


def test_a_file_against_a_target_cluster(repo: Path, rtc: Rtc) -> None:
    result = rtc(repo, "lint", str(SEED_SERVICE), "--target", "demo")
    assert result.code == 1
    assert result.stdout.endswith(
        ":29:7: error: runtime 'aml-vllm-ascend-0.18.0rc1' does not exist in cluster demo (RTC801)\n"
        "  hint: did you mean 'aml-vllm-ascend-cann-8.5.1'?\n"
    )
    fixed = repo / "fixed.yaml"
    fixed.write_text(
        SEED_SERVICE.read_text(encoding="utf-8").replace("aml-vllm-ascend-0.18.0rc1", "aml-vllm-ascend-cann-8.5.1"),
        encoding="utf-8",
    )
    assert rtc(repo, "lint", str(fixed), "--target", "demo").code == 0
    # Without HOME's group settings the runtime's declared requirements fail.
    body = yaml.safe_load(fixed.read_text(encoding="utf-8"))
    del body["spec"]["predictor"]["securityContext"]
    fixed.write_text(yaml.safe_dump(body), encoding="utf-8")
    result = rtc(repo, "lint", str(fixed), "--target", "demo", "-o", "json")
    assert [f["rule"] for f in json.loads(result.stdout)["findings"]] == ["RTC803", "RTC803"]


def test_usage_errors(repo: Path, rtc: Rtc) -> None:
    assert rtc(repo, "lint", "--target", "nope").code == 2
    assert rtc(repo, "lint", "x.yaml", "--target", "demo", "--platform", "kserve").code == 2
    missing = rtc(repo, "lint", "no-such.yaml")
    assert missing.code == 1 and "no-such.yaml: no such file or folder" in missing.stdout


def test_rules_listing_and_one_rule(repo: Path, rtc: Rtc) -> None:
    listing = rtc(repo, "rules")
    assert listing.code == 0
    assert len(listing.stdout.splitlines()) == 32
    assert "RTC602  error    Containers run as non-root" in listing.stdout
    one = rtc(repo, "rules", "rtc602")
    assert one.stdout.startswith("RTC602 (error): Containers run as non-root")
    assert "lintExceptions" in one.stdout
    assert rtc(repo, "rules", "RTC999").code == 2


def test_docs_rules_check_in_the_repository(rtc: Rtc) -> None:
    result = rtc(REPO, "docs", "rules", "--check")
    assert result.code == 0, result.stderr
