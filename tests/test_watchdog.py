"""The worker that bounds render time: overruns are killed, crashes reported,
errors passed back, and the worker is reused between calls."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time

import pytest

from compiler.watchdog import BoundedWorker, ChildDied, Overrun


def pid() -> int:
    return os.getpid()


def sleep(seconds: float) -> str:
    time.sleep(seconds)
    return "woke"


def crash() -> None:
    os.kill(os.getpid(), signal.SIGSEGV)


def fail() -> None:
    raise ValueError("bad catalog")


@pytest.fixture
def worker() -> BoundedWorker:
    return BoundedWorker()


def test_calls_run_in_one_long_lived_worker(worker: BoundedWorker) -> None:
    first = worker.call(pid, (), 10)
    assert first != os.getpid()
    assert worker.call(pid, (), 10) == first
    worker.close()


def test_an_overrun_is_killed_and_the_next_call_gets_a_fresh_worker(worker: BoundedWorker) -> None:
    before = worker.call(pid, (), 10)
    started = time.monotonic()
    with pytest.raises(Overrun, match=r"did not finish within 0\.3s"):
        worker.call(sleep, (30,), 0.3)
    assert time.monotonic() - started < 5
    with pytest.raises(ProcessLookupError):
        os.kill(before, 0)  # killed and reaped
    assert worker.call(sleep, (0,), 10) == "woke"
    assert worker.call(pid, (), 10) != before
    worker.close()


def test_a_crash_is_reported_not_fatal(worker: BoundedWorker) -> None:
    with pytest.raises(ChildDied, match="killed by SIGSEGV"):
        worker.call(crash, (), 10)
    assert worker.call(sleep, (0,), 10) == "woke"
    worker.close()


def test_exceptions_come_back_with_the_workers_traceback(worker: BoundedWorker) -> None:
    with pytest.raises(ValueError, match="bad catalog") as raised:
        worker.call(fail, (), 10)
    assert any("in the render worker" in note for note in getattr(raised.value, "__notes__", []))
    worker.close()


def test_a_request_that_does_not_unpickle_is_an_error_not_a_dead_worker(worker: BoundedWorker) -> None:
    first = worker.call(pid, (), 10)

    def local() -> None:  # cannot be pickled by reference
        return None

    with pytest.raises(Exception, match="local"):
        worker.call(local, (), 10)
    assert worker.call(pid, (), 10) == first
    worker.close()


def test_a_forked_child_starts_its_own_fork_server(monkeypatch: pytest.MonkeyPatch) -> None:
    """The parent's fork server is not the child's to wait for: the child's
    bounded calls must start a server of their own, not fail on it."""
    from compiler import watchdog

    monkeypatch.setattr(watchdog, "_context", multiprocessing.context.ForkServerContext)
    parent_worker = BoundedWorker()
    try:
        assert parent_worker.call(pid, (), 30) != os.getpid()  # the parent's server is running
        child = os.fork()
        if child == 0:  # pragma: no cover - runs in the child
            status = 1
            try:
                status = 0 if BoundedWorker().call(sleep, (0,), 30) == "woke" else 3
            finally:
                os._exit(status)
        _, wait_status = os.waitpid(child, 0)
        assert os.waitstatus_to_exitcode(wait_status) == 0
        assert parent_worker.call(pid, (), 30) != os.getpid()  # and the parent's still serves it
    finally:
        parent_worker.close()
