"""Run calls in a worker process that is killed when a call overruns.

In-process native Jsonnet (jrsonnet, go-jsonnet) cannot be interrupted: a
Python signal handler only runs between bytecodes. So targets render in a
worker process; the caller waits at most `seconds` for each answer, then kills
the worker (the next call starts a fresh one). A worker that dies (a native
stack overflow, the kernel's OOM killer) becomes an error too, instead of
taking rtc down with it.

The worker lives as long as its parent and serves one call after another, so
a call costs two pickles, not a process start, and anything the engines cache
in-process survives from one target to the next.
"""

from __future__ import annotations

import atexit
import contextlib
import faulthandler
import multiprocessing
import os
import pickle
import signal
import sys
import threading
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any, TypeVar

from compiler.workers import die_with_parent

T = TypeVar("T")


class Overrun(Exception):
    """The call did not finish in time; its worker was killed."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"did not finish within {seconds:g}s")
        self.seconds = seconds


class ChildDied(Exception):
    """The worker ended without an answer (killed by a signal, or exited)."""


def _context() -> multiprocessing.context.ForkContext | multiprocessing.context.ForkServerContext:
    # The Go runtime (go-jsonnet) does not survive fork: a forked child that
    # calls into it hangs. Once it is loaded here, start workers from a clean server.
    if "_gojsonnet" in sys.modules:
        return multiprocessing.context.ForkServerContext()
    return multiprocessing.context.ForkContext()


def _forget_the_parents_forkserver() -> None:
    """After a fork: drop multiprocessing's record of the parent's fork server.

    The record (one per process, in multiprocessing.forkserver) survives the
    fork, but the server is the parent's child: the child's next forkserver
    start calls waitpid on it, gets ChildProcessError, and every bounded call
    fails. Forgetting it makes the child start a server of its own on first
    use; the parent keeps its server (its own end of the server's keep-alive
    pipe is still open)."""
    module = sys.modules.get("multiprocessing.forkserver")
    if module is None:
        return  # nothing started a server, so there is nothing to forget
    server: Any = module._forkserver
    if server._forkserver_pid is None:
        return
    alive_fd = server._forkserver_alive_fd
    server._forkserver_pid = server._forkserver_address = server._forkserver_alive_fd = None
    server._lock = threading.Lock()  # it may have been held by another thread at the fork
    if alive_fd is not None:
        with contextlib.suppress(OSError):
            os.close(alive_fd)


os.register_at_fork(after_in_child=_forget_the_parents_forkserver)


def _serve(conn: Connection) -> None:
    die_with_parent(os.getppid())
    faulthandler.disable()  # a crash is reported by the parent, as one line
    while True:
        try:
            request = conn.recv_bytes()
        except (EOFError, OSError):
            return
        try:
            fn, args = pickle.loads(request)
            answer: tuple[bool, Any, str] = (True, fn(*args), "")
        except BaseException as exc:
            answer = (False, exc, traceback.format_exc())
        try:
            conn.send(answer)
        except Exception:  # an exception or result that does not pickle: send its text
            conn.send((False, RuntimeError(answer[2] or repr(answer[1])), answer[2]))


def describe_exit(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        return f"killed by {name}"
    return f"exited with status {exitcode}"


class BoundedWorker:
    """One worker process; `call` runs fn(*args) in it, at most `seconds` long."""

    def __init__(self) -> None:
        self._process: BaseProcess | None = None
        self._conn: Connection | None = None

    def _start(self) -> Connection:
        ctx = _context()
        parent_end, child_end = ctx.Pipe(duplex=True)
        process = ctx.Process(target=_serve, args=(child_end,), daemon=True)
        process.start()
        child_end.close()
        self._process, self._conn = process, parent_end
        return parent_end

    def _stop(self) -> int | None:
        process, conn = self._process, self._conn
        self._process = self._conn = None
        if conn is not None:
            conn.close()
        if process is None:
            return None
        if process.is_alive():
            process.kill()
        process.join()
        return process.exitcode

    def call(self, fn: Callable[..., T], args: tuple[Any, ...], seconds: float) -> T:
        """fn(*args) in the worker; Overrun after `seconds`, ChildDied if the worker dies.
        fn, its arguments and its result must pickle."""
        conn = self._conn if self._process is not None and self._process.is_alive() else None
        if conn is None:
            self._stop()
            conn = self._start()
        try:
            conn.send((fn, args))
            if not conn.poll(seconds):
                self._stop()
                raise Overrun(seconds)
            ok, payload, trace = conn.recv()
        except (EOFError, BrokenPipeError, ConnectionResetError):
            raise ChildDied(describe_exit(self._stop())) from None
        if not ok:
            if trace and isinstance(payload, BaseException):
                payload.add_note(f"in the render worker:\n{trace}")
            raise payload
        result: T = payload
        return result

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()  # the worker sees EOF and returns
            self._conn = None
        if self._process is not None:
            self._process.join(timeout=1)
        self._stop()


_shared: tuple[int, BoundedWorker] | None = None


def _close_shared() -> None:
    if _shared is not None and _shared[0] == os.getpid():
        _shared[1].close()


atexit.register(_close_shared)


def run_bounded(fn: Callable[..., T], args: tuple[Any, ...], seconds: float) -> T:
    """fn(*args) in this process's worker (started on first use; a forked
    process starts its own): Overrun after `seconds`, ChildDied if it dies."""
    global _shared
    if _shared is None or _shared[0] != os.getpid():
        _shared = (os.getpid(), BoundedWorker())
    return _shared[1].call(fn, args, seconds)
