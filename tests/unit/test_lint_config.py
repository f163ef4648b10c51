"""rtc.toml's [lint] table, the platform profiles, and shellcheck's absence."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from compiler import shellcheck
from compiler.diagnostics import Severity
from compiler.lint import DEFAULT_SEVERITY, load_lint_config
from compiler.project import Project, ProjectError
from compiler.rules import RULES


def project(toml: str) -> Project:
    return Project(root=Path("/nonexistent"), settings=tomllib.loads(toml))


def test_defaults_cover_every_rule() -> None:
    assert set(DEFAULT_SEVERITY) == set(RULES)
    config = load_lint_config(project(""))
    assert config.severity_of("RTC602") is Severity.ERROR
    assert config.platform == "alauda"
    assert config.options.min_startup_seconds == 600


def test_settings() -> None:
    config = load_lint_config(
        project(
            """
[lint]
platform = "kserve"
min-startup-seconds = 900
moving-tags = ["latest", "fast"]
shellcheck-exclude = ["SC2086"]
[lint.severity]
RTC504 = "error"
RTC505 = "off"
[lint.platform-annotations]
kserve = ["model-repo"]
"""
        )
    )
    assert config.severity_of("RTC504") is Severity.ERROR
    assert config.severity_of("RTC505") is None
    assert config.options.moving_tags == ("latest", "fast")
    assert config.options.shellcheck_exclude == ("SC2086",)
    assert config.profile("kserve").platform_annotations == ("model-repo",)
    assert config.profile("alauda").platform_annotations == ("aml-model-repo", "aml-pipeline-tag")
    assert config.profile("odh").json_templates  # no profile: upstream KServe's behaviour


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[lint.severity]\nRTC602 = "fatal"', "[lint.severity] RTC602 = 'fatal'; use one of error, warning, info, off"),
        ('[lint.severity]\nRTC620 = "off"', "names 'RTC620', which is not a rule; did you mean RTC602?"),
        ("[lint]\nmin-startup-seconds = -1", "min-startup-seconds must be a whole number of seconds"),
        ('[lint]\nshellcheck-exclude = ["2086"]', "codes look like SC2086"),
        ("[lint]\nplatfrom = 'x'", "unknown key [lint] platfrom"),
    ],
)
def test_bad_settings(toml: str, message: str) -> None:
    with pytest.raises(ProjectError) as caught:
        load_lint_config(project(toml))
    assert message in str(caught.value)


def test_missing_shellcheck_is_reported_not_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shellcheck, "shellcheck_binary", lambda: None)
    report = shellcheck.check_scripts([("bash", "echo 'never checked before'\n")])
    assert report.problem is not None and "shellcheck is not installed" in report.problem
