"""An MFRC522 chip and ISO 14443-A cards in software, at register level, behind a fake SPI bus.

It lets the real ``mfrc522`` library run off a Pi: ``hardware_modules(chip)`` returns stand-in
``spidev`` and ``RPi.GPIO`` modules to put into ``sys.modules`` before the library is first
imported. Tests use it to check the library's real SPI traffic; a demo can use it to run an
``Mfrc522Reader`` on a laptop::

    chip = EmulatedRc522()
    sys.modules.update(hardware_modules(chip))
    reader = Mfrc522Reader(when_card=print)
    chip.present(EmulatedCard("04A224E2B35C80"))

Emulated: the SPI register format, the 64-byte FIFO, the Idle, CalcCRC, Transceive and SoftReset
commands, StartSend, the set/clear semantics of CommIrqReg and DivIrqReg, ControlReg's
RxLastBits, the antenna switch, the timer that ends a frame nobody answers (TimerIRq), and cards
that follow the ISO 14443-3 state machine (so a card resting on the reader answers every other
REQA, as a real one does). Faults: a chip absent from the bus (``disconnect()``: every read
says 0x00 or 0xFF), a brown-out (``brown_out()``: the chip resets, antenna off, timer
unset) and SPI errors (``fail_transfers``). Not emulated: MIFARE authentication and memory,
several cards at once.

Time is the bus's: every SPI transfer advances ``elapsed`` by ``transfer_seconds`` (30 µs, a Pi 4
through spidev at 1 MHz with Python's overhead), and the timer fires when ``elapsed`` passes its
period. So a wait loop that spins on CommIrqReg sees the timer after as many transfers as the
real bus would take; ``advance()`` moves time without a transfer (a reader's pause).
"""

from __future__ import annotations

import errno
import functools
import threading
from collections import deque
from collections.abc import Callable
from types import ModuleType

from devices.rfid.iso14443 import (
    HLTA,
    NVB_ANTICOLLISION,
    NVB_SELECT,
    REQA,
    SAK_UID_INCOMPLETE,
    SEL_CODES,
    WUPA,
    bcc,
    cascade_levels,
    crc_a,
)

COMMAND_REG = 0x01
COMM_IRQ_REG = 0x04
DIV_IRQ_REG = 0x05
COMM_IEN_REG = 0x02
ERROR_REG = 0x06
FIFO_DATA_REG = 0x09
FIFO_LEVEL_REG = 0x0A
CONTROL_REG = 0x0C
BIT_FRAMING_REG = 0x0D
TX_CONTROL_REG = 0x14
T_MODE_REG = 0x2A
T_PRESCALER_REG = 0x2B
T_RELOAD_H_REG = 0x2C
T_RELOAD_L_REG = 0x2D
CRC_RESULT_MSB_REG = 0x21
CRC_RESULT_LSB_REG = 0x22
VERSION_REG = 0x37

CALC_CRC, TRANSCEIVE, SOFT_RESET = 0x03, 0x0C, 0x0F
SET_MARKED_BITS = 0x80  # bit 7 of CommIrqReg/DivIrqReg writes: set (1) or clear (0) the rest
START_SEND = 0x80
FLUSH_BUFFER = 0x80
ANTENNA_ON = 0x03  # Tx1RFEn | Tx2RFEn
CRC_IRQ = 0x04
ANSWERED_IRQ = 0x30  # RxIRq | IdleIRq: what the library waits for
TX_IRQ, TIMER_IRQ = 0x40, 0x01
# NOTE: real silicon raises TxIRq at once and TimerIRq when its timer runs out, if no card
# answers; the library's wait loop ignores TimerIRq and spins 2,000 register reads.
T_AUTO = 0x80  # TModeReg: the timer starts by itself at the end of a transmission
CHIP_CLOCK_HZ = 13_560_000
FIFO_SIZE = 64
TRANSFER_SECONDS = 30e-6  # one SPI transfer on a Pi 4 through spidev (an assumption)

RESET_VALUES = {
    COMMAND_REG: 0x20,
    0x02: 0x80,  # ComIEnReg
    COMM_IRQ_REG: 0x14,
    0x07: 0x21,  # Status1Reg
    0x0B: 0x08,  # WaterLevelReg
    CONTROL_REG: 0x10,
    0x0E: 0x80,  # CollReg
    0x11: 0x3F,  # ModeReg
    TX_CONTROL_REG: 0x80,
    CRC_RESULT_MSB_REG: 0xFF,
    CRC_RESULT_LSB_REG: 0xFF,
    VERSION_REG: 0x92,  # MFRC522 version 2.0
}

IDLE, READY, ACTIVE, HALT = "idle", "ready", "active", "halt"
_WOKEN_BY = {REQA: (IDLE,), WUPA: (IDLE, HALT)}  # the card states each wake-up frame wakes


class EmulatedCard:
    """An ISO 14443-A card (4-, 7- or 10-byte UID) answering wake-up, anticollision and select."""

    def __init__(self, uid: str | bytes, *, sak: int | None = None) -> None:
        self.uid = bytes.fromhex(uid.replace(":", "")) if isinstance(uid, str) else bytes(uid)
        self._levels = cascade_levels(self.uid)
        # MIFARE Classic 1K (4 bytes) answers SAK 0x08; NTAG and Ultralight (7 bytes) 0x00.
        self.sak = (0x08 if len(self.uid) == 4 else 0x00) if sak is None else sak
        self.atqa = bytes((0x04 | (len(self._levels) - 1) << 6, 0x00))
        self.state = IDLE
        self.wakeups = 0  # how many times the card answered REQA/WUPA
        self._level = 0

    def __repr__(self) -> str:
        return f"<EmulatedCard {self.uid.hex().upper()} {self.state}>"

    def power_off(self) -> None:
        """Lose the field: the card starts from IDLE when it next gets power."""
        self.state, self._level = IDLE, 0

    def answer(self, frame: bytes, last_bits: int) -> bytes | None:
        """Return the card's answer to ``frame`` (whose last byte has ``last_bits``), or None."""
        if last_bits == 7 and len(frame) == 1:
            return self._wake(frame[0])
        if self.state == READY:
            return self._anticollide(frame)
        if self.state == ACTIVE and frame == _with_crc(bytes((HLTA, 0x00))):
            self.state = HALT
            return None
        self._confused()
        return None

    def _wake(self, command: int) -> bytes | None:
        if self.state in _WOKEN_BY.get(command, ()):
            self.state, self._level = READY, 0
            self.wakeups += 1
            return self.atqa
        self._confused()
        return None

    def _anticollide(self, frame: bytes) -> bytes | None:
        sel = SEL_CODES[self._level]
        level = self._levels[self._level] + bytes((bcc(self._levels[self._level]),))
        if frame == bytes((sel, NVB_ANTICOLLISION)):
            return level
        if frame == _with_crc(bytes((sel, NVB_SELECT)) + level):
            return self._selected()
        self._confused()
        return None

    def _selected(self) -> bytes:
        self._level += 1
        if self._level < len(self._levels):
            return _with_crc(bytes((SAK_UID_INCOMPLETE,)))
        self.state = ACTIVE
        return _with_crc(bytes((self.sak,)))

    def _confused(self) -> None:
        # ISO 14443-3: a frame a READY or ACTIVE card does not expect sends it back to IDLE.
        if self.state in (READY, ACTIVE):
            self.state = IDLE


class EmulatedRc522:
    """An MFRC522 seen through its registers, with at most one card in its field."""

    def __init__(self, *, transfer_seconds: float = TRANSFER_SECONDS, version: int = 0x92) -> None:
        self.version = version  # VersionReg: 0x91/0x92 genuine, clones other values
        self._lock = threading.RLock()
        self.card: EmulatedCard | None = None
        self.frames: list[bytes] = []  # every frame sent on air, oldest first
        self.spi_devices: list[EmulatedSpiDev] = []
        self.transfer_seconds = transfer_seconds
        self.elapsed = 0.0  # the bus's time: transfer_seconds per transfer, plus advance()
        self.transfers = 0
        self.resets = 0  # soft resets and brown-outs
        self.absent_reads: int | None = None  # what every read says while disconnected
        self._card_from = 0.0  # the card is in the field from this elapsed time on
        self._timer_ends: float | None = None
        self._faults = 0
        self._registers = bytearray(64)
        self._fifo: deque[int] = deque(maxlen=FIFO_SIZE)
        self._soft_reset()
        self.resets = 0  # the power-on reset is no fault

    def present(self, card: EmulatedCard | str | bytes, *, at: float | None = None) -> EmulatedCard:
        """Put ``card`` (or a card with that UID) in the field, replacing any other; with
        ``at``, the card enters the field only once ``elapsed`` reaches ``at``."""
        with self._lock:
            self.card = card if isinstance(card, EmulatedCard) else EmulatedCard(card)
            self.card.power_off()
            self._card_from = self.elapsed if at is None else at
            return self.card

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` of bus time pass without a transfer (the reader pausing)."""
        with self._lock:
            self.elapsed += seconds

    def disconnect(self, reads: int = 0xFF) -> None:
        """Take the chip off the bus: writes are lost, every read says ``reads`` (0xFF: MISO
        pulled up, 0x00: pulled down or a dead chip)."""
        with self._lock:
            self.absent_reads = reads

    def reconnect(self) -> None:
        """Put the chip back on the bus, as it was powered: freshly reset."""
        with self._lock:
            self.absent_reads = None
            self._soft_reset()

    def brown_out(self) -> None:
        """Reset the chip as a supply dip does: registers to their defaults, antenna off."""
        with self._lock:
            self._soft_reset()

    def remove(self) -> None:
        """Take the card out of the field."""
        with self._lock:
            self.card = None

    def fail_transfers(self, count: int) -> None:
        """Make the next ``count`` SPI transfers raise OSError, as a loose wire would."""
        self._faults = count

    def transfer(self, data: list[int]) -> list[int]:
        """Answer one SPI transaction: an address byte, then data (write) or addresses (read)."""
        with self._lock:
            if self._faults:
                self._faults -= 1
                raise OSError(errno.EIO, "emulated SPI fault")
            self.transfers += 1
            self.elapsed += self.transfer_seconds
            if self.absent_reads is not None:
                return [self.absent_reads] * len(data)
            if data[0] & 0x80:
                return [0] + [self.read_register((byte >> 1) & 0x3F) for byte in data[:-1]]
            for value in data[1:]:
                self.write_register((data[0] >> 1) & 0x3F, value)
            return [0] * len(data)

    def read_register(self, register: int) -> int:
        """Return a register's value as the chip would; reading FIFODataReg pops a byte."""
        if register == FIFO_DATA_REG:
            return self._fifo.popleft() if self._fifo else 0
        if register == FIFO_LEVEL_REG:
            return len(self._fifo)
        if register == COMM_IRQ_REG:
            self._run_timer()
        return self._registers[register]

    def write_register(self, register: int, value: int) -> None:
        """Write a register and run whatever the chip does on that write."""
        handlers: dict[int, Callable[[int], object]] = {
            COMMAND_REG: self._write_command,
            FIFO_DATA_REG: self._fifo.append,
            FIFO_LEVEL_REG: self._write_fifo_level,
            BIT_FRAMING_REG: self._write_bit_framing,
            COMM_IRQ_REG: functools.partial(self._write_irq, COMM_IRQ_REG),
            DIV_IRQ_REG: functools.partial(self._write_irq, DIV_IRQ_REG),
            TX_CONTROL_REG: self._write_tx_control,
        }
        special = handlers.get(register)
        if special is None:
            self._registers[register] = value
        else:
            special(value)

    @property
    def antenna_on(self) -> bool:
        """Whether the chip drives its antenna (only then can a card answer)."""
        return self._registers[TX_CONTROL_REG] & ANTENNA_ON == ANTENNA_ON

    def timer_period(self) -> float | None:
        """Return how long the timer runs after a transmission, or None if it does not start.

        The datasheet's formula: (2 * TPrescaler + 1) * (TReload + 1) / 13.56 MHz, TPrescaler
        being TModeReg's low nibble above TPrescalerReg. The library's settings give 15.5 ms.
        """
        mode = self._registers[T_MODE_REG]
        if not mode & T_AUTO:
            return None
        prescaler = (mode & 0x0F) << 8 | self._registers[T_PRESCALER_REG]
        reload = self._registers[T_RELOAD_H_REG] << 8 | self._registers[T_RELOAD_L_REG]
        return (2 * prescaler + 1) * (reload + 1) / CHIP_CLOCK_HZ

    def _run_timer(self) -> None:
        if self._timer_ends is not None and self.elapsed >= self._timer_ends:
            self._registers[COMM_IRQ_REG] |= TIMER_IRQ
            self._timer_ends = None

    def _soft_reset(self) -> None:
        self.resets += 1
        self._timer_ends = None
        self._registers[:] = bytes(64)
        for register, value in RESET_VALUES.items():
            self._registers[register] = value
        self._registers[VERSION_REG] = self.version
        self._fifo.clear()
        if self.card is not None:
            self.card.power_off()

    def _write_command(self, value: int) -> None:
        self._registers[COMMAND_REG] = value
        if value & 0x0F == SOFT_RESET:
            self._soft_reset()
        elif value & 0x0F == CALC_CRC:
            self._calculate_crc()

    def _write_fifo_level(self, value: int) -> None:
        if value & FLUSH_BUFFER:
            self._fifo.clear()

    def _write_bit_framing(self, value: int) -> None:
        self._registers[BIT_FRAMING_REG] = value
        if value & START_SEND and self._registers[COMMAND_REG] & 0x0F == TRANSCEIVE:
            self._transceive()

    def _write_irq(self, register: int, value: int) -> None:
        if value & SET_MARKED_BITS:
            self._registers[register] |= value & 0x7F
        else:
            self._registers[register] &= ~value & 0xFF

    def _write_tx_control(self, value: int) -> None:
        self._registers[TX_CONTROL_REG] = value
        if not self.antenna_on and self.card is not None:
            self.card.power_off()

    def _calculate_crc(self) -> None:
        low, high = crc_a(self._fifo)
        self._fifo.clear()
        self._registers[CRC_RESULT_LSB_REG], self._registers[CRC_RESULT_MSB_REG] = low, high
        self._registers[DIV_IRQ_REG] |= CRC_IRQ

    def _transceive(self) -> None:
        frame = bytes(self._fifo)
        self._fifo.clear()
        self.frames.append(frame)
        answer = self._answer(frame, self._registers[BIT_FRAMING_REG] & 0x07 or 8)
        self._registers[ERROR_REG] = 0
        self._registers[COMM_IRQ_REG] |= TX_IRQ
        if answer is None:
            period = self.timer_period()
            self._timer_ends = None if period is None else self.elapsed + period
            return
        self._fifo.extend(answer)
        self._registers[CONTROL_REG] &= ~0x07 & 0xFF  # RxLastBits 0: whole bytes received
        self._registers[COMM_IRQ_REG] |= ANSWERED_IRQ

    def _answer(self, frame: bytes, last_bits: int) -> bytes | None:
        if self.card is None or not self.antenna_on or self.elapsed < self._card_from:
            return None
        return self.card.answer(frame, last_bits)


class EmulatedSpiDev:
    """A ``spidev.SpiDev`` whose bus leads to an EmulatedRc522."""

    def __init__(self, chip: EmulatedRc522) -> None:
        self._chip = chip
        self.max_speed_hz = 0
        self.mode = 0
        self.opened_at: tuple[int, int] | None = None
        self.closed = False

    def open(self, bus: int, device: int) -> None:
        """Open /dev/spidev<bus>.<device> (here: plug into the chip)."""
        self.opened_at, self.closed = (bus, device), False
        self._chip.spi_devices.append(self)

    def close(self) -> None:
        """Close the device."""
        self.closed = True

    def xfer2(self, data: list[int]) -> list[int]:
        """Run one SPI transaction with chip select held throughout."""
        if self.opened_at is None or self.closed:
            raise OSError(errno.EBADF, "SPI device is not open")
        return self._chip.transfer(list(data))

    xfer = xfer2


class EmulatedGpio:
    """The little of ``RPi.GPIO`` that the mfrc522 library uses, recording what it was asked."""

    BOARD, BCM, OUT, IN, HIGH, LOW = 10, 11, 0, 1, 1, 0

    def __init__(self) -> None:
        self.mode: int | None = None
        self.levels: dict[int, int] = {}
        self.cleanups: list[int | None] = []

    def getmode(self) -> int | None:
        return self.mode

    def setmode(self, mode: int) -> None:
        if self.mode not in (None, mode):
            raise ValueError("A different mode has already been set!")
        self.mode = mode

    def setwarnings(self, flag: bool) -> None:
        """Accept and ignore, as warnings do not matter here."""

    def setup(self, channel: int, direction: int, **_options: object) -> None:
        if self.mode is None:
            raise RuntimeError("Please set pin numbering mode using GPIO.setmode")
        self.levels[channel] = self.LOW

    def output(self, channel: int, value: int) -> None:
        if channel not in self.levels:
            raise RuntimeError("The GPIO channel has not been set up as an OUTPUT")
        self.levels[channel] = int(bool(value))

    def cleanup(self, channel: int | None = None) -> None:
        self.cleanups.append(channel)
        if channel is None:
            self.levels.clear()
            self.mode = None
        else:
            self.levels.pop(channel, None)


def hardware_modules(
    chip: EmulatedRc522, gpio: EmulatedGpio | None = None
) -> dict[str, ModuleType]:
    """Return stand-in ``spidev``, ``RPi`` and ``RPi.GPIO`` modules wired to ``chip``.

    Put them into ``sys.modules`` (in tests: with ``monkeypatch.setitem``) before ``mfrc522`` is
    imported: the library binds both modules when it is first imported.
    """
    gpio = EmulatedGpio() if gpio is None else gpio
    # A new ModuleType has no attributes to mypy; these stand-ins get theirs set here.
    spidev = ModuleType("spidev")
    spidev.SpiDev = functools.partial(EmulatedSpiDev, chip)  # type: ignore[attr-defined]
    gpio_module = ModuleType("RPi.GPIO")
    for name in ("BOARD", "BCM", "OUT", "IN", "HIGH", "LOW"):
        setattr(gpio_module, name, getattr(gpio, name))
    for name in ("getmode", "setmode", "setwarnings", "setup", "output", "cleanup"):
        setattr(gpio_module, name, getattr(gpio, name))
    rpi = ModuleType("RPi")
    rpi.GPIO = gpio_module  # type: ignore[attr-defined]  # (a stand-in module, as above)
    return {"spidev": spidev, "RPi": rpi, "RPi.GPIO": gpio_module}


def _with_crc(frame: bytes) -> bytes:
    return frame + crc_a(frame)
