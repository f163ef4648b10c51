"""The build server: rtc commands run in a process that has the compiler loaded already.

Every `rtc` run pays for Python, click, the compiler's modules and the
render stages (validation with its compiled schemas, lint and its rules,
PyYAML) before it does any work: ~0.2 s, about as much as rendering the
five clusters one runtime edit touches. `rtc server start` starts a
background process that loads all of that once and then, for each command,
forks a child that runs the command as `rtc` would: in the caller's folder,
with its environment, arguments and umask, writing straight to the caller's
terminal (stdin, stdout and stderr are passed over the socket, SCM_RIGHTS).
The child is a fresh fork of a server that never runs a command itself, so
no state carries from one command to the next.

The client (`connect_and_run`, called by compiler/startup.py before click
loads; standard library only) is used only when such a server is running
for exactly this compiler: the socket's name is derived from the compiler's
description (its files, installed distributions, Python) and the user cache
folder, and the server compares the full description with the client's on
every request, refusing a request from another compiler ("stale"), after
which the command runs in-process as always. Anything unexpected on the
way (no socket, a refused or broken connection) also runs the command
in-process: the server only ever saves time.

Linux only (pidfd_open, SO_PEERCRED). The socket lives in a folder only the
user can enter ($XDG_RUNTIME_DIR/rtc, else /tmp/rtc-<uid>) and the server
serves only its own user. A signal to the client (Ctrl-C) is passed on to
the command; a client that disappears takes its command with it. The server
exits after `--idle` seconds without a command (default 15 minutes), on
`rtc server stop`, or on SIGTERM.
"""

from __future__ import annotations

# contextlib: loaded by compiler/fingerprint.py, which the client needs anyway.
import contextlib
import os
import sys

# Not `typing.TYPE_CHECKING`: this module is imported at the start of `rtc` (typing: 5 ms).
TYPE_CHECKING = False
if TYPE_CHECKING:
    import socket
    from typing import Any

IDLE_SECONDS = 900.0
_MESSAGE_LIMIT = 1 << 20
_FORWARDED_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT")
# What the user cache is, besides the compiler: the schemas and shellcheck results a server
# prepared belong to it, so another cache folder gets another server.
_CACHE_VARIABLES = ("RTC_CACHE_DIR", "XDG_CACHE_HOME", "HOME")


def socket_dir() -> str:
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isdir(runtime):
        return os.path.join(runtime, "rtc")
    return os.path.join("/tmp", f"rtc-{os.getuid()}")


def _private(folder: str) -> bool:
    """Whether `folder` is a real folder of this user that nobody else can enter."""
    try:
        info = os.lstat(folder)
    except OSError:
        return False
    import stat

    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and not info.st_mode & 0o077


def description() -> str:
    """What a server must have been started with to serve this process."""
    from compiler.fingerprint import compiler_description

    cache = "\0".join(f"{name}={os.environ.get(name, '')}" for name in _CACHE_VARIABLES)
    return compiler_description() + "\0cache\0" + cache + "\0python\0" + sys.executable


def socket_path(text: str | None = None) -> str:
    import zlib

    data = (description() if text is None else text).encode("utf-8", "surrogateescape")
    # Only where to look: the server compares the whole description on every request.
    return os.path.join(socket_dir(), f"server-{zlib.crc32(data):08x}-{len(data):x}.sock")


def _send(sock: socket.socket, message: dict[str, Any], fds: list[int] | None = None) -> None:
    import array
    import marshal
    import socket as socket_module

    ancillary = [(socket_module.SOL_SOCKET, socket_module.SCM_RIGHTS, array.array("i", fds))] if fds else []
    sock.sendmsg([marshal.dumps(message)], ancillary)


def _receive(sock: socket.socket, fd_count: int = 0) -> tuple[dict[str, Any] | None, list[int]]:
    """One message (None at end of stream or for garbage) and the descriptors it carried."""
    import array
    import marshal
    import socket as socket_module

    fds = array.array("i")
    data, ancillary, _, _ = sock.recvmsg(_MESSAGE_LIMIT, socket_module.CMSG_SPACE(fd_count * fds.itemsize))
    for level, kind, payload in ancillary:
        if level == socket_module.SOL_SOCKET and kind == socket_module.SCM_RIGHTS:
            fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
    if not data:
        return None, list(fds)
    try:
        message = marshal.loads(data)
    except (EOFError, ValueError, TypeError):
        return None, list(fds)
    return (message if isinstance(message, dict) else None), list(fds)


def _connect(path: str, timeout: float | None = None) -> socket.socket | None:
    import socket as socket_module

    if not _private(os.path.dirname(path)):
        return None
    sock = socket_module.socket(socket_module.AF_UNIX, socket_module.SOCK_SEQPACKET | socket_module.SOCK_CLOEXEC)
    sock.settimeout(timeout)
    try:
        sock.connect(path)
    except OSError:
        sock.close()
        return None
    return sock


def request(op: str, timeout: float = 5.0) -> dict[str, Any] | None:
    """Ask the server for this compiler `op` ("status" or "stop"); None if none answers."""
    text = description()
    sock = _connect(socket_path(text), timeout)
    if sock is None:
        return None
    try:
        _send(sock, {"op": op, "description": text})
        reply, _ = _receive(sock)
        return reply
    except OSError:
        return None
    finally:
        sock.close()


# ------------------------------------------------------------------------------ client


def connect_and_run(args: list[str]) -> int | None:
    """Run `rtc args` in the server; its exit code, or None: run it in this process."""
    if os.environ.get("RTC_NO_SERVER") or command_of(args) in (None, "server") or not os.path.isdir(socket_dir()):
        return None
    text = description()
    sock = _connect(socket_path(text))
    if sock is None:
        return None
    import signal

    with sock:
        try:
            message = {
                "op": "run",
                "description": text,
                "argv": args,
                "cwd": os.getcwd(),
                "env": dict(os.environ),
                "umask": _umask(),
                "streams": [_stream_settings(s) for s in (sys.stdin, sys.stdout, sys.stderr)],
            }
            _send(sock, message, [0, 1, 2])
            reply, _ = _receive(sock)
        except OSError:
            return None
        if reply is None or reply.get("answer") != "running":
            return None  # another compiler's server, or one shutting down: run here

        def forward(number: int, _frame: object) -> None:
            with contextlib.suppress(OSError):
                _send(sock, {"op": "signal", "number": number})

        for name in _FORWARDED_SIGNALS:
            signal.signal(getattr(signal, name), forward)
        try:
            while True:
                done, _ = _receive(sock)
                if done is None:
                    sys.stderr.write("rtc: error: the build server stopped while running the command\n")
                    return 1
                if done.get("answer") == "exit":
                    code = done.get("code")
                    return code if isinstance(code, int) else 1
        except OSError as exc:
            sys.stderr.write(f"rtc: error: lost the build server while running the command ({exc})\n")
            return 1


def command_of(args: list[str]) -> str | None:
    """The command `rtc args` runs (after the global options), or None (`rtc --help`)."""
    index = 0
    while index < len(args):
        arg = args[index]
        if arg in ("--root", "--engine"):
            index += 2
        elif arg.startswith("-"):
            index += 1
        else:
            return arg
    return None


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _stream_settings(stream: Any) -> tuple[str, str] | None:
    encoding, errors = getattr(stream, "encoding", None), getattr(stream, "errors", None)
    return (encoding, errors) if isinstance(encoding, str) and isinstance(errors, str) else None


# ------------------------------------------------------------------------------ server


class _Running:
    def __init__(self, pid: int, pidfd: int, connection: socket.socket) -> None:
        self.pid = pid
        self.pidfd = pidfd
        self.connection = connection


def _preload() -> None:
    """What every command would load: the CLI and its commands, the render stages."""
    import gc
    import importlib

    import rjsonnet  # noqa: F401  (not go-jsonnet: its runtime threads do not survive a fork)

    import compiler.cli
    from compiler.pipeline import prepare_render_stages

    for command in compiler.cli.COMMANDS.values():
        importlib.import_module(command.module)
    prepare_render_stages(lint=True)
    # Out of every collection in the commands' forks (as for workers: compiler/workers.py).
    gc.freeze()


def serve(path: str, idle_seconds: float) -> None:
    """Listen on `path` until idle for `idle_seconds`, stopped, or sent SIGTERM."""
    import selectors
    import signal
    import socket as socket_module
    import time

    text = description()
    _preload()
    folder = os.path.dirname(path)
    os.makedirs(folder, mode=0o700, exist_ok=True)
    if not _private(folder):
        raise SystemExit(f"rtc server: {folder} must be a folder only you can enter (chmod 700 {folder})")
    listener = socket_module.socket(socket_module.AF_UNIX, socket_module.SOCK_SEQPACKET | socket_module.SOCK_CLOEXEC)
    temporary = f"{path}.{os.getpid()}"
    listener.bind(temporary)
    listener.listen(64)
    os.replace(temporary, path)  # a dead server's socket is replaced, a live one's too
    inode = os.stat(path).st_ino
    stopping = False

    def stop(_number: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    wakeup_read, wakeup_write = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    signal.set_wakeup_fd(wakeup_write)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ, "accept")
    selector.register(wakeup_read, selectors.EVENT_READ, "wakeup")
    running: dict[int, _Running] = {}
    served = 0
    started = time.time()
    last = time.monotonic()
    try:
        while not (stopping and not running):
            wait = None if running else max(0.0, last + idle_seconds - time.monotonic())
            if not running and wait == 0.0:
                break
            for key, _ in selector.select(wait):
                if key.data == "wakeup":
                    with contextlib.suppress(OSError):
                        os.read(wakeup_read, 64)
                elif key.data == "accept":
                    connection, _ = listener.accept()
                    own = [listener.fileno(), wakeup_read, wakeup_write, selector.fileno()]
                    job = _accept(connection, text, stopping, own + _open_fds(running), served, started)
                    if job == "stop":
                        stopping = True
                    elif isinstance(job, _Running):
                        running[job.pidfd] = job
                        selector.register(job.pidfd, selectors.EVENT_READ, ("exited", job))
                        selector.register(job.connection, selectors.EVENT_READ, ("client", job))
                        served += 1
                else:
                    what, job = key.data
                    if what == "exited":
                        _finish(job)
                        selector.unregister(job.pidfd)
                        selector.unregister(job.connection)
                        job.connection.close()
                        os.close(job.pidfd)
                        del running[job.pidfd]
                        last = time.monotonic()
                    else:
                        _relay(job)
    finally:
        with contextlib.suppress(OSError):
            if os.stat(path).st_ino == inode:
                os.unlink(path)
        for job in running.values():
            with contextlib.suppress(OSError):
                os.kill(job.pid, signal.SIGKILL)
        listener.close()
        selector.close()
        signal.set_wakeup_fd(-1)
        for fd in (wakeup_read, wakeup_write):
            with contextlib.suppress(OSError):
                os.close(fd)


def _accept(
    connection: socket.socket,
    text: str,
    stopping: bool,
    server_fds: list[int],
    served: int,
    started: float,
) -> _Running | str | None:
    """Read one request; a forked command for "run", else the answer is sent here."""
    import socket as socket_module
    import struct

    fds: list[int] = []
    try:
        credentials = connection.getsockopt(socket_module.SOL_SOCKET, socket_module.SO_PEERCRED, 12)
        _, uid, _ = struct.unpack("3i", credentials)
        message, fds = _receive(connection, 3)
        if uid != os.getuid() or message is None:
            connection.close()
            return None
        if message.get("description") != text:
            _send(connection, {"answer": "stale"})
            connection.close()
            return None
        op = message.get("op")
        if op == "status":
            _send(connection, {"answer": "status", "pid": os.getpid(), "served": served, "started": started})
            connection.close()
            return None
        if op == "stop":
            _send(connection, {"answer": "stopping", "pid": os.getpid()})
            connection.close()
            return "stop"
        if op != "run" or stopping or len(fds) != 3:
            _send(connection, {"answer": "refused"})
            connection.close()
            return None
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child
            _run_command(message, fds, [connection.fileno(), *server_fds])
        pidfd = os.pidfd_open(pid)
        _send(connection, {"answer": "running", "pid": pid})
        return _Running(pid, pidfd, connection)
    except OSError:
        connection.close()
        return None
    finally:
        for fd in fds:
            with contextlib.suppress(OSError):
                os.close(fd)


def _open_fds(running: dict[int, _Running]) -> list[int]:
    return [fd for job in running.values() for fd in (job.pidfd, job.connection.fileno())]


def _finish(job: _Running) -> None:
    _, status = os.waitpid(job.pid, 0)
    code = os.waitstatus_to_exitcode(status)
    with contextlib.suppress(OSError):
        _send(job.connection, {"answer": "exit", "code": code if code >= 0 else 128 - code})


def _relay(job: _Running) -> None:
    """A message from the client: a signal to pass on, or its end (the command goes with it)."""
    import signal

    try:
        message, _ = _receive(job.connection)
    except OSError:
        message = None
    with contextlib.suppress(OSError):
        if message is None:
            os.kill(job.pid, signal.SIGKILL)
        elif message.get("op") == "signal" and isinstance(message.get("number"), int):
            os.kill(job.pid, message["number"])


def _run_command(message: dict[str, Any], fds: list[int], inherited: list[int]) -> None:
    """In the forked child: become the client's `rtc` process and run its command; never returns."""
    code = 1
    try:
        import signal

        for fd in inherited:
            with contextlib.suppress(OSError):
                os.close(fd)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        for name in ("SIGTERM", "SIGHUP", "SIGQUIT"):
            signal.signal(getattr(signal, name), signal.SIG_DFL)
        os.chdir(message["cwd"])
        os.environ.clear()
        os.environ.update(message["env"])
        os.umask(message["umask"])
        _reopen_streams(message["streams"])
        sys.argv = ["rtc", *message["argv"]]
        from compiler.cli import main

        try:
            main()
            code = 0
        except SystemExit as exc:
            code = _exit_code(exc.code)
        except KeyboardInterrupt:
            code = 130
    except BaseException:
        import traceback

        with contextlib.suppress(OSError):
            traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError):
                stream.flush()
        os._exit(code)


def _exit_code(value: object) -> int:
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    sys.stderr.write(f"{value}\n")
    return 1


def _reopen_streams(settings: list[tuple[str, str] | None]) -> None:
    """sys.stdin/stdout/stderr on the client's descriptors, with the client's encodings."""
    import io

    names = ("stdin", "stdout", "stderr")
    for fd, (name, setting) in enumerate(zip(names, settings, strict=True)):
        encoding, errors = setting or ("utf-8", "strict")
        binary = io.FileIO(fd, "rb" if fd == 0 else "wb", closefd=False)
        buffered: io.BufferedReader | io.BufferedWriter = (
            io.BufferedReader(binary) if fd == 0 else io.BufferedWriter(binary)
        )
        stream = io.TextIOWrapper(
            buffered,
            encoding=encoding,
            errors=errors,
            line_buffering=fd == 2 or binary.isatty(),
            write_through=fd == 2,
        )
        setattr(sys, name, stream)


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m compiler.server", description="rtc's build server")
    parser.add_argument("--socket", required=True)
    parser.add_argument("--idle", type=float, default=IDLE_SECONDS)
    options = parser.parse_args()
    serve(options.socket, options.idle)


if __name__ == "__main__":
    main()
