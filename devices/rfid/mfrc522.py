"""The MFRC522 backend: an RC522 board on the Pi's SPI bus, driven by the ``mfrc522`` library.

Only the library's low-level ``MFRC522`` class is used, for its registers (``Read_MFRC522``,
``Write_MFRC522``), its init and ``CalulateCRC``. Frames are sent here (``transceive``), because
the library's wait for an answer ignores the chip's timer interrupt and spins 2,000 register
reads on every poll with no card (60 ms of SPI at 30 µs a transfer); ours stops when the
timer says nobody answered (~15 ms). The anticollision and select are done here too, because
the library's own helpers get UIDs wrong: ``uid_to_num`` folds the BCC check byte into the
number (DE AD BE EF reads as 0xDEADBEEF22) and only cascade level 1 is read, so 7-byte UIDs
(NTAG, DESFire) come out as ``88`` plus 3 bytes.

The reader checks itself: it reads VersionReg at start and every ``check_seconds``. 0x00 or
0xFF means no chip on the bus (``health.state == "missing"``: no poll pretends "no card"); a
chip whose antenna or timer settings are gone has reset (a brown-out next to the solenoids)
and is re-initialised, as is one that stops answering frames.

``mfrc522``, ``spidev`` and ``RPi.GPIO`` are imported when a reader is built, never at import.
"""

from __future__ import annotations

import logging
import queue as queue_module
import threading
import time
from dataclasses import replace
from types import ModuleType
from typing import Any

from devices.errors import BadBackend, ReaderError
from devices.rfid.iso14443 import (
    CASCADE_TAG,
    NVB_ANTICOLLISION,
    NVB_SELECT,
    REQA,
    SAK_UID_INCOMPLETE,
    SEL_CODES,
    bcc,
    crc_a,
)
from devices.rfid.reader import CardCallback, CardReader, Clock, ReaderHealth
from devices.rfid.uid import canonical_uid

logger = logging.getLogger(__name__)

GPIO_BCM = 11  # RPi.GPIO.BCM, spelled out so that this module imports without RPi.GPIO
WHOLE_BYTES = 0x00  # BitFramingReg: transmit every bit of the last byte
SHORT_FRAME_BITS = 0x07  # BitFramingReg: REQA/WUPA are 7-bit frames
COMMAND_REG, COMM_IEN_REG, COMM_IRQ_REG, ERROR_REG = 0x01, 0x02, 0x04, 0x06
FIFO_DATA_REG, FIFO_LEVEL_REG, BIT_FRAMING_REG = 0x09, 0x0A, 0x0D
TX_CONTROL_REG, T_MODE_REG, VERSION_REG = 0x14, 0x2A, 0x37
IDLE, TRANSCEIVE = 0x00, 0x0C
START_SEND, FLUSH_FIFO, CLEAR_ALL_IRQS = 0x80, 0x80, 0x7F
ANSWERED_IRQS = 0x30  # RxIRq | IdleIRq
TIMER_IRQ, ERR_IRQ = 0x01, 0x02
FRAME_ERRORS = 0x1B  # ErrorReg: BufferOvfl, CollErr, ParityErr, ProtocolErr
ANTENNA_ON = 0x03
LIBRARY_T_MODE = 0x8D  # what MFRC522_Init writes to TModeReg (TAuto, prescaler high nibble)
ABSENT_VERSIONS = (0x00, 0xFF)  # MISO pulled down or up: no chip answers
# A bound on the wait for the timer (15 ms): 5,000 reads is 150 ms at 30 µs a transfer, and
# still 15 ms on a bus ten times faster. Past it the chip has stopped working.
MAX_IRQ_READS = 5000


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
        poll_seconds: float = 0.025,
        check_seconds: float = 1.0,
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
        self.poll_seconds, self.check_seconds = poll_seconds, check_seconds
        self.bus, self.device, self.pin_rst = bus, device, pin_rst
        self._gpio = _import_gpio()
        self._chip = _open_chip(self._gpio, bus, device, speed_hz, pin_rst)
        self._chip_lock = threading.Lock()
        self._health = ReaderHealth()
        self._suspect = False  # a poll failed: re-initialise at the next check
        self._next_check = float("-inf")
        self.check()

    def __repr__(self) -> str:
        return f"<Mfrc522Reader spi{self.bus}.{self.device} {self._state_name}>"

    @property
    def health(self) -> ReaderHealth:
        """Whether the RC522 answers, and how often it had to be re-initialised."""
        return self._health

    def read_uid(self) -> str | None:
        """Ask the reader once which card is on it; return its canonical UID, or None.

        Raise OSError when SPI fails, ReaderError when the chip stops answering, and ValueError
        for a card whose UID is neither 4 nor 7 bytes long (10-byte UIDs exist on paper).
        """
        self._check_open()
        with self._chip_lock:
            uid = read_uid_bytes(self._chip)
        return None if uid is None else canonical_uid(uid)

    def poll(self) -> str | None:
        """Read the reader once and report a new card; return its UID if it was reported.

        A reader whose chip is missing reads nothing (its health says so).
        """
        if not self._health.ok:
            return None
        uid = self.read_uid()
        return uid if uid is not None and self._sighted(uid) else None

    def check(self) -> ReaderHealth:
        """Read VersionReg; re-initialise a chip that has reset or stopped answering.

        Return the reader's health: ``missing`` while VersionReg reads 0x00 or 0xFF (or SPI
        fails), ``ok`` otherwise, with the count of re-initialisations.
        """
        self._check_open()
        self._next_check = self._clock() + self.check_seconds
        try:
            with self._chip_lock:
                version = self._chip.Read_MFRC522(VERSION_REG)
                if version in ABSENT_VERSIONS:
                    self._set_missing(f"VersionReg reads 0x{version:02X}: no RC522 answers")
                elif not self._health.ok or self._suspect or not is_configured(self._chip):
                    self._reinitialise(version)
                elif self._health.version != version:
                    self._health = replace(self._health, version=version)
        except OSError as exc:
            self._set_missing(f"SPI fails: {exc}")
        return self._health

    def _set_missing(self, why: str) -> None:
        if self._health.ok:
            logger.error("card reader on spi%d.%d not working: %s", self.bus, self.device, why)
        self._health = replace(self._health, state="missing", error=why)

    def _reinitialise(self, version: int) -> None:
        """Soft-reset the chip, set its timer and switch its antenna on (the library's init)."""
        self._chip.MFRC522_Init()
        count = self._health.reinitialised + 1
        why = "came back" if not self._health.ok else "had reset or stopped answering"
        logger.warning(
            "card reader on spi%d.%d %s: re-initialised (version 0x%02X, %d times so far)",
            self.bus,
            self.device,
            why,
            version,
            count,
        )
        self._health = ReaderHealth("ok", count, version, self._health.error)
        self._suspect = False

    def _run(self, stopping: threading.Event) -> None:
        errors = _ErrorStreak(f"polling the RC522 on spi{self.bus}.{self.device}")
        while not stopping.is_set():
            # NOTE: a missing chip is looked for at every poll: one register read, and the
            # reader is back within a poll of the chip answering again.
            if not self._health.ok or self._clock() >= self._next_check:
                self._check_quietly()
            if self._health.ok:
                self._poll_quietly(errors)
            stopping.wait(self.poll_seconds)

    def _poll_quietly(self, errors: _ErrorStreak) -> None:
        try:
            self.poll()
        except Exception as exc:  # an SPI hiccup must not end the kiosk's only reader
            errors.failed(exc)
            self._suspect, self._next_check = True, float("-inf")
        else:
            errors.ended()

    def _check_quietly(self) -> None:
        try:
            self.check()
        except Exception:  # the loop goes on; the next check tries again
            logger.exception("checking the card reader failed")

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


def is_configured(chip: Any) -> bool:
    """Whether the chip still has the library's settings: antenna on, timer set."""
    return bool(
        chip.Read_MFRC522(TX_CONTROL_REG) & ANTENNA_ON == ANTENNA_ON
        and chip.Read_MFRC522(T_MODE_REG) == LIBRARY_T_MODE
    )


def read_uid_bytes(chip: Any) -> bytes | None:
    """Wake a card, walk its cascade levels and return its UID bytes (BCC dropped), or None.

    ``chip`` is an ``mfrc522.MFRC522``. A 7-byte UID answers level 1 with the cascade tag 0x88
    and its first 3 bytes; the SAK of each select says whether another level follows.
    """
    atqa = transceive(chip, [REQA], last_bits=SHORT_FRAME_BITS)
    if atqa is None or len(atqa) != 2:
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
    return transceive(chip, frame, last_bits=WHOLE_BYTES)


def transceive(chip: Any, frame: list[int], *, last_bits: int) -> list[int] | None:
    """Send ``frame`` and return the card's answer, or None when no card answers in time.

    Wait on CommIrqReg for RxIRq/IdleIRq (answered) or TimerIRq (the chip's timer, started at
    the end of the transmission: nobody answered). Raise ReaderError when neither comes
    within MAX_IRQ_READS reads: the chip has lost its settings or stopped working.
    """
    write, read = chip.Write_MFRC522, chip.Read_MFRC522
    write(COMM_IEN_REG, 0x80 | 0x77)  # as the library: every interrupt, IRQ pin inverted
    write(COMM_IRQ_REG, CLEAR_ALL_IRQS)
    write(FIFO_LEVEL_REG, FLUSH_FIFO)
    write(COMMAND_REG, IDLE)
    for byte in frame:
        write(FIFO_DATA_REG, byte)
    write(COMMAND_REG, TRANSCEIVE)
    write(BIT_FRAMING_REG, START_SEND | last_bits)
    irq = _wait_for_irq(read)
    write(BIT_FRAMING_REG, last_bits)  # StartSend off
    if not irq & ANSWERED_IRQS or read(ERROR_REG) & FRAME_ERRORS:
        return None
    return [read(FIFO_DATA_REG) for _ in range(read(FIFO_LEVEL_REG))]


def _wait_for_irq(read: Any) -> int:
    for _ in range(MAX_IRQ_READS):
        irq = int(read(COMM_IRQ_REG))
        if irq & (ANSWERED_IRQS | TIMER_IRQ | ERR_IRQ):
            return irq
    raise ReaderError(f"the RC522 raised no interrupt within {MAX_IRQ_READS} reads")


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
