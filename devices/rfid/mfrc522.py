"""The MFRC522 backend: an RC522 board on the Pi's SPI bus, driven by the ``mfrc522`` library.

Only the library's low-level ``MFRC522`` class is used, as a register and frame primitive
(``MFRC522_Request``, ``MFRC522_ToCard``, ``CalulateCRC``). The anticollision and select are done
here, because the library's own helpers get UIDs wrong: ``uid_to_num`` folds the BCC check byte
into the number (DE AD BE EF reads as 0xDEADBEEF22) and only cascade level 1 is read, so 7-byte
UIDs (NTAG, DESFire) come out as ``88`` plus 3 bytes.

``mfrc522``, ``spidev`` and ``RPi.GPIO`` are imported when a reader is built, never at import.
"""

from __future__ import annotations

import logging
import queue as queue_module
import threading
import time
from types import ModuleType
from typing import Any

from devices.errors import BadBackend, ReaderError
from devices.rfid.iso14443 import (
    CASCADE_TAG,
    NVB_ANTICOLLISION,
    NVB_SELECT,
    SAK_UID_INCOMPLETE,
    SEL_CODES,
    bcc,
    crc_a,
)
from devices.rfid.reader import CardCallback, CardReader, Clock
from devices.rfid.uid import canonical_uid

logger = logging.getLogger(__name__)

GPIO_BCM = 11  # RPi.GPIO.BCM, spelled out so that this module imports without RPi.GPIO
WHOLE_BYTES = 0x00  # BitFramingReg: transmit every bit of the last byte


class Mfrc522Reader(CardReader):
    """An RC522 card reader on SPI, polled every ``poll_seconds`` in a daemon thread.

    ``pin_rst`` is the RC522's RST line in BCM numbering, like every other pin in a kiosk's
    config (the usual wiring puts it on physical pin 22, which is GPIO25). Raise ``BadBackend``
    when the hardware libraries cannot be imported.
    """

    def __init__(
        self,
        *,
        bus: int = 0,
        device: int = 0,
        speed_hz: int = 1_000_000,
        pin_rst: int = 25,
        poll_seconds: float = 0.05,
        when_card: CardCallback | None = None,
        queue: queue_module.Queue[str] | None = None,
        absent_seconds: float = 0.5,
        clock: Clock = time.monotonic,
    ) -> None:
        super().__init__(
            when_card=when_card, queue=queue, absent_seconds=absent_seconds, clock=clock
        )
        if not poll_seconds > 0:
            raise ValueError(f"poll_seconds must be positive, not {poll_seconds!r}")
        self.poll_seconds = poll_seconds
        self.bus, self.device, self.pin_rst = bus, device, pin_rst
        self._gpio = _import_gpio()
        self._chip = _open_chip(self._gpio, bus, device, speed_hz, pin_rst)
        self._chip_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<Mfrc522Reader spi{self.bus}.{self.device} {self._state_name}>"

    def read_uid(self) -> str | None:
        """Ask the reader once which card is on it; return its canonical UID, or None.

        Raise OSError when SPI fails, and ValueError for a card whose UID is neither 4 nor 7
        bytes long (10-byte UIDs exist on paper).
        """
        self._check_open()
        with self._chip_lock:
            uid = read_uid_bytes(self._chip)
        return None if uid is None else canonical_uid(uid)

    def poll(self) -> str | None:
        """Read the reader once and report a new card; return its UID if it was reported."""
        uid = self.read_uid()
        return uid if uid is not None and self._sighted(uid) else None

    def _run(self, stopping: threading.Event) -> None:
        errors = _ErrorStreak(f"polling the RC522 on spi{self.bus}.{self.device}")
        while not stopping.is_set():
            try:
                self.poll()
            except Exception as exc:  # an SPI hiccup must not end the kiosk's only reader
                errors.failed(exc)
            else:
                errors.ended()
            stopping.wait(self.poll_seconds)

    def _release(self) -> None:
        # NOTE: not Close_MFRC522(): it calls GPIO.cleanup() for every pin of the process,
        # which would also release pins that gpiozero (lockers) may hold through RPi.GPIO.
        with self._chip_lock:
            try:
                self._chip.AntennaOff()
            except OSError:
                logger.warning("could not switch the antenna of %r off", self)
            self._chip.spi.close()
            self._gpio.cleanup(self.pin_rst)


def read_uid_bytes(chip: Any) -> bytes | None:
    """Wake a card, walk its cascade levels and return its UID bytes (BCC dropped), or None.

    ``chip`` is an ``mfrc522.MFRC522``. A 7-byte UID answers level 1 with the cascade tag 0x88
    and its first 3 bytes; the SAK of each select says whether another level follows.
    """
    status, _bits = chip.MFRC522_Request(chip.PICC_REQIDL)
    if status != chip.MI_OK:
        return None
    uid = b""
    for sel in SEL_CODES:
        level = _anticollision(chip, sel)
        sak = None if level is None else _select(chip, sel, level)
        if level is None or sak is None:
            return None
        if not sak & SAK_UID_INCOMPLETE:
            return uid + level
        if level[0] != CASCADE_TAG:
            return None  # a card that says "more to come" must lead with the cascade tag
        uid += level[1:]
    return None


def _anticollision(chip: Any, sel: int) -> bytes | None:
    """Ask for one cascade level; return its 4 bytes if the BCC checks out."""
    answer = _transceive(chip, [sel, NVB_ANTICOLLISION])
    if answer is None or len(answer) != 5 or bcc(answer[:4]) != answer[4]:
        return None
    return bytes(answer[:4])


def _select(chip: Any, sel: int, level: bytes) -> int | None:
    """Select one cascade level; return the card's SAK if its CRC checks out."""
    frame = [sel, NVB_SELECT, *level, bcc(level)]
    frame += chip.CalulateCRC(frame)
    answer = _transceive(chip, frame)
    if answer is None or len(answer) != 3 or crc_a(answer[:1]) != bytes(answer[1:]):
        return None
    return answer[0]


def _transceive(chip: Any, frame: list[int]) -> list[int] | None:
    chip.Write_MFRC522(chip.BitFramingReg, WHOLE_BYTES)
    status, answer, _bits = chip.MFRC522_ToCard(chip.PCD_TRANSCEIVE, frame)
    return answer if status == chip.MI_OK else None


def _import_gpio() -> ModuleType:
    try:
        import RPi.GPIO as GPIO
    except (ImportError, RuntimeError) as exc:  # RPi.GPIO raises RuntimeError off a Pi
        raise BadBackend(f"the mfrc522 backend needs RPi.GPIO (or rpi-lgpio): {exc}") from exc
    return GPIO


def _open_chip(gpio: ModuleType, bus: int, device: int, speed_hz: int, pin_rst: int) -> Any:
    try:
        from mfrc522 import MFRC522
    except (ImportError, RuntimeError) as exc:
        raise BadBackend(f"the mfrc522 backend needs mfrc522 and spidev: {exc}") from exc
    # NOTE: the library silently reinterprets pin_rst in whatever numbering RPi.GPIO already
    # uses; refuse rather than pulse the wrong pin.
    if gpio.getmode() not in (None, GPIO_BCM):
        raise ReaderError("RPi.GPIO is already set to BOARD numbering; Mfrc522Reader needs BCM")
    library_log = logging.getLogger("mfrc522Logger")
    handlers = list(library_log.handlers)
    try:
        return MFRC522(bus=bus, device=device, spd=speed_hz, pin_mode=GPIO_BCM, pin_rst=pin_rst)
    except OSError as exc:
        raise ReaderError(
            f"no RC522 answers on /dev/spidev{bus}.{device} (is SPI on, is it wired?): {exc}"
        ) from exc
    finally:
        # NOTE: each MFRC522() adds a StreamHandler to its logger; drop it so that records go
        # through our logging configuration, once.
        for handler in library_log.handlers[:]:
            if handler not in handlers:
                library_log.removeHandler(handler)


class _ErrorStreak:
    """Log the first of a run of identical errors as a warning, repeats quietly, and recovery."""

    def __init__(self, activity: str) -> None:
        self._activity = activity
        self._last: str | None = None
        self._count = 0

    def failed(self, exc: Exception) -> None:
        text = f"{type(exc).__name__}: {exc}"
        if text != self._last:
            logger.warning("%s failed: %s", self._activity, text, exc_info=exc)
        else:
            logger.debug("%s failed again: %s", self._activity, text)
        self._last, self._count = text, self._count + 1

    def ended(self) -> None:
        if self._last is not None:
            logger.info("%s works again after %d failures", self._activity, self._count)
            self._last, self._count = None, 0
