"""shellcheck results are shared through the user cache folder: each cluster renders in its own process."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from compiler import shellcheck

SCRIPTS = [("bash", "#!/bin/bash\ncd /tmp\n"), ("bash", '#!/bin/bash\nset -eu\necho "$1"\n'), ("sh", "cd /\n")]


def test_results_come_back_from_disk_identical_and_without_running_shellcheck(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RTC_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(shellcheck, "_CACHE", {})
    first = shellcheck.check_scripts(SCRIPTS)
    assert first.problem is None
    assert [f.code for f in first.of("bash", SCRIPTS[0][1])] == [2164]  # cd without || exit: shellcheck ran
    assert len(list((tmp_path / "shellcheck").glob("*.json"))) == 3

    # A new process: nothing in memory, and shellcheck must not run again.
    monkeypatch.setattr(shellcheck, "_CACHE", {})

    def no_run(*args: object, **kwargs: object) -> subprocess.CompletedProcess[str]:
        raise AssertionError("shellcheck ran although every script was in the cache")

    monkeypatch.setattr(subprocess, "run", no_run)
    second = shellcheck.check_scripts(SCRIPTS)
    assert second.findings == first.findings


def test_a_broken_cache_file_is_ignored_and_rewritten(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RTC_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(shellcheck, "_CACHE", {})
    reference = shellcheck.check_scripts(SCRIPTS[:1])
    (cached,) = (tmp_path / "shellcheck").glob("*.json")
    for broken in ("", "{not json", '[{"line": "x"}]', '{"a": 1}'):
        cached.write_text(broken)
        monkeypatch.setattr(shellcheck, "_CACHE", {})
        assert shellcheck.check_scripts(SCRIPTS[:1]).findings == reference.findings, broken
        assert cached.read_text() != broken
