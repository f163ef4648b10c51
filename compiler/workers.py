"""Run a function over items, each item in its own forked process, a few at a time.

One process per item, not a pool of long-lived workers: jrsonnet leaves
cyclic garbage after every evaluation that costs about as much to collect as
the evaluation itself, and a process that exits frees it for nothing (the
workers skip the collection). A fork of the small parent takes about a
millisecond. It also bounds memory per target and confines a crash to the
target that caused it. The parent is single-threaded, so forking is safe.
Results come back pickled through a pipe and are returned in item order.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import pickle
import selectors
import signal
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

_CHUNK = 1 << 16
_PR_SET_PDEATHSIG = 1


class WorkerError(Exception):
    """The function raised in a worker; the message is the worker's traceback."""


@dataclass(frozen=True)
class Crash:
    """A worker that ended without a result (killed, or died in native code)."""

    message: str
    # Killed because it ran past the deadline (limits.eval-seconds).
    timed_out: bool = False


@dataclass
class _Running(Generic[T]):
    index: int
    pid: int
    fd: int
    chunks: list[bytes]
    started: float = 0.0
    killed_for_time: bool = False


def fork_available() -> bool:
    return hasattr(os, "fork")


def die_with_parent(parent: int) -> None:
    """Linux: this process is killed with its parent `parent`, so a killed build leaves no
    evaluation running (and none past limits.eval-seconds: the parent enforces it)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(70)


def _child(fn: Callable[[T], R], item: T, write_fd: int, parent: int) -> None:
    """Run in the forked process; never returns."""
    status = 0
    try:
        die_with_parent(parent)
        try:
            payload = pickle.dumps((True, fn(item)), protocol=pickle.HIGHEST_PROTOCOL)
        except BaseException:
            payload = pickle.dumps((False, traceback.format_exc()), protocol=pickle.HIGHEST_PROTOCOL)
        with os.fdopen(write_fd, "wb") as out:
            out.write(payload)
    except BaseException:
        status = 70
    finally:
        # No atexit handlers, no flushing of stdio buffers inherited from the parent.
        os._exit(status)


def _outcome(pid: int, data: bytes) -> object:
    _, status = os.waitpid(pid, 0)
    if data:
        try:
            ok, value = pickle.loads(data)
        except Exception:  # a truncated result: the worker died while writing it
            ok, value = None, None
        if ok is True:
            return value
        if ok is False:
            raise WorkerError(str(value))
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        name = signal.Signals(number).name if number in signal.Signals._value2member_map_ else str(number)
        hint = " (out of memory?)" if number == signal.SIGKILL else ""
        return Crash(f"the worker process was killed by {name}{hint}")
    return Crash(f"the worker process exited with status {os.waitstatus_to_exitcode(status)} without a result")


def run_forked(
    fn: Callable[[T], R],
    items: Sequence[T],
    jobs: int,
    on_result: Callable[[int, R | Crash], None] | None = None,
    timeout: float = 0.0,
) -> list[R | Crash]:
    """`fn(item)` for every item, at most `jobs` processes at a time.

    `on_result(index, outcome)` is called in item order as results arrive.
    An exception raised by `fn` is raised here as WorkerError, after the
    other workers are stopped. With `timeout` > 0, a worker still running
    that many seconds after it started is killed and reported as a Crash
    with `timed_out` (native Jsonnet evaluation cannot be interrupted)."""
    results: list[object] = [None] * len(items)
    done = [False] * len(items)
    reported = 0
    running: dict[int, _Running[T]] = {}
    selector = selectors.DefaultSelector()
    next_index = 0
    try:
        while reported < len(items):
            while next_index < len(items) and len(running) < jobs:
                read_fd, write_fd = os.pipe()
                parent = os.getpid()
                pid = os.fork()
                if pid == 0:  # pragma: no cover - runs in the child
                    os.close(read_fd)
                    _child(fn, items[next_index], write_fd, parent)
                os.close(write_fd)
                running[read_fd] = _Running(next_index, pid, read_fd, [], started=time.monotonic())
                selector.register(read_fd, selectors.EVENT_READ)
                next_index += 1
            wait = None
            if timeout > 0 and running:
                now = time.monotonic()
                for late in running.values():
                    if not late.killed_for_time and now - late.started >= timeout:
                        late.killed_for_time = True
                        with contextlib.suppress(OSError):
                            os.kill(late.pid, signal.SIGKILL)
                pending = [w.started + timeout - now for w in running.values() if not w.killed_for_time]
                wait = max(0.01, min(pending)) if pending else None
            for key, _ in selector.select(wait):
                worker = running[key.fd]
                chunk = os.read(worker.fd, _CHUNK)
                if chunk:
                    worker.chunks.append(chunk)
                    continue
                selector.unregister(worker.fd)
                os.close(worker.fd)
                del running[worker.fd]
                outcome = _outcome(worker.pid, b"".join(worker.chunks))
                if worker.killed_for_time and isinstance(outcome, Crash):
                    outcome = Crash(f"did not finish within {timeout:g}s", timed_out=True)
                results[worker.index] = outcome
                done[worker.index] = True
            while reported < len(items) and done[reported]:
                if on_result is not None:
                    on_result(reported, results[reported])  # type: ignore[arg-type]
                reported += 1
    finally:
        for worker in running.values():
            with contextlib.suppress(OSError):
                os.kill(worker.pid, signal.SIGKILL)
            with contextlib.suppress(OSError):
                os.close(worker.fd)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(worker.pid, 0)
        selector.close()
    return results  # type: ignore[return-value]
