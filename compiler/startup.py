"""rtc's entry point: a no-op `rtc build` is answered from the build stamp before anything loads.

`rtc build` and `rtc build --check` with nothing changed since the last
successful build are the commands run most often (after every edit, by
`make check`, by a pre-commit hook). This module, with the standard library
and compiler/stamp.py only, recognizes them, checks the stamp and prints what
the full build would print. Anything else (another command, an option it does
not know, a stamp that does not hold) goes to the click CLI (compiler/cli/),
which does the real work (in a build server's fork if one runs for this
compiler: compiler/server.py); so does a build with RTC_NO_STAMP set.
"""

from __future__ import annotations

import os
import sys
import time

from compiler.repository import CONFIG_NAME, RepositoryNotFound, find_root

ENGINES = ("rjsonnet", "gojsonnet")


class BuildRequest:
    """The parts of an `rtc build` command line the stamp answers for."""

    def __init__(self) -> None:
        self.root: str | None = None
        self.engine: str | None = None
        self.quiet = False
        self.check = False


def _value(args: list[str], i: int, name: str) -> tuple[str, int] | None:
    """The value of option `name` at args[i] ("--name=v" or "--name v") and the next index."""
    arg = args[i]
    if arg.startswith(name + "="):
        return arg[len(name) + 1 :], i + 1
    if arg == name and i + 1 < len(args):
        return args[i + 1], i + 2
    return None


def parse_build(args: list[str]) -> BuildRequest | None:
    """`[--root R] [--engine E] [-q] build [--check] [-j N] [--lock-timeout S]`, or None for anything else."""
    request = BuildRequest()
    i = 0
    while i < len(args) and args[i] != "build":
        arg = args[i]
        if arg in ("-q", "--quiet"):
            request.quiet, i = True, i + 1
            continue
        for name in ("--root", "--engine"):
            found = _value(args, i, name)
            if found is not None:
                value, i = found
                if name == "--root":
                    request.root = value
                elif value in ENGINES:
                    request.engine = value
                else:
                    return None
                break
        else:
            return None
    if i == len(args):
        return None
    i += 1
    while i < len(args):
        arg = args[i]
        if arg == "--check":
            request.check, i = True, i + 1
            continue
        if arg.startswith("-j") and arg not in ("-j", "--jobs") and not arg.startswith("--"):
            jobs, i = arg[2:], i + 1
        elif (found := _value(args, i, "--jobs") or _value(args, i, "-j")) is not None:
            jobs, i = found
        elif (found := _value(args, i, "--lock-timeout")) is not None:
            timeout, i = found
            try:
                if not 0 <= float(timeout) < float("inf"):
                    return None
            except ValueError:
                return None
            continue
        else:
            return None
        if not (jobs.isdigit() and int(jobs) >= 1):
            return None
    return request


def _root(request: BuildRequest) -> str | None:
    """The repository as compiler.project.load_project finds it (os.path: pathlib takes 9 ms to import)."""
    if request.root is not None:
        root = os.path.realpath(request.root)
        return root if os.path.isfile(os.path.join(root, CONFIG_NAME)) else None
    try:
        return find_root(os.path.realpath(os.getcwd()))
    except RepositoryNotFound:
        return None


def answer_from_stamp(args: list[str], started: float) -> int | None:
    """The exit code of a no-op build answered from the stamp, or None: run the CLI."""
    if os.environ.get("RTC_NO_STAMP"):
        return None
    request = parse_build(args)
    if request is None:
        return None
    from compiler import stamp

    try:
        root = _root(request)
        verdict = stamp.check(root, request.engine) if root is not None else None
    except (OSError, ValueError):  # anything unreadable: the full build says what and where
        return None
    if verdict is None:
        return None
    lines = [] if request.quiet else [f"rtc: {line}" for line in verdict.progress]
    lines.extend(verdict.diagnostics)
    if not request.quiet:
        lines.extend(f"rtc: kept {verdict.out}/{rel} (not written by rtc)" for rel in verdict.kept)
        elapsed = time.perf_counter() - started
        lines.append(f"rtc: {verdict.out}/ is current ({verdict.files} files, {elapsed:.2f}s)")
    if lines:
        sys.stderr.write("\n".join(lines) + "\n")
        sys.stderr.flush()
    return 0


def main() -> None:
    """The `rtc` command: run it, then end the process without the interpreter's teardown."""
    exit_now(run(sys.argv[1:]))


def run(args: list[str]) -> object:
    """Run one rtc command line; its exit status, as `SystemExit` would carry it."""
    started = time.perf_counter()
    code = answer_from_stamp(args, started)
    if code is not None:
        return code
    # A build server for this compiler (`rtc server start`) runs the command with everything loaded.
    from compiler.server import command_of, connect_and_run

    code = connect_and_run(args)
    if code is not None:
        return code
    if command_of(args) == "build":
        # The render stages load in a helper while this process loads the CLI and the project.
        from compiler import prefork

        prefork.start()
    import compiler.cli  # noqa: F401  (registers the commands on the group)
    from compiler.cli.app import cli

    try:
        cli(args, prog_name="rtc")
    except SystemExit as exc:
        return exc.code
    return 0


def exit_now(status: object) -> None:
    """Exit as Python would once a command has returned, without tearing the interpreter
    down: freeing a build's objects one by one (every render, every file of out/) took
    35-60 ms after the last line of a fleet build was printed. The atexit handlers still
    run (they stop helper processes) and the output is flushed; a failed flush exits
    120, as Python does."""
    import atexit

    if status is None:
        code = 0
    elif isinstance(status, int):
        code = status
    else:
        sys.stderr.write(f"{status}\n")
        code = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            code = code or 120
    os._exit(code)
