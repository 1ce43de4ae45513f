"""The kiosk's supervisor: each loop logs a failure, backs off, retries, and gives up after N."""

from __future__ import annotations

import logging
import threading

import pytest

from kiosk.supervisor import Supervisor
from tests.kiosk.conftest import FakeClock


class Steps:
    """A loop body that fails the first ``failures`` times, then counts successes."""

    def __init__(self, failures: int, stop_after: int = 3) -> None:
        self.failures, self.stop_after, self.done = failures, stop_after, 0

    def __call__(self) -> bool:
        if self.failures:
            self.failures -= 1
            raise RuntimeError("the screen could not be drawn")
        self.done += 1
        return self.done < self.stop_after


def test_a_failing_step_is_logged_with_its_loop_and_retried(caplog):
    caplog.set_level(logging.ERROR, logger="commonshed.kiosk")
    supervisor = Supervisor(max_failures=5, backoff_initial=0.001)
    steps = Steps(failures=2)
    supervisor.guard("kiosk-worker").run(steps, threading.Event())
    assert steps.done == 3
    messages = [r.getMessage() for r in caplog.records]
    assert messages[0].startswith("kiosk loop kiosk-worker failed (1 of 5 in a row)")
    assert "could not be drawn" in messages[1] and len(messages) == 2
    assert supervisor.last_error == "kiosk-worker: RuntimeError: the screen could not be drawn"
    assert not supervisor.gave_up.is_set()


def test_the_back_off_doubles_up_to_its_ceiling():
    supervisor = Supervisor(max_failures=10, backoff_initial=0.5, backoff_max=3.0)
    guard = supervisor.guard("kiosk-link")
    waits = [guard.failed(RuntimeError("x")) for _ in range(5)]
    assert waits == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_a_success_resets_the_count_of_failures_in_a_row():
    supervisor = Supervisor(max_failures=3, backoff_initial=0.001)
    guard = supervisor.guard("kiosk-link")
    for _ in range(5):
        guard.failed(RuntimeError("x"))
        guard.progressed()
    assert not supervisor.gave_up.is_set()


def test_n_failures_in_a_row_give_up_and_end_the_loop(caplog):
    supervisor = Supervisor(max_failures=3, backoff_initial=0.001)
    steps = Steps(failures=100)
    supervisor.guard("kiosk-screen").run(steps, threading.Event())
    assert supervisor.gave_up.is_set() and steps.failures == 97
    assert supervisor.reason == "loop kiosk-screen failed 3 times in a row"
    assert any(r.levelno == logging.CRITICAL for r in caplog.records)


def test_a_loop_with_no_progress_for_too_long_is_stalled():
    clock = FakeClock()
    supervisor = Supervisor(stall_seconds=30, clock=clock)
    worker, link = supervisor.guard("kiosk-worker"), supervisor.guard("kiosk-link")
    clock.advance(20)
    worker.progressed()
    clock.advance(15)
    assert supervisor.stalled() == ["kiosk-link"] and not supervisor.making_progress()
    link.progressed()
    assert supervisor.making_progress()


def test_max_failures_must_be_positive():
    with pytest.raises(ValueError, match="max_failures must be at least 1"):
        Supervisor(max_failures=0)
