"""The bad-input corpus: every case in tests/bad_inputs/ runs the real CLI on a
copy of the built bundled catalog with the case's files laid over it.

A case folder mirrors the repository: each file in it (except case.yaml) adds
or replaces that file. case.yaml says:

    args: [-q, build]          # the command (default), after --root <copy>
    engines: [rjsonnet, gojsonnet]   # run once per engine (default: rjsonnet only)
    exit: 1                    # expected exit code
    stderr: |                  # expected stderr, exactly; {root} is the copy's path, {outside} the outside folder
      ...
    stderr: {rjsonnet: ..., gojsonnet: ...}   # where the engines' own messages differ
    remove: [path, ...]        # files to delete first
    symlinks: {path: target}   # links to make; {outside} is a folder outside the copy
    expect:                    # for cases that succeed: values in the emitted YAML
      - {file: demo/x.yaml, path: [metadata, labels, a], value: 'no'}
    expect_text: {demo/x.yaml: ["a: 'no'"]}   # ...and lines of its text

A failing case also checks that out/ is byte-for-byte what it was.

Locations in the rtc library (catalog/lib/rtc.libsonnet and the platform
layers, mostly `see` lines of an error raised there) are compared as
`<file>:L:C`, so editing the library does not churn the corpus; every location
in any other file is compared exactly.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

import compiler.cli  # noqa: F401  (registers the commands on cli)
from compiler import pipeline
from compiler.cli.app import cli
from tests.conftest import copy_catalog, snapshot

CASES = Path(__file__).resolve().parent / "bad_inputs"
CASE_FILE = "case.yaml"


def _case_names() -> list[str]:
    return sorted(p.name for p in CASES.iterdir() if (p / CASE_FILE).is_file())


def invoke(root: Path, args: list[str]) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--root", str(root), *args], catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="session")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled catalog, built once for the whole session."""
    root = copy_catalog(tmp_path_factory.mktemp("bad-inputs") / "baseline")
    code, _, stderr = invoke(root, ["-q", "build"])
    assert code == 0, stderr
    return root


def lay_case(case_dir: Path, root: Path, outside: Path, spec: dict[str, Any]) -> None:
    for rel in spec.get("remove", []):
        (root / rel).unlink()
    for path in sorted(case_dir.rglob("*")):
        rel = path.relative_to(case_dir)
        if path.is_dir() or rel.as_posix() == CASE_FILE:
            continue
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, root / rel)
    for rel, target in spec.get("symlinks", {}).items():
        link = root / rel
        link.parent.mkdir(parents=True, exist_ok=True)
        if link.exists() or link.is_symlink():
            link.unlink()
        link.symlink_to(target.replace("{outside}", str(outside)))


_LIBRARY_LOCATION = re.compile(r"\b(catalog/lib/(?:rtc|platforms/[\w-]+)\.libsonnet):\d+(?::\d+)?")


def mask_library_lines(text: str) -> str:
    return _LIBRARY_LOCATION.sub(r"\1:L:C", text)


def dig(data: Any, path: list[Any]) -> Any:
    for key in path:
        data = data[key]
    return data


@pytest.fixture
def one_job(monkeypatch: pytest.MonkeyPatch) -> None:
    """One worker at a time, the same code path as `rtc build -j1`: the cases run
    side by side with nothing else competing. (Output across worker counts is
    compared in test_determinism.py.)"""
    monkeypatch.setattr(pipeline, "default_jobs", lambda count: 1)


@pytest.mark.parametrize("name", _case_names())
def test_bad_input(name: str, baseline: Path, tmp_path: Path, one_job: None) -> None:
    case_dir = CASES / name
    spec = yaml.safe_load((case_dir / CASE_FILE).read_text(encoding="utf-8"))
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("not for rtc\n", encoding="utf-8")
    for engine in spec.get("engines", ["rjsonnet"]):
        root = tmp_path / f"repo-{engine}"
        shutil.copytree(baseline, root, symlinks=True)
        lay_case(case_dir, root, outside, spec)
        before = snapshot(root / "out")
        code, stdout, stderr = invoke(root, ["--engine", engine, *spec.get("args", ["-q", "build"])])
        wanted = spec["stderr"] if isinstance(spec["stderr"], str) else spec["stderr"][engine]
        expected = wanted.replace("{root}", str(root)).replace("{outside}", str(outside))
        assert (code, mask_library_lines(stderr)) == (spec["exit"], expected), f"{name} with {engine}\n{stderr}"
        if "stdout" in spec:
            assert stdout == spec["stdout"]
        if spec["exit"] != 0:
            assert snapshot(root / "out") == before, f"{name}: out/ changed"
        for check in spec.get("expect", []):
            emitted = yaml.safe_load((root / "out" / check["file"]).read_text(encoding="utf-8"))
            assert dig(emitted, check["path"]) == check["value"], check
        for rel, lines in spec.get("expect_text", {}).items():
            text = (root / "out" / rel).read_text(encoding="utf-8").splitlines()
            assert all(any(line.strip() == wanted for line in text) for wanted in lines), (rel, lines)
        assert (outside / "secret.txt").read_text(encoding="utf-8") == "not for rtc\n"


def test_the_corpus_is_large_enough() -> None:
    assert len(_case_names()) >= 50
