"""Supervised loops for the ingest: a loop that fails is logged, backed off and retried; one
that keeps failing ends the process (non-zero) so systemd's ``Restart=`` brings it back.

Each loop is a *step* called again and again on its own thread. A step that returns is
progress (the loop's beat); a step that raises is a failure, counted until the next success.
After ``max_failures`` failures in a row the supervisor gives up: ``gave_up`` says why and
``IngestWorker.run_forever`` stops and raises. A loop whose step has not returned for
``stall_after`` seconds is stalled: the process then stops telling systemd's watchdog it is
alive (``watchdog``), and ``/healthz/ingest`` sees its heartbeat row go stale.

The hub's own; a kiosk has a supervisor of its own (they may not share code).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from hub.infra.clock import utcnow

log = logging.getLogger("commonshed.ingest")

MAX_FAILURES = 20  # in a row, per loop: ~90 s of backing off before the process gives up
BACKOFF_START_S = 0.5
BACKOFF_CAP_S = 5.0  # so a loop is back within 5 s of the database
STALL_AFTER_S = 45.0  # longer than SQLite's 30 s busy wait: a slow step is not a stuck one


@dataclass(frozen=True, slots=True)
class Backoff:
    """Wait ``start`` seconds after the first failure, doubling up to ``cap``."""

    start: float = BACKOFF_START_S
    cap: float = BACKOFF_CAP_S

    def delay(self, failures: int) -> float:
        """Return how long to wait after ``failures`` failures in a row (1 or more)."""
        return float(min(self.cap, self.start * 2 ** max(failures - 1, 0)))


@dataclass
class LoopState:
    """What the supervisor knows of one loop: its beat, progress and failures."""

    name: str
    beat: float = field(default_factory=time.monotonic)  # last time a step returned
    beat_at: datetime = field(default_factory=utcnow)
    progress_at: datetime | None = None  # last time the loop did work (e.g. committed a batch)
    failures: int = 0  # in a row
    last_error: str | None = None
    last_error_at: datetime | None = None


class Supervisor:
    """Run each loop's step on its own thread, retrying failures with a capped backoff."""

    def __init__(
        self,
        stopping: threading.Event,
        *,
        max_failures: int = MAX_FAILURES,
        backoff: Backoff | None = None,
        stall_after: float = STALL_AFTER_S,
    ) -> None:
        if max_failures < 1:
            raise ValueError(f"max_failures must be at least 1, not {max_failures}")
        self.stopping, self.max_failures = stopping, max_failures
        self.backoff, self.stall_after = backoff or Backoff(), stall_after
        self.loops: dict[str, LoopState] = {}
        self.gave_up: str | None = None  # why the process must end, once it must
        self._threads: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()

    def start(self, name: str, step: Callable[[], None], *, pause: float = 0.0) -> None:
        """Run ``step`` again and again (``pause`` seconds apart) on a thread of its own."""
        self.loops[name] = LoopState(name)
        thread = threading.Thread(
            target=self._run, args=(name, step, pause), name=f"ingest-{name}", daemon=True
        )
        self._threads[name] = thread
        thread.start()

    def join(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds for every loop to end (after ``stopping`` is set)."""
        deadline = time.monotonic() + timeout
        for thread in self._threads.values():
            thread.join(max(0.0, deadline - time.monotonic()))

    def progressed(self, name: str) -> None:
        """Record that loop ``name`` did real work just now (a batch committed, a pass run)."""
        self.loops[name].progress_at = utcnow()

    def dead_loop(self) -> str | None:
        """Return the name of a loop whose thread ended while not stopping, if any.

        Only something that is not an ``Exception`` (``SystemExit`` in a thread, a crash of
        the interpreter's own) gets past ``_run``; the process must not go on without it.
        """
        for name, thread in self._threads.items():
            if not thread.is_alive() and not self.stopping.is_set():
                return name
        return None

    def give_up(self, why: str) -> None:
        """End the process's work: record ``why`` and ask every loop to stop."""
        with self._lock:
            self.gave_up = self.gave_up or why
        log.critical("giving up: %s", self.gave_up)
        self.stopping.set()

    def trouble(self) -> str | None:
        """Return what is wrong (a loop gave up, died or stalled), or None if all is well."""
        if self.gave_up:
            return self.gave_up
        dead = self.dead_loop()
        if dead is not None:
            return f"the {dead} loop ended"
        now = time.monotonic()
        for name, state in self.loops.items():
            if now - state.beat > self.stall_after:
                return f"the {name} loop has not come round for {now - state.beat:.0f} s"
        return None

    def _run(self, name: str, step: Callable[[], None], pause: float) -> None:
        state = self.loops[name]
        while not self.stopping.is_set():
            try:
                step()
            except Exception as error:  # noqa: BLE001  (the point: log, back off, retry)
                self._failed(state, error)
                self.stopping.wait(self.backoff.delay(state.failures))
                continue
            self._beat(state)
            if pause:
                self.stopping.wait(pause)

    def _beat(self, state: LoopState) -> None:
        if state.failures:
            log.warning("the %s loop works again after %d failures", state.name, state.failures)
        state.beat, state.beat_at, state.failures = time.monotonic(), utcnow(), 0

    def _failed(self, state: LoopState, error: Exception) -> None:
        state.failures += 1
        state.last_error, state.last_error_at = f"{type(error).__name__}: {error}"[:500], utcnow()
        state.beat, state.beat_at = time.monotonic(), utcnow()  # failing is not being stuck
        log.error(
            "the %s loop failed (%d in a row of %d allowed); retrying in %.1f s",
            state.name,
            state.failures,
            self.max_failures,
            self.backoff.delay(state.failures),
            exc_info=error,
        )
        if state.failures >= self.max_failures:
            self.give_up(
                f"the {state.name} loop failed {state.failures} times in a row; "
                f"last: {state.last_error}"
            )
