"""Run a function over items in a few forked worker processes, each serving several items.

Workers are forked from the parent, so they inherit the items, the loaded
modules and whatever the parent prepared (nothing is pickled on the way in);
results come back pickled through a pipe, and are returned in item order.
A worker serves up to `per_worker` items, one at a time, then exits and
another takes its place. Reuse keeps what a worker has warmed (the emitter's
memo of rendered strings, resolved imports, caches of the lint helpers) and
saves a fork and its page faults per item: a fleet build renders a quarter
faster than with a process per item. The limit bounds memory: jrsonnet
leaves cyclic garbage after every evaluation that costs about as much to
collect as the evaluation itself, so workers skip the collection and the
garbage (12-15 MB per cluster) is freed when the worker exits. A crash, or a
kill past the deadline, loses the one item that worker was on; the rest go
to a new worker. The parent is single-threaded, so forking is safe.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import pickle
import selectors
import signal
import struct
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

_CHUNK = 1 << 16
_PR_SET_PDEATHSIG = 1
# Items a worker serves before it exits (its garbage with it): ~200 MB at most
# for the clusters of a large fleet, and a fork for every 16 targets.
PER_WORKER = 16
# Parent -> worker: the index of the next item, or _STOP. Worker -> parent: a
# length, then the pickled (ok, value).
_INDEX = struct.Struct("<I")
_LENGTH = struct.Struct("<Q")
_STOP = 0xFFFFFFFF


class WorkerError(Exception):
    """The function raised in a worker; the message is the worker's traceback."""


@dataclass(frozen=True)
class Crash:
    """A worker that ended without a result (killed, or died in native code)."""

    message: str
    # Killed because it ran past the deadline (limits.eval-seconds).
    timed_out: bool = False


@dataclass
class _Worker:
    pid: int
    commands: int  # the parent writes item indexes here
    results: int  # and reads framed results here
    received: bytearray = field(default_factory=bytearray)
    current: int | None = None  # the item it is working on
    started: float = 0.0
    served: int = 0
    # Served its last item (or told to stop): it exits by itself.
    retiring: bool = False
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


def _read_exactly(fd: int, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = os.read(fd, size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _serve(fn: Callable[[T], R], items: Sequence[T], commands: int, results: int, parent: int, limit: int) -> None:
    """The worker's loop, in the forked process; never returns."""
    status = 0
    try:
        die_with_parent(parent)
        for _ in range(limit):
            command = _read_exactly(commands, _INDEX.size)
            index = _STOP if command is None else _INDEX.unpack(command)[0]
            if index == _STOP:
                break
            try:
                payload = pickle.dumps((True, fn(items[index])), protocol=pickle.HIGHEST_PROTOCOL)
            except BaseException:
                payload = pickle.dumps((False, traceback.format_exc()), protocol=pickle.HIGHEST_PROTOCOL)
            _write_all(results, _LENGTH.pack(len(payload)) + payload)
    except BaseException:
        status = 70
    finally:
        # No atexit handlers, no flushing of stdio buffers inherited from the parent.
        os._exit(status)


def _spawn(fn: Callable[[T], R], items: Sequence[T], limit: int, others: list[_Worker]) -> _Worker:
    command_read, command_write = os.pipe()
    result_read, result_write = os.pipe()
    parent = os.getpid()
    # The objects the worker inherits are left out of its garbage collections: a
    # collection that visits them writes to each one's header, so every page of the
    # parent's heap would be copied into the worker (a cold fleet build: 4-7% faster).
    gc.freeze()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        # Only its own pipe ends: a sibling holding another worker's command pipe
        # would keep that worker from seeing it closed.
        for fd in (command_write, result_read, *(f for w in others for f in (w.commands, w.results))):
            with contextlib.suppress(OSError):
                os.close(fd)
        _serve(fn, items, command_read, result_write, parent, limit)
    os.close(command_read)
    os.close(result_write)
    return _Worker(pid, command_write, result_read)


def _exit_crash(pid: int) -> Crash:
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        name = signal.Signals(number).name if number in signal.Signals._value2member_map_ else str(number)
        hint = " (out of memory?)" if number == signal.SIGKILL else ""
        return Crash(f"the worker process was killed by {name}{hint}")
    return Crash(f"the worker process exited with status {os.waitstatus_to_exitcode(status)} without a result")


def _decoded(data: bytes) -> object:
    ok, value = pickle.loads(data)
    if ok is True:
        return value
    raise WorkerError(str(value))


def run_forked(
    fn: Callable[[T], R],
    items: Sequence[T],
    jobs: int,
    on_result: Callable[[int, R | Crash], None] | None = None,
    timeout: float = 0.0,
    per_worker: int = PER_WORKER,
) -> list[R | Crash]:
    """`fn(item)` for every item, in at most `jobs` worker processes at a time,
    each serving up to `per_worker` items.

    `on_result(index, outcome)` is called in item order as results arrive.
    An exception raised by `fn` is raised here as WorkerError, after the
    workers are stopped. With `timeout` > 0, a worker still on one item that
    many seconds after it started it is killed, and the item is reported as a
    Crash with `timed_out` (native Jsonnet evaluation cannot be interrupted)."""
    results: list[object] = [None] * len(items)
    done = [False] * len(items)
    reported = 0
    pool: dict[int, _Worker] = {}
    selector = selectors.DefaultSelector()
    next_index = 0

    def dispatch(worker: _Worker) -> None:
        nonlocal next_index
        if worker.retiring:
            return
        command = next_index if next_index < len(items) else _STOP
        try:
            _write_all(worker.commands, _INDEX.pack(command))
        except OSError:  # it died between two items: its end is seen as a clean exit
            worker.retiring = True
            return
        if command == _STOP:
            worker.retiring = True
            return
        worker.current, worker.started = command, time.monotonic()
        worker.served += 1
        worker.retiring = worker.served >= per_worker
        next_index += 1

    def finish(worker: _Worker, outcome: object) -> None:
        assert worker.current is not None
        results[worker.current] = outcome
        done[worker.current] = True
        worker.current = None

    try:
        while reported < len(items):
            serving = sum(1 for w in pool.values() if not w.retiring)
            while next_index < len(items) and serving < jobs:
                worker = _spawn(fn, items, per_worker, list(pool.values()))
                pool[worker.results] = worker
                selector.register(worker.results, selectors.EVENT_READ)
                dispatch(worker)
                serving += 1
            wait = None
            if timeout > 0:
                now = time.monotonic()
                busy = [w for w in pool.values() if w.current is not None and not w.killed_for_time]
                for late in busy:
                    if now - late.started >= timeout:
                        late.killed_for_time = True
                        with contextlib.suppress(OSError):
                            os.kill(late.pid, signal.SIGKILL)
                pending = [w.started + timeout - now for w in busy if not w.killed_for_time]
                wait = max(0.01, min(pending)) if pending else None
            for key, _ in selector.select(wait):
                worker = pool[key.fd]
                chunk = os.read(worker.results, _CHUNK)
                if chunk:
                    worker.received += chunk
                    while len(worker.received) >= _LENGTH.size:
                        (size,) = _LENGTH.unpack_from(worker.received)
                        if len(worker.received) < _LENGTH.size + size:
                            break
                        payload = bytes(worker.received[_LENGTH.size : _LENGTH.size + size])
                        del worker.received[: _LENGTH.size + size]
                        finish(worker, _decoded(payload))
                        dispatch(worker)
                    continue
                # The worker exited: after its last item, or in the middle of one.
                selector.unregister(worker.results)
                os.close(worker.results)
                os.close(worker.commands)
                del pool[worker.results]
                if worker.current is None:
                    os.waitpid(worker.pid, 0)
                else:
                    crash = _exit_crash(worker.pid)
                    if worker.killed_for_time:
                        crash = Crash(f"did not finish within {timeout:g}s", timed_out=True)
                    finish(worker, crash)
            while reported < len(items) and done[reported]:
                if on_result is not None:
                    on_result(reported, results[reported])  # type: ignore[arg-type]
                reported += 1
    finally:
        gc.unfreeze()  # what the parent keeps is collected again as before
        for worker in pool.values():
            with contextlib.suppress(OSError):
                os.kill(worker.pid, signal.SIGKILL)
            for fd in (worker.results, worker.commands):
                with contextlib.suppress(OSError):
                    os.close(fd)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(worker.pid, 0)
        selector.close()
    return results  # type: ignore[return-value]
