"""`rtc server start|stop|status`: the build server (compiler/server.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import click

from compiler import server
from compiler.cli.app import EXIT_FINDINGS, Context, cli

_START_SECONDS = 30.0


@cli.group("server")
def server_group() -> None:
    """Keep the compiler loaded between commands, for fast builds while editing.

    \b
    Every rtc command spends ~0.2 s loading Python, the compiler and its
    schemas before it does anything. With a server running, rtc commands
    run in a fork of it instead: same output, exit codes and files, in a
    fraction of the time. It serves only this compiler (an edit to rtc
    itself, or another virtualenv, is not served) and only you, and exits
    after --idle seconds without a command.

    \b
    Examples:
      rtc server start     # then edit, `rtc build`, edit, `rtc build`, ...
      rtc server status
      rtc server stop
    """


@server_group.command("start")
@click.option(
    "--idle",
    type=click.FloatRange(min=1),
    default=server.IDLE_SECONDS,
    show_default=True,
    help="Exit after this many seconds without a command.",
)
@click.pass_obj
def start_command(ctx: Context, idle: float) -> None:
    """Start the server in the background (nothing happens if one is running)."""
    running = server.request("status")
    if running is not None and running.get("answer") == "status":
        ctx.info(f"server already running (pid {running['pid']}, {server.socket_path()})")
        return
    path = server.socket_path()
    folder = os.path.dirname(path)
    os.makedirs(folder, mode=0o700, exist_ok=True)
    log_path = path[: -len(".sock")] + ".log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "compiler.server", "--socket", path, "--idle", str(idle)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            cwd="/",
            start_new_session=True,
            env={k: v for k, v in os.environ.items() if k != "RTC_NO_SERVER"},
        )
    deadline = time.monotonic() + _START_SECONDS
    while time.monotonic() < deadline:
        status = server.request("status")
        if status is not None and status.get("answer") == "status":
            ctx.info(f"server started (pid {status['pid']}, {path}; exits after {idle:g}s idle)")
            return
        if process.poll() is not None:
            break
        time.sleep(0.05)
    click.echo(f"rtc: error: the server did not start; its log: {log_path}", err=True)
    sys.exit(EXIT_FINDINGS)


@server_group.command("stop")
@click.pass_obj
def stop_command(ctx: Context) -> None:
    """Stop the server once the commands it is running have finished."""
    answer = server.request("stop")
    if answer is None or answer.get("answer") != "stopping":
        ctx.info("no server running for this compiler")
        return
    path = server.socket_path()
    deadline = time.monotonic() + _START_SECONDS
    while os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(0.02)
    ctx.info(f"server stopped (pid {answer['pid']})")


@server_group.command("status")
def status_command() -> None:
    """Say whether a server runs for this compiler; exit 1 if none does."""
    status = server.request("status")
    if status is None or status.get("answer") != "status":
        click.echo("no server running for this compiler")
        sys.exit(EXIT_FINDINGS)
    since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(status["started"]))
    click.echo(f"server running: pid {status['pid']}, since {since}, {status['served']} commands served")
    click.echo(f"socket: {server.socket_path()}")
