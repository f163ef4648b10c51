"""rtc starts without importing what the command does not need.

`rtc --help` lists every command from compiler/cli/__init__.py's table without
importing any command; a no-op build (every target from the cache) loads no
render stage (validation, lint and its rules); a build that renders loads them
once, in the parent, so that the forked workers inherit them. Which modules a
process loaded is what these tests check; how long that takes is measured in
docs/performance.md, never here.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import click
import pytest

from compiler.cli import COMMANDS
from compiler.cli.app import cli
from tests.conftest import Run

RtcRunner = Callable[..., Run]
# Loaded by rendering a target, never by a build whose targets all come from the cache.
RENDER_STAGES = ("compiler.validation", "compiler.validation.rendered", "compiler.lint_inputs", "compiler.rules")
# Loaded by no command but their own.
COMMAND_ONLY = ("compiler.docs_rules", "compiler.docs_catalog", "compiler.diff", "compiler.explain", "compiler.lint")

LOADED_MODULES = """
import sys
from compiler.cli import cli
code = 0
try:
    cli(sys.argv[1:], prog_name="rtc")
except SystemExit as exc:
    code = exc.code
print("\\n".join(sorted(sys.modules)), file=sys.stderr)
sys.exit(code)
"""


def loaded_modules(*args: str, cwd: Path | None = None) -> tuple[set[str], str]:
    """The modules an rtc process imported to run `args` (which must succeed), and its stdout."""
    proc = subprocess.run(
        [sys.executable, "-c", LOADED_MODULES, *args], capture_output=True, text=True, check=True, cwd=cwd
    )
    return set(proc.stderr.split()), proc.stdout


def test_the_command_table_names_every_command_with_its_own_summary() -> None:
    for module in sorted({command.module for command in COMMANDS.values()}):
        importlib.import_module(module)
    assert sorted(cli.commands) == sorted(COMMANDS)
    for name, lazy in COMMANDS.items():
        command = cli.commands[name]
        assert command.callback is not None and command.callback.__module__ == lazy.module, name
        stand_in = click.Command(name, help=lazy.summary)
        for limit in (20, 45, 70, 120):
            assert stand_in.get_short_help_str(limit) == command.get_short_help_str(limit), (name, limit)


def test_help_lists_every_command_without_importing_one() -> None:
    modules, out = loaded_modules("--help")
    for name, lazy in COMMANDS.items():
        assert f"  {name} " in out
        assert lazy.module not in modules
    assert not modules & {"compiler.pipeline", *RENDER_STAGES, *COMMAND_ONLY}


def test_a_command_imports_its_own_module_only() -> None:
    modules, out = loaded_modules("validate", "--help")
    assert "Validate Kubernetes manifests offline" in out
    assert "compiler.cli.validate" in modules
    assert not modules & {"compiler.cli.build", "compiler.cli.lint", "compiler.cli.docs", *COMMAND_ONLY}


def test_a_no_op_build_loads_no_render_stage(repo: Path, rtc: RtcRunner) -> None:
    first = rtc(repo, "build")
    assert first.code == 0, first.stderr
    modules, _ = loaded_modules("--root", str(repo), "build", cwd=repo)
    assert "compiler.pipeline" in modules
    assert not modules & {*RENDER_STAGES, *COMMAND_ONLY, "compiler.workers", "compiler.watchdog"}
    again = rtc(repo, "build")  # answered from the build stamp (tests/test_stamp.py)
    assert "demo: 8 objects (unchanged)" in again.stderr


@pytest.mark.parametrize("prefork", [True, False], ids=["helper", "no-helper"])
def test_forked_workers_inherit_the_render_stages(repo: Path, prefork: bool) -> None:
    """-X importtime reports each import in the process that makes it, forked workers included:
    a stage imported in a worker too would be reported once per target. With the start-up
    helper (compiler/prefork.py) the stages load there, and the parent loads validation
    for the GitOps folders it validates itself; without it, the parent loads them all once."""
    env = {**os.environ, **({} if prefork else {"RTC_NO_PREFORK": "1"})}
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "compiler", "--root", str(repo), "build", "--no-cache", "-j", "2"],
        capture_output=True,
        text=True,
        check=False,
        cwd=repo,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    assert "rtc: demo: 8 objects" in proc.stderr and "rtc: prod-airgap:" in proc.stderr
    imports = [line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")]
    expected = dict.fromkeys(RENDER_STAGES, 1)
    if prefork:
        expected.update({"compiler.validation": 2, "compiler.validation.rendered": 2})
    assert {stage: imports.count(stage) for stage in RENDER_STAGES} == expected


PYTHON_EXIT = "import sys\nfrom compiler.cli import main\nmain()\n"


@pytest.mark.parametrize(
    "args",
    [
        ("show", "demo"),  # a lot of output, through a pipe
        ("build", "--check"),  # out/ is stale in a fresh copy: exit 1
        ("no-such-command",),  # a usage error: exit 2
        ("show", "no-such-cluster"),
    ],
)
def test_exiting_without_teardown_keeps_the_status_and_every_byte(repo: Path, args: tuple[str, ...]) -> None:
    """compiler/startup.py ends the process with os._exit; what a caller sees must be
    what the interpreter's own exit gives: the same status, stdout and stderr."""
    env = {**os.environ, "RTC_NO_SERVER": "1", "RTC_NO_STAMP": "1"}
    fast, slow = (
        subprocess.run(
            [sys.executable, *entry, "--root", str(repo), "-q", *args],
            capture_output=True,
            env=env,
            timeout=120,
            check=False,
        )
        for entry in (("-m", "compiler"), ("-c", PYTHON_EXIT))
    )
    assert (fast.returncode, fast.stdout, fast.stderr) == (slow.returncode, slow.stdout, slow.stderr)
    assert fast.returncode in {0, 1, 2}
    if args == ("show", "demo"):
        assert fast.returncode == 0 and len(fast.stdout) > 10_000
