"""Run a function in a child process that is killed when it overruns.

In-process native Jsonnet (jrsonnet, go-jsonnet) cannot be interrupted: a
Python signal handler only runs between bytecodes. So a target renders in a
child process and the parent waits at most `seconds`, then kills it. A child
that dies (a native stack overflow, the kernel's OOM killer) becomes an error
too, instead of taking rtc down with it.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import signal
import sys
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, TypeVar

T = TypeVar("T")
_PR_SET_PDEATHSIG = 1


class Overrun(Exception):
    """The child did not finish in time and was killed."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"did not finish within {seconds:g}s")
        self.seconds = seconds


class ChildDied(Exception):
    """The child ended without an answer (killed by a signal, or exited)."""


def _context() -> multiprocessing.context.ForkContext | multiprocessing.context.ForkServerContext:
    # The Go runtime (go-jsonnet) does not survive fork: a forked child that
    # calls into it hangs. Once it is loaded, start children from a clean server.
    if "_gojsonnet" in sys.modules:
        return multiprocessing.context.ForkServerContext()
    return multiprocessing.context.ForkContext()


def _die_with_parent() -> None:
    """Linux: the child is killed when rtc is (a killed build leaves no evaluation running)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _child(conn: Connection, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
    _die_with_parent()
    try:
        answer: tuple[bool, Any, str] = (True, fn(*args), "")
    except BaseException as exc:
        answer = (False, exc, traceback.format_exc())
    try:
        conn.send(answer)
    except Exception:  # an exception that does not pickle: send its text
        conn.send((False, RuntimeError(answer[2] or repr(answer[1])), answer[2]))
    conn.close()


def describe_exit(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        return f"killed by {name}"
    return f"exited with status {exitcode}"


def run_bounded(fn: Callable[..., T], args: tuple[Any, ...], seconds: float) -> T:
    """fn(*args) in a child process; Overrun after `seconds`, ChildDied if it dies.
    fn, its arguments and its result must pickle."""
    ctx = _context()
    receiver, sender = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_child, args=(sender, fn, args), daemon=True)
    process.start()
    sender.close()
    try:
        if not receiver.poll(seconds):
            raise Overrun(seconds)
        try:
            ok, payload, trace = receiver.recv()
        except EOFError:
            process.join()
            raise ChildDied(describe_exit(process.exitcode)) from None
    finally:
        if process.is_alive():
            process.kill()
        process.join()
        receiver.close()
    if not ok:
        if trace and isinstance(payload, BaseException):
            payload.add_note(f"in the render process:\n{trace}")
        raise payload
    result: T = payload
    return result
