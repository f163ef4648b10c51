"""A render process forked at start-up, which loads the render stages while the parent loads the rest.

Before any target renders, `rtc build` pays twice on one core: the parent loads
the CLI, the project and the build cache's answers (~90 ms on a fleet), and then
it loads the render stages that its workers inherit (validation with the
catalog kinds' compiled schemas, lint and its rules, the engine: ~55 ms). The
two do not depend on each other, so `start()` (called by compiler/startup.py
for a `build` command line, before the CLI is imported) forks a helper that
loads the stages at once, on the second core. When the parent has the stale
targets it hands them over (`render`, pickled: the project, the targets and
the render options), the helper forks the workers from itself
(compiler/workers.py) and passes each render back as it is made, in target
order. The renders are the ones the parent would have made: the same
functions run on the same inputs, only in another process.

Whatever goes wrong with the helper costs time, never a result: a helper that
is missing, did not start, or dies before it has passed every render back
leaves the rest of the targets to the parent's own workers. The helper exits
when the parent closes its end (a build that renders nothing) and is killed
with the parent (PR_SET_PDEATHSIG), like every worker. Not on a single core,
where the two could only take turns; not with RTC_NO_PREFORK set.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from compiler.pipeline import Finish, TargetRender
    from compiler.project import Project
    from compiler.targets import Target

_LENGTH = struct.Struct("<Q")
_CHUNK = 1 << 16


@dataclass
class _Helper:
    pid: int
    jobs: int  # the parent writes the one job here
    results: int  # and reads framed (kind, value) messages here


_helper: _Helper | None = None

# Why the last helper gave up before it had passed every render back (its
# traceback), or None: the build does not depend on it, the tests do.
last_failure: str | None = None


def wanted() -> bool:
    return hasattr(os, "fork") and (os.cpu_count() or 1) > 1 and not os.environ.get("RTC_NO_PREFORK")


def start() -> None:
    """Fork the helper (once per process); it starts loading the render stages."""
    global _helper
    if _helper is not None or not wanted():
        return
    job_read, job_write = os.pipe()
    result_read, result_write = os.pipe()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the helper
        os.close(job_write)
        os.close(result_read)
        _serve(job_read, result_write, parent)
    os.close(job_read)
    os.close(result_write)
    _helper = _Helper(pid, job_write, result_read)


def _read_exactly(fd: int, size: int) -> bytes | None:
    chunks: list[bytes] = []
    left = size
    while left:
        chunk = os.read(fd, min(left, _CHUNK))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _read_message(fd: int) -> Any:
    """One framed pickle from `fd`, or None at the end of the pipe."""
    head = _read_exactly(fd, _LENGTH.size)
    if head is None:
        return None
    body = _read_exactly(fd, _LENGTH.unpack(head)[0])
    return None if body is None else pickle.loads(body)


def _write_message(fd: int, value: object) -> None:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    view = memoryview(_LENGTH.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view) :]


def _serve(jobs: int, results: int, parent: int) -> None:
    """The helper: load the stages, wait for the job, render it; never returns."""
    status = 0
    try:
        from compiler.workers import die_with_parent

        die_with_parent(parent)
        # The engine too, which workers would each import (not go-jsonnet: its runtime
        # threads would not survive the fork of a worker; the parent hands over only rjsonnet's).
        with contextlib.suppress(ImportError):
            import rjsonnet  # noqa: F401

        from compiler.pipeline import prepare_render_stages, render_targets_here

        prepare_render_stages(lint=True)
        job = _read_message(jobs)
        if job is None:
            return  # the parent needed no render
        project, targets, engine_name, jobs_count, lint, finish = job

        def send(render: TargetRender) -> None:
            _write_message(results, ("render", render))

        try:
            render_targets_here(project, targets, engine_name, jobs_count, send, lint, finish)
        except Exception as exc:  # a worker's exception: the parent raises it as its own would
            from compiler.workers import WorkerError

            if not isinstance(exc, WorkerError):
                raise
            _write_message(results, ("error", str(exc)))
    except BaseException:
        status = 70
        with contextlib.suppress(BaseException):  # tell the parent why, if the pipe is still there
            import traceback

            _write_message(results, ("crashed", traceback.format_exc()))
    finally:
        # No atexit handlers, no flushing of stdio buffers inherited from the parent.
        os._exit(status)


def _stop(helper: _Helper) -> None:
    with contextlib.suppress(OSError):
        os.close(helper.jobs)
    with contextlib.suppress(OSError):
        os.close(helper.results)
    with contextlib.suppress(OSError):
        os.waitpid(helper.pid, 0)


def render(
    project: Project,
    targets: list[Target],
    engine_name: str,
    jobs: int,
    lint: bool,
    finish: Finish | None,
    on_render: Callable[[TargetRender], None],
    meanwhile: Callable[[], None] | None = None,
) -> int:
    """Hand the targets to the helper; `on_render` gets each render, in target order.

    Returns how many targets the helper rendered: the first that many; the rest
    (all of them without a helper) are the caller's to render. `meanwhile` runs
    in this process while the helper works."""
    global _helper, last_failure
    helper, _helper = _helper, None  # one job per helper
    last_failure = None
    if helper is None:
        return 0
    done = 0
    try:
        try:
            _write_message(helper.jobs, (project, targets, engine_name, jobs, lint, finish))
        except (OSError, pickle.PicklingError, TypeError, AttributeError):
            return 0  # it died before the job, or the job does not travel: render here
        if meanwhile is not None:
            meanwhile()
        while done < len(targets):
            try:
                message = _read_message(helper.results)
            except (OSError, EOFError, pickle.UnpicklingError):
                message = None
            if message is None:
                return done  # the helper died: the parent renders the rest
            kind, value = message
            if kind == "crashed":
                last_failure = value
                return done
            if kind == "error":
                from compiler.workers import WorkerError

                raise WorkerError(value)
            on_render(value)
            done += 1
        return done
    finally:
        _stop(helper)


def discard() -> None:
    """Let the helper go unused (a process that will not render, or forks for another reason)."""
    global _helper
    helper, _helper = _helper, None
    if helper is not None:
        _stop(helper)
