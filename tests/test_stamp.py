"""The build stamp: a no-op build is answered before the compiler loads, and never when a build would differ.

What is checked: the answer (printed lines, exit code) is the full build's; the
stamp says "current" only when a full build would neither write nor print
anything else (after every kind of edit, and after random edit sequences);
files racily written in the horizon's tick are judged by their bytes. How fast
the answer is, is measured in bench/ (docs/performance.md), never here.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

import compiler.cli  # noqa: F401  (registers the commands on cli)
from compiler import fingerprint, stamp, startup
from compiler.cli.app import cli
from compiler.output import LOCK_NAME, STAGING_PREFIX
from tests.conftest import copy_catalog, snapshot
from tests.test_cache import _edit
from tests.test_output_safety import HOLD_LOCK

# Runs rtc's real entry point and lists, after it, every module the process loaded.
MODULES_AFTER = """
import sys
from compiler.startup import run
code = run(sys.argv[1:])
print("\\n".join(sorted(sys.modules)))
sys.exit(code)
"""
# What answering from the stamp must not load: the CLI, the pipeline, the cache, YAML, OpenSSL.
NOT_LOADED = ("click", "compiler.cli", "compiler.pipeline", "compiler.cache", "compiler.output", "yaml", "hashlib")
TIMING = re.compile(r"\([0-9]+ files, [0-9.]+s\)$")


def entry_point(root: Path, *args: str, no_stamp: bool = False) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "RTC_NO_STAMP"}
    if no_stamp:
        env["RTC_NO_STAMP"] = "1"
    return subprocess.run(
        [sys.executable, "-c", MODULES_AFTER, "--root", str(root), *args],
        capture_output=True,
        text=True,
        cwd=root,
        env=env,
        check=False,
    )


def comparable(stderr: str) -> list[str]:
    """Printed lines with the timing taken out, and the cache's wording of an unchanged target made the stamp's."""
    return [
        TIMING.sub("(timing)", line.replace("(unchanged, from the cache)", "(unchanged)"))
        for line in stderr.splitlines()
    ]


def full_build(root: Path, *args: str) -> tuple[int, str]:
    """`rtc build` through click, in-process: always the full build (it records a stamp when it succeeds)."""
    result = CliRunner().invoke(cli, ["--root", str(root), "build", *args], catch_exceptions=False)
    return result.exit_code, result.stderr


def answer(root: Path, *args: str) -> stamp.Verdict | None:
    return stamp.check(str(root), None) if not args else stamp.check(str(root), args[0])


@pytest.fixture
def built(repo: Path) -> Path:
    code, stderr = full_build(repo)
    assert code == 0, stderr
    return repo


def test_a_no_op_build_is_answered_from_the_stamp_without_loading_the_compiler(built: Path) -> None:
    done = entry_point(built, "build")
    assert done.returncode == 0, done.stderr
    loaded = set(done.stdout.split())
    assert "compiler.stamp" in loaded
    assert not {m for m in loaded for name in NOT_LOADED if m == name or m.startswith(name + ".")}
    assert comparable(done.stderr) == [
        "rtc: demo: 8 objects (unchanged)",
        "rtc: prod-airgap: 3 objects (unchanged)",
        "rtc: out/ is current (timing)",
    ]
    # The full build, asked to ignore the stamp, says the same.
    full = entry_point(built, "build", no_stamp=True)
    assert full.returncode == 0 and "compiler.pipeline" in full.stdout.split()
    assert comparable(full.stderr) == comparable(done.stderr)


def test_the_stamp_prints_the_diagnostics_and_kept_files_of_the_full_build(built: Path) -> None:
    runtime = built / "catalog/xinference/main.libsonnet"
    runtime.write_text(runtime.read_text().replace(", autoSelect: false }", " }"))  # RTC505, an info
    (built / "out/NOTES.md").write_text("hand-written\n")
    code, _ = full_build(built)
    assert code == 0
    full = entry_point(built, "build", no_stamp=True)
    answered = entry_point(built, "build")
    assert "compiler.pipeline" not in answered.stdout.split()
    assert answered.returncode == full.returncode == 0
    assert comparable(answered.stderr) == comparable(full.stderr)
    assert any("[RTC505]" in line for line in answered.stderr.splitlines())
    assert "rtc: kept out/NOTES.md (not written by rtc)" in answered.stderr.splitlines()
    quiet = entry_point(built, "-q", "build")
    assert comparable(quiet.stderr) == comparable(entry_point(built, "-q", "build", no_stamp=True).stderr)
    assert "RTC505" in quiet.stderr and "rtc: " not in quiet.stderr


def test_check_is_answered_too_and_writes_nothing(built: Path) -> None:
    def state() -> dict[str, tuple[int, int, int]]:
        return {
            p.relative_to(built).as_posix(): (p.lstat().st_ino, p.lstat().st_mtime_ns, p.lstat().st_size)
            for p in sorted(built.rglob("*"))
        }

    before = state()
    done = entry_point(built, "build", "--check")
    assert done.returncode == 0 and "compiler.pipeline" not in done.stdout.split()
    assert comparable(done.stderr)[-1] == "rtc: out/ is current (timing)"
    assert state() == before


# ------------------------------------------------------------------- what must make the full build run


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _same_size_edit(path: Path) -> None:
    data = path.read_bytes()
    index = data.index(b"a")
    path.write_bytes(data[:index] + b"b" + data[index + 1 :])


def _link_instead(root: Path) -> None:
    path = root / "out/demo/kustomization.yaml"
    path.unlink()
    path.symlink_to("../flux/kustomization.yaml")


def _new_service(root: Path) -> None:
    example = sorted((root / "overlays/demo/services").iterdir())[0]
    _write(root / "overlays/prod-airgap/services/x.yaml", example.read_text())


EDITS: dict[str, Callable[[Path], object]] = {
    "a runtime": lambda r: _write(
        r / "catalog/vllm/main.libsonnet", (r / "catalog/vllm/main.libsonnet").read_text() + "// edit\n"
    ),
    "a script, same size": lambda r: _same_size_edit(r / "catalog/vllm/startup.sh"),
    "rtc.toml": lambda r: _write(r / "rtc.toml", (r / "rtc.toml").read_text() + "# edit\n"),
    "a new overlay": lambda r: shutil.copy(r / "overlays/demo.jsonnet", r / "overlays/edge.jsonnet"),
    "a removed overlay": lambda r: (r / "overlays/prod-airgap.jsonnet").unlink(),
    "an import that now resolves elsewhere": lambda r: shutil.copytree(
        r / "catalog/lib", r / "overlays/catalog/lib", dirs_exist_ok=True
    ),
    "a new InferenceService": _new_service,
    "an out/ file, same size": lambda r: _same_size_edit(r / "out/demo/kustomization.yaml"),
    "an out/ file deleted": lambda r: (r / "out/demo/kustomization.yaml").unlink(),
    "an out/ file made a link": _link_instead,
    "a hand-written file in out/": lambda r: _write(r / "out/demo/NOTES.md", "mine\n"),
    "the index": lambda r: _same_size_edit(r / "out/.rtc-index.json"),
    "a killed build's staging tree": lambda r: (r / f"{STAGING_PREFIX}4242").mkdir(),
    "a killed build's backup": lambda r: (r / "out.rtc-previous").mkdir(),
    "the stamp itself": lambda r: _write(r / ".rtc-cache/build.stamp", "garbage"),
}


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_any_change_makes_the_full_build_run(built: Path, edit: str) -> None:
    assert answer(built) is not None
    EDITS[edit](built)
    assert answer(built) is None


def test_another_engine_a_held_lock_or_another_compiler_make_the_full_build_run(
    built: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert answer(built, "rjsonnet") is not None
    assert answer(built, "gojsonnet") is None
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(built / LOCK_NAME), "30"], stdout=subprocess.PIPE)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"locked\n"
        assert answer(built) is None  # the full build waits for the lock, or says who holds it
    finally:
        holder.kill()
        holder.wait()
    assert answer(built) is not None
    monkeypatch.setattr(stamp, "compiler_description", lambda: fingerprint.compiler_description() + "\0changed")
    assert answer(built) is None


def test_what_keeps_the_bytes_keeps_the_answer(built: Path, tmp_path: Path) -> None:
    for path in [
        built / "catalog/vllm/startup.sh",
        built / "out/demo/kustomization.yaml",
        built / "out/.rtc-index.json",
    ]:
        os.utime(path)  # touched: a checkout rewrote it with the same bytes
    (built / "README.md").write_text("not read by any build\n")
    assert answer(built) is not None
    copy = tmp_path / "copy"
    shutil.copytree(built, copy, symlinks=True)  # other inodes, same bytes
    assert answer(copy) is not None


def test_a_file_written_in_the_horizons_tick_is_judged_by_its_bytes(tmp_path: Path) -> None:
    path = tmp_path / "file"
    path.write_text("rtc wrote this\n")
    info = path.lstat()
    digest = stamp.sha256_of(str(path))
    racy = stamp.entry_of(info, digest, horizon_ns=info.st_mtime_ns)  # written in the horizon's tick
    settled = stamp.entry_of(info, digest, horizon_ns=info.st_mtime_ns + 1)
    assert racy is not None and settled is not None and not racy[6] and settled[6]
    assert stamp._holds(racy, str(path)) and stamp._holds(settled, str(path))
    # Another write in the same tick could leave the stat as it was; pretend it did.
    path.write_text("someone else's\n")
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    now = path.lstat()
    same_stat = (now.st_size, now.st_ino, now.st_mtime_ns, now.st_ctime_ns)
    assert not stamp._holds((*racy[:1], *same_stat, *racy[5:]), str(path), now)
    assert stamp._holds((*settled[:1], *same_stat, *settled[5:]), str(path), now)  # what the horizon rules out


def test_the_entry_point_recognizes_only_the_builds_the_stamp_answers() -> None:
    for args in (
        ["build"],
        ["-q", "build", "--check"],
        ["--root", "x", "--engine", "rjsonnet", "build", "-j", "2", "--lock-timeout", "5"],
        ["--root=x", "--quiet", "build", "-j2", "--jobs=3", "--lock-timeout=0"],
    ):
        assert startup.parse_build(args) is not None, args
    for args in (
        [],
        ["show", "demo"],
        ["build", "--target", "demo"],
        ["build", "--no-cache"],
        ["build", "--help"],
        ["--engine", "jsonnet", "build"],
        ["build", "-j", "0"],
        ["build", "-j=2"],
        ["build", "--lock-timeout", "-1"],
        ["build", "--root", "x"],
        ["--version"],
    ):
        assert startup.parse_build(args) is None, args


# ------------------------------------------------------------------- random edit sequences


def _out_edit(root: Path, rng: random.Random, step: int) -> str:
    """An edit of out/ or of nothing a build reads."""
    kind = rng.choice(["touch-source", "touch-out", "out-file", "foreign", "nothing"])
    if kind == "touch-source":
        os.utime(rng.choice(sorted((root / "catalog").rglob("*.sh"))))
    elif kind == "touch-out":
        os.utime(rng.choice(sorted((root / "out").rglob("*.yaml"))))
    elif kind == "out-file":
        files = sorted((root / "out").rglob("*.yaml"))
        if files:
            _same_size_edit(rng.choice(files))
    elif kind == "foreign":
        _write(root / f"out/notes-{step}.md", "mine\n")
    return kind


@pytest.mark.parametrize("seed", [1, 2])
def test_the_stamp_answers_only_when_the_full_build_would_change_nothing(tmp_path: Path, seed: int) -> None:
    root = copy_catalog(tmp_path / "repo")
    rng = random.Random(seed)
    assert full_build(root)[0] == 0
    answered = 0
    for step in range(14):
        kind = _edit(root, rng, step) if rng.random() < 0.5 else _out_edit(root, rng, step)
        verdict = answer(root)
        before = snapshot(root / "out")
        code, stderr = full_build(root, "-j", "2")
        if verdict is not None:
            answered += 1
            assert code == 0, (seed, step, kind, stderr)
            assert snapshot(root / "out") == before, (seed, step, kind)
            lines = comparable(stderr)
            assert lines[-1] == "rtc: out/ is current (timing)", (seed, step, kind, stderr)
            printed = [f"rtc: {line}" for line in verdict.progress] + verdict.diagnostics
            printed += [f"rtc: kept out/{rel} (not written by rtc)" for rel in verdict.kept]
            assert comparable("\n".join(printed)) == lines[:-1], (seed, step, kind)
    assert answered, "no step was answered from the stamp: the test proves nothing"


def test_the_plan_takes_the_stamps_digests_only_for_files_still_as_recorded(
    built: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build plans against out/ without reading the files the stamp vouches for; a file whose
    stat changed (edited by hand, same size) is read, found changed and written again."""
    known = stamp.settled_digests(str(built), "out")
    owned = sorted(p.relative_to(built / "out").as_posix() for p in (built / "out").rglob("*") if p.is_file())
    # Every file the build wrote is vouched for, unless written in the horizon's tick.
    assert known and set(known) <= set(owned)
    target = built / "out/demo/kustomization.yaml"
    original = target.read_bytes()
    assert known["demo/kustomization.yaml"] == stamp.sha256_of(str(target))
    target.write_bytes(original.replace(b"a", b"b", 1) if b"a" in original else b"x" + original[1:])
    vouched = stamp.settled_digests(str(built), "out")
    assert "demo/kustomization.yaml" not in vouched
    assert stamp.settled_digests(str(built), "elsewhere") == {}

    from compiler import output

    read: list[str] = []
    real_read = output._read_current

    def reading(out_dir: Path, rel: str) -> bytes | None:
        read.append(rel)
        return real_read(out_dir, rel)

    monkeypatch.setattr(output, "_read_current", reading)
    code, stderr = full_build(built)
    assert code == 0, stderr
    assert "1 changed" in stderr
    assert target.read_bytes() == original
    # Read: the edited file and whatever the stamp did not vouch for; the rest compared by digest.
    assert "demo/kustomization.yaml" in read
    assert set(read) == set(owned) - set(vouched) - {".rtc-index.json"}
