"""The ingest's supervisor: a failing loop is logged, backed off and retried; one that keeps
failing makes the supervisor give up; a loop that stops coming round is seen as stalled."""

from __future__ import annotations

import logging
import threading

import pytest

from hub.worker.supervisor import Backoff, Supervisor
from tests.fixtures.waiting import wait_until

QUICK = Backoff(start=0.01, cap=0.02)


@pytest.fixture
def stopping():
    event = threading.Event()
    yield event
    event.set()


def test_backoff_doubles_up_to_its_cap():
    backoff = Backoff(start=0.5, cap=15)
    assert [backoff.delay(n) for n in range(1, 8)] == [0.5, 1, 2, 4, 8, 15, 15]


def test_a_failing_step_is_logged_and_retried_until_it_works(stopping, caplog):
    calls = []

    def step():
        calls.append(1)
        if len(calls) <= 2:
            raise RuntimeError(f"boom {len(calls)}")

    supervisor = Supervisor(stopping, max_failures=5, backoff=QUICK)
    with caplog.at_level(logging.WARNING, logger="commonshed.ingest"):
        supervisor.start("events", step)
        wait_until(lambda: len(calls) > 5, 10, "the step to run again after its failures")
    assert supervisor.gave_up is None and supervisor.trouble() is None
    assert supervisor.loops["events"].failures == 0
    assert supervisor.loops["events"].last_error == "RuntimeError: boom 2"
    failures = [r for r in caplog.records if "the events loop failed" in r.getMessage()]
    assert len(failures) == 2 and failures[0].exc_info is not None
    assert any("works again after 2 failures" in r.getMessage() for r in caplog.records)


def test_a_loop_failing_n_times_in_a_row_makes_the_supervisor_give_up(stopping):
    def step():
        raise ConnectionError("database away")

    supervisor = Supervisor(stopping, max_failures=3, backoff=QUICK)
    supervisor.start("requests", step)
    wait_until(stopping.is_set, 10, "the supervisor to give up")
    assert "requests loop failed 3 times in a row" in (supervisor.gave_up or "")
    assert "ConnectionError: database away" in (supervisor.gave_up or "")
    assert supervisor.trouble() == supervisor.gave_up


def test_a_step_that_never_returns_is_a_stalled_loop(stopping):
    release = threading.Event()
    supervisor = Supervisor(stopping, stall_after=0.2)
    supervisor.start("publisher", lambda: release.wait(10) and None)
    try:
        trouble = wait_until(supervisor.trouble, 10, "the frozen loop to be seen")
        assert "the publisher loop has not come round" in trouble
    finally:
        release.set()
    assert wait_until(lambda: supervisor.trouble() is None, 10, "the loop to come round again")


def test_max_failures_must_be_positive(stopping):
    with pytest.raises(ValueError, match="max_failures"):
        Supervisor(stopping, max_failures=0)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_loop_whose_thread_ended_is_seen_as_dead(stopping):
    def step():
        raise SystemExit("not an Exception: past the supervisor's net")

    supervisor = Supervisor(stopping, backoff=QUICK)
    supervisor.start("events", step)
    assert wait_until(supervisor.dead_loop, 10, "the dead loop to be seen") == "events"
    assert supervisor.trouble() == "the events loop ended"
    supervisor.give_up("the events loop ended")
    assert stopping.is_set() and supervisor.gave_up == "the events loop ended"
