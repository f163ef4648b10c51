"""Golden end-to-end cases: small repositories built by the real CLI, compared byte for byte."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import REPO, Run, snapshot

CASES = REPO / "tests" / "cases"
CASE_DIRS = sorted(p for p in CASES.iterdir() if (p / "input").is_dir())


def prepare(case: Path, dest: Path) -> Path:
    shutil.copytree(case / "input", dest)
    shutil.copytree(REPO / "catalog" / "lib", dest / "catalog" / "lib")
    return dest


@pytest.mark.parametrize("case", CASE_DIRS, ids=lambda p: p.name)
def test_case(case: Path, tmp_path: Path, rtc: Callable[..., Run]) -> None:
    repo = prepare(case, tmp_path / "repo")
    result = rtc(repo, "build")
    assert result.code == 0, result.stderr
    actual = snapshot(repo / "out")
    expected_dir = case / "expected"
    if os.environ.get("RTC_UPDATE_GOLDEN"):
        shutil.rmtree(expected_dir, ignore_errors=True)
        shutil.copytree(repo / "out", expected_dir)
    expected = snapshot(expected_dir)
    assert sorted(actual) == sorted(expected)
    for name, data in expected.items():
        assert actual[name].decode() == data.decode(), name


def test_cases_exist() -> None:
    assert len(CASE_DIRS) >= 2
