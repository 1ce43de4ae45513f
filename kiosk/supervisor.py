"""Keep the kiosk's loops alive, and give the process up when one keeps failing.

Every long-running loop of a kiosk (the worker, the MQTT link, the screen server) runs its
steps through a ``LoopGuard``: a step that raises is logged with the loop's name and the
failure count, the loop backs off (doubling, up to ``backoff_max``) and tries again; a step that
succeeds resets the count and marks progress. After ``max_failures`` failures in a row the
supervisor gives up: ``gave_up`` is set and the process should exit non-zero, so that
systemd's ``Restart=`` starts it afresh. ``making_progress()`` tells the watchdog whether
every loop has completed a step lately: a frozen loop stops the heartbeat.

NOTE: the hub has a supervisor of its own; a kiosk knows the hub only through MQTT, so
nothing is shared.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger("commonshed.kiosk.supervisor")

Clock = Callable[[], float]
EXIT_GAVE_UP = 3  # the kiosk's exit status when a loop failed max_failures times in a row


class LoopGuard:
    """One supervised loop: run its steps, log and back off on failure, note its progress."""

    def __init__(self, supervisor: Supervisor, name: str) -> None:
        self.supervisor, self.name = supervisor, name
        self.failures = 0  # in a row
        self.last_progress = supervisor.clock()
        self.last_error: str | None = None

    def run(self, step: Callable[[], bool | None], stopping: threading.Event) -> None:
        """Run ``step()`` until ``stopping`` is set, ``step`` returns False, or we give up."""
        while not stopping.is_set() and not self.supervisor.gave_up.is_set():
            try:
                if step() is False:
                    return
            except Exception as error:  # noqa: BLE001  (logged, counted, retried)
                stopping.wait(self.failed(error))
            else:
                self.progressed()

    def progressed(self) -> None:
        """Note a step that completed: the loop is alive and working."""
        self.failures = 0
        self.last_progress = self.supervisor.clock()

    def failed(self, error: Exception) -> float:
        """Log ``error``, count it, give up after too many; return the seconds to back off."""
        self.failures += 1
        self.last_error = f"{self.name}: {type(error).__name__}: {error}"
        self.supervisor.note_error(self.last_error)
        limit = self.supervisor.max_failures
        log.error(
            "kiosk loop %s failed (%d of %d in a row): %s",
            self.name,
            self.failures,
            limit,
            error,
            exc_info=error,
        )
        if self.failures >= limit:
            self.supervisor.give_up(f"loop {self.name} failed {self.failures} times in a row")
            return 0.0
        backoff = self.supervisor.backoff_initial * 2.0 ** (self.failures - 1)
        return min(self.supervisor.backoff_max, backoff)

    def stalled_for(self) -> float:
        """Return how long ago this loop last completed a step."""
        return self.supervisor.clock() - self.last_progress


class Supervisor:
    """The kiosk process's loops, their health, and the decision to give up."""

    def __init__(
        self,
        *,
        max_failures: int = 5,
        backoff_initial: float = 0.5,
        backoff_max: float = 30.0,
        stall_seconds: float = 30.0,
        clock: Clock = time.monotonic,
    ) -> None:
        if max_failures < 1:
            raise ValueError(f"max_failures must be at least 1, not {max_failures}")
        self.max_failures = max_failures
        self.backoff_initial, self.backoff_max = backoff_initial, backoff_max
        self.stall_seconds, self.clock = stall_seconds, clock
        self.loops: dict[str, LoopGuard] = {}
        self.gave_up = threading.Event()
        self.reason: str | None = None
        self.last_error: str | None = None  # the latest failure of any loop, for the status

    def guard(self, name: str) -> LoopGuard:
        """Return the guard of loop ``name`` (made on first use)."""
        if name not in self.loops:
            self.loops[name] = LoopGuard(self, name)
        return self.loops[name]

    def note_error(self, text: str) -> None:
        """Remember ``text`` as the kiosk's last error (shown in its status)."""
        self.last_error = text

    def give_up(self, reason: str) -> None:
        """Say that the process should exit non-zero, and why."""
        if not self.gave_up.is_set():
            self.reason = reason
            log.critical("kiosk gives up: %s; exiting for systemd to restart it", reason)
            self.gave_up.set()

    def stalled(self) -> list[str]:
        """Return the names of the loops with no completed step for ``stall_seconds``."""
        return [n for n, g in self.loops.items() if g.stalled_for() > self.stall_seconds]

    def making_progress(self) -> bool:
        """Whether every loop has completed a step lately and nobody has given up."""
        return not self.gave_up.is_set() and not self.stalled()
