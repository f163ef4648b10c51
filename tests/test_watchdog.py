"""The worker that bounds render time: overruns are killed, crashes reported,
errors passed back, and the worker is reused between calls."""

from __future__ import annotations

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
