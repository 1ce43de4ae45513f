"""One tool locker: a fail-secure lock on a relay, a reed switch on the door, maybe an LED.

Fail-secure means the lock holds when its coil is unpowered. The relay is therefore only ever
energised by a timed pulse (``unlock()``), and every way out of this class (``lock()``, a pulse
that ends, ``close()``, a process that exits) leaves the relay released. ``relay_active_high``
says which pin level energises the relay; pick the pin so that its power-on pull holds the relay
released (see devices/README.md). No pulse may last longer than ``max_pulse_seconds``: a coil
driven for minutes overheats, and a door held unlocked that long is no longer a timed pulse.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack

from gpiozero import LED, DigitalOutputDevice
from gpiozero.pins import Factory

from devices.errors import BadLockerConfig, DeviceClosed
from devices.lockers.door import DoorSwitch
from devices.lockers.events import EventCallback, LockerEvent, LockerEventKind
from devices.lockers.supervised import LoopState, SupervisedDoor

logger = logging.getLogger(__name__)

Pin = int | str
Clock = Callable[[], float]
MAX_PULSE_SECONDS = 30.0  # the longest any coil is driven, whatever is asked
ALARM_BLINK_SECONDS = 0.25  # the LED's fast blink while a door is left open
_LOG_LEVELS = {
    LockerEventKind.DOOR_OPENED: logging.INFO,
    LockerEventKind.DOOR_CLOSED: logging.INFO,
    LockerEventKind.DOOR_FORCED: logging.WARNING,
    LockerEventKind.DOOR_LEFT_OPEN: logging.WARNING,
}


class Locker:
    """A locker whose door opens for a timed pulse and reports what its door does.

    Events go to ``on_event(LockerEvent)`` with this locker's ``locker_id`` (by default the
    relay pin): ``door_opened`` when the door opens during an unlock pulse or within
    ``forced_grace_seconds`` after it, ``door_forced`` when it opens at any other time,
    ``door_closed``, and ``door_left_open`` once it has stood open for
    ``door_open_alarm_seconds``. A supervised door loop (``door=SupervisedDoor``, instead of
    ``door_pin``) reads shut and open as a switch does; when it reads cut or shorted, or its
    converter does not answer, the locker locks and reports ``door_forced`` whatever the
    pulse, once per tamper. The callback runs on a gpiozero or timer thread: hand the event
    to a queue rather than block there; if it raises, the error is logged.
    """

    def __init__(
        self,
        relay_pin: Pin,
        door_pin: Pin | None = None,
        *,
        door: SupervisedDoor | None = None,
        locker_id: int | str | None = None,
        led_pin: Pin | None = None,
        relay_active_high: bool = True,
        pulse_seconds: float = 5.0,
        door_open_alarm_seconds: float = 60.0,
        forced_grace_seconds: float = 1.0,
        relock_on_open: bool = True,
        max_pulse_seconds: float = MAX_PULSE_SECONDS,
        pin_factory: Factory | None = None,
        on_event: EventCallback | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        _check_positive(
            pulse_seconds=pulse_seconds,
            door_open_alarm_seconds=door_open_alarm_seconds,
            max_pulse_seconds=max_pulse_seconds,
        )
        if pulse_seconds > max_pulse_seconds:
            raise BadLockerConfig(
                f"pulse_seconds is {pulse_seconds}, above the coil's cap of {max_pulse_seconds} s"
            )
        self.max_pulse_seconds, self._clock = max_pulse_seconds, clock
        if forced_grace_seconds < 0:
            raise BadLockerConfig(f"forced_grace_seconds must be >= 0, not {forced_grace_seconds}")
        self.locker_id = relay_pin if locker_id is None else locker_id
        self.pulse_seconds = pulse_seconds
        self.door_open_alarm_seconds = door_open_alarm_seconds
        self.forced_grace_seconds = forced_grace_seconds
        self.relock_on_open = relock_on_open
        self.on_event = on_event
        self._lock = threading.RLock()
        self._closed = False
        self._unlocked_until = float("-inf")
        self._alarm: threading.Timer | None = None
        if (door_pin is None) == (door is None):
            raise BadLockerConfig(
                f"locker {self.locker_id!r} needs either a door_pin or a supervised door, not "
                f"{'both' if door is not None else 'neither'}"
            )
        self._relay, self._door, self._led = _open_devices(
            relay_pin, door_pin if door is None else door, led_pin, relay_active_high, pin_factory
        )
        # NOTE: listen first, then read: an edge between reading the door and listening to it
        # would be lost, and a door shut in that instant would count as open for good.
        self._door_was_open = False
        self._door.when_door_opened = self._door_opened
        self._door.when_door_closed = self._door_closed
        if isinstance(self._door, SupervisedDoor):
            self._door.when_tampered = self._door_tampered
        with self._lock:
            if self._door.door_open and not self._door_was_open:
                self._door_was_open = True
                self._start_alarm()  # found open at start: nobody here unlocked it
        if isinstance(self._door, SupervisedDoor) and self._door.tampered:
            self._door_tampered(self._door.state)

    def __repr__(self) -> str:
        if self._closed:
            return f"<Locker {self.locker_id!r} closed>"
        state = "unlocked" if self.is_unlocked else "locked"
        door = "open" if self.door_open else "closed"
        return f"<Locker {self.locker_id!r} {state}, door {door}>"

    @property
    def closed(self) -> bool:
        """Whether ``close()`` has been called."""
        return self._closed

    @property
    def is_unlocked(self) -> bool:
        """Whether the relay is energised right now (an unlock pulse is running)."""
        self._check_open()
        return bool(self._relay.is_active)

    @property
    def door_loop(self) -> SupervisedDoor | None:
        """The supervised door loop, or None for a plain door switch."""
        return self._door if isinstance(self._door, SupervisedDoor) else None

    @property
    def door_open(self) -> bool:
        """Whether the door switch reads open."""
        self._check_open()
        return self._door.door_open

    def unlock(self, seconds: float | None = None) -> None:
        """Energise the relay for ``seconds`` (default ``pulse_seconds``), then release it.

        Unlocking during a pulse restarts the pulse from now, with no gap. A pulse longer than
        ``max_pulse_seconds`` is cut to it (and logged).
        """
        seconds = self.pulse_seconds if seconds is None else seconds
        _check_positive(seconds=seconds)
        if seconds > self.max_pulse_seconds:
            logger.warning(
                "locker %s: a %.1f s pulse was asked; the coil's cap is %.1f s",
                self.locker_id,
                seconds,
                self.max_pulse_seconds,
            )
            seconds = self.max_pulse_seconds
        with self._lock:
            self._check_open()
            self._unlocked_until = self._clock() + seconds
            self._relay.blink(on_time=seconds, off_time=0, n=1, background=True)
            if self._led is not None:
                self._led.blink(on_time=seconds, off_time=0, n=1, background=True)
        logger.info("locker %s unlocked for %.1f s", self.locker_id, seconds)

    def lock(self) -> None:
        """End any unlock pulse now."""
        with self._lock:
            self._check_open()
            self._end_pulse()

    def close(self) -> None:
        """Release the relay (locked), stop watching the door and free the pins; safe twice."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            alarm = self._stop_alarm()
        if alarm is not None and alarm is not threading.current_thread():
            alarm.join()
        with ExitStack() as stack:  # close every device even if one of them fails
            for device in (self._relay, self._led, self._door):
                if device is not None:
                    stack.callback(device.close)
            # NOTE: DigitalOutputDevice.close() stops a running blink without writing the pin
            # back, so a pulse cut short by close() must be released explicitly first.
            self._relay.off()
            if self._led is not None:
                self._led.off()

    def __enter__(self) -> Locker:
        self._check_open()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _check_open(self) -> None:
        if self._closed:
            raise DeviceClosed(f"locker {self.locker_id!r} is closed")

    def _end_pulse(self) -> None:
        self._unlocked_until = min(self._unlocked_until, self._clock())
        self._relay.off()
        if self._led is not None:
            self._led.off()

    def _door_opened(self) -> None:
        now = self._clock()
        with self._lock:
            if self._closed or self._door_was_open:
                return  # a bounce or a missed edge: the door was already open
            self._door_was_open = True
            expected = now <= self._unlocked_until + self.forced_grace_seconds
            if expected and self.relock_on_open:
                self._end_pulse()  # the latch re-engages when the door is shut again
            self._start_alarm()
        kind = LockerEventKind.DOOR_OPENED if expected else LockerEventKind.DOOR_FORCED
        self._emit(kind, now)

    def _door_tampered(self, state: LoopState) -> None:
        """A supervised loop reads cut or shorted, or its converter is lost: lock and alarm."""
        now = self._clock()
        with self._lock:
            if self._closed:
                return
            self._end_pulse()  # whoever is at the door, it stays locked until the loop is sound
            if not self._door_was_open:
                self._door_was_open = True
                self._start_alarm()
        logger.warning("locker %s: door loop reads %s (tamper)", self.locker_id, state)
        self._emit(LockerEventKind.DOOR_FORCED, now)

    def _door_closed(self) -> None:
        now = self._clock()
        with self._lock:
            if self._closed or not self._door_was_open:
                return
            self._door_was_open = False
            self._stop_alarm()
        self._emit(LockerEventKind.DOOR_CLOSED, now)

    def _start_alarm(self) -> None:
        self._stop_alarm()
        self._alarm = threading.Timer(self.door_open_alarm_seconds, self._door_left_open)
        self._alarm.daemon = True
        self._alarm.start()

    def _stop_alarm(self) -> threading.Timer | None:
        """Cancel the left-open alarm and its blinking; return the timer, to join if need be."""
        # NOTE: never join the timer here: a timer that is already firing waits for self._lock.
        alarm, self._alarm = self._alarm, None
        if alarm is not None:
            alarm.cancel()
            if self._led is not None and not self._relay.is_active:
                self._led.off()  # end the alarm blink, not an unlock pulse
        return alarm

    def _door_left_open(self) -> None:
        with self._lock:
            if self._closed or self._alarm is not threading.current_thread():
                return  # the door closed while this timer was firing
            if self._led is not None:
                self._led.blink(on_time=ALARM_BLINK_SECONDS, off_time=ALARM_BLINK_SECONDS)
        self._emit(LockerEventKind.DOOR_LEFT_OPEN, self._clock())

    def _emit(self, kind: LockerEventKind, at: float) -> None:
        logger.log(_LOG_LEVELS[kind], "locker %s: %s", self.locker_id, kind)
        callback = self.on_event
        if callback is None:
            return
        try:
            callback(LockerEvent(kind, self.locker_id, at))
        except Exception:
            logger.exception("on_event failed for %s at locker %s", kind, self.locker_id)


def _open_devices(
    relay_pin: Pin,
    door: Pin | SupervisedDoor | None,
    led_pin: Pin | None,
    relay_active_high: bool,
    pin_factory: Factory | None,
) -> tuple[DigitalOutputDevice, DoorSwitch | SupervisedDoor, LED | None]:
    """Build the locker's gpiozero devices; if one fails, close those already built."""
    with ExitStack() as stack:
        relay = stack.enter_context(
            DigitalOutputDevice(
                relay_pin,
                active_high=relay_active_high,
                initial_value=False,
                pin_factory=pin_factory,
            )
        )
        door_input = (
            door
            if isinstance(door, SupervisedDoor)
            else stack.enter_context(DoorSwitch(door, pin_factory=pin_factory))
        )
        led = (
            None if led_pin is None else stack.enter_context(LED(led_pin, pin_factory=pin_factory))
        )
        stack.pop_all()
    return relay, door_input, led


def _check_positive(**values: float) -> None:
    for name, value in values.items():
        if not value > 0:
            raise BadLockerConfig(f"{name} must be a positive number of seconds, not {value!r}")
