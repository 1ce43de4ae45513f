"""What every card reader shares: start/stop/close, debouncing, and delivery of UIDs.

A backend (MFRC522 over SPI, a USB keyboard wedge, a simulation) only has to notice cards and
call ``_sighted(uid)`` with a canonical UID; this module decides whether that is a new card and
hands it to ``when_card`` and/or ``queue``.
"""

from __future__ import annotations

import logging
import queue as queue_module
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Literal

from devices.errors import DeviceClosed

logger = logging.getLogger(__name__)

CardCallback = Callable[[str], object]
Clock = Callable[[], float]


@dataclass(frozen=True)
class ReaderHealth:
    """Whether a reader can see cards: ``ok`` or ``missing`` (the chip does not answer), how
    many times it was re-initialised after a reset, its chip version and its latest error."""

    state: Literal["ok", "missing"] = "ok"
    reinitialised: int = 0
    version: int | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the reader can see cards now."""
        return self.state == "ok"


class CardDebouncer:
    """Tell a new card from one still resting on the reader.

    A card is new when it differs from the last card seen, or when the last card has not been seen
    for ``absent_seconds``. An RC522 re-reports a resting card about every 100 ms, so any absence
    shorter than ``absent_seconds`` is treated as the same tap.
    """

    def __init__(self, absent_seconds: float) -> None:
        if absent_seconds < 0:
            raise ValueError(f"absent_seconds must be >= 0, not {absent_seconds}")
        self.absent_seconds = absent_seconds
        self._uid: str | None = None
        self._last_seen = float("-inf")

    def is_new_sighting(self, uid: str, now: float) -> bool:
        """Record that ``uid`` was seen at ``now``; return whether it counts as a new card."""
        new = uid != self._uid or now - self._last_seen >= self.absent_seconds
        self.mark_seen(uid, now)
        return new

    def mark_seen(self, uid: str, now: float) -> None:
        """Record that ``uid`` was still on the reader at ``now``, without judging it."""
        self._uid, self._last_seen = uid, now


class ReaderThread(threading.Thread):
    """Run a reader's loop in a daemon thread until asked to stop (like gpiozero's GPIOThread)."""

    def __init__(self, loop: Callable[[threading.Event], None], name: str) -> None:
        super().__init__(name=name, daemon=True)
        self.stopping = threading.Event()
        self._loop = loop

    def run(self) -> None:
        self._loop(self.stopping)

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the loop to end and wait for it, unless called from the loop itself."""
        self.stopping.set()
        # NOTE: a when_card callback may stop its own reader; joining ourselves would raise.
        if threading.current_thread() is not self:
            self.join(timeout)
            if self.is_alive():
                logger.warning("%s did not stop within %.1f s; left to die", self.name, timeout)


class CardReader:
    """Report each card put on a reader once, to ``when_card(uid)`` and/or ``queue.put(uid)``.

    A reader is quiet until ``start()``; ``stop()`` pauses it; ``close()`` releases the hardware
    and is safe to call twice. Callbacks run on the reader's own thread: hand work to a queue
    rather than block there. A callback that raises is logged and the reader keeps reading.
    """

    def __init__(
        self,
        *,
        when_card: CardCallback | None = None,
        queue: queue_module.Queue[str] | None = None,
        absent_seconds: float = 0.5,
        clock: Clock = time.monotonic,
    ) -> None:
        self.when_card = when_card
        self.queue = queue
        self._debouncer = CardDebouncer(absent_seconds)
        self._clock = clock
        self._lock = threading.Lock()
        self._thread: ReaderThread | None = None
        self._running = False
        self._closed = False

    @property
    def when_card(self) -> CardCallback | None:
        """The function called with each new card's UID, or None."""
        return self._when_card

    @when_card.setter
    def when_card(self, callback: CardCallback | None) -> None:
        if callback is not None and not callable(callback):
            raise TypeError(f"when_card must be callable or None, not {callback!r}")
        self._when_card = callback

    @property
    def absent_seconds(self) -> float:
        """How long a card must be gone before the same card counts as a new tap."""
        return self._debouncer.absent_seconds

    @property
    def health(self) -> ReaderHealth:
        """Whether the reader can see cards (backends that can tell override this)."""
        return ReaderHealth()

    @property
    def running(self) -> bool:
        """Whether the reader is reporting cards."""
        return self._running

    @property
    def closed(self) -> bool:
        """Whether ``close()`` has been called."""
        return self._closed

    def start(self) -> None:
        """Start reporting cards; do nothing if already started."""
        self._check_open()
        if not self._running:
            self._running = True
            self._on_start()

    def stop(self) -> None:
        """Stop reporting cards until the next ``start()``."""
        if self._running:
            self._running = False
            self._on_stop()

    def close(self) -> None:
        """Stop and release the hardware; a second call does nothing."""
        if not self._closed:
            self.stop()
            self._closed = True
            self._release()

    def __enter__(self) -> CardReader:
        self._check_open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._state_name}>"

    @property
    def _state_name(self) -> str:
        return "closed" if self._closed else "running" if self._running else "stopped"

    def _check_open(self) -> None:
        if self._closed:
            raise DeviceClosed(f"{type(self).__name__} is closed")

    def _sighted(self, uid: str) -> bool:
        """Note that ``uid`` is on the reader; deliver it if it is a new card; return whether."""
        with self._lock:
            new = self._debouncer.is_new_sighting(uid, self._clock())
        if new:
            self._deliver(uid)
        return new

    def _still_there(self, uid: str) -> None:
        """Note that ``uid`` is still on the reader, without reporting it."""
        with self._lock:
            self._debouncer.mark_seen(uid, self._clock())

    def _deliver(self, uid: str) -> None:
        if self.queue is not None:
            try:
                self.queue.put_nowait(uid)
            except queue_module.Full:
                logger.warning("card %s dropped: the reader's queue is full", uid)
        callback = self.when_card
        if callback is not None:
            try:
                callback(uid)
            except Exception:
                logger.exception("when_card failed for card %s", uid)

    def _on_start(self) -> None:
        """Begin noticing cards: by default, run ``_run`` in a ReaderThread."""
        self._thread = ReaderThread(self._run, name=f"{type(self).__name__}-{id(self):x}")
        self._thread.start()

    def _on_stop(self) -> None:
        if self._thread is not None:
            self._thread.stop()
            self._thread = None

    def _run(self, stopping: threading.Event) -> None:
        """Notice cards until ``stopping`` is set (backends with a thread override this)."""
        raise NotImplementedError

    def _release(self) -> None:
        """Release the hardware (backends that hold any override this)."""
