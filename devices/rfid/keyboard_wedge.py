"""The keyboard-wedge backend: a USB reader that "types" each card's UID and presses Enter.

Cheap readers type hex (``DEADBEEF``, ``de:ad:be:ef``) or, very often, the 4-byte UID as a
10-digit decimal number, some of them with the bytes reversed. Both are accepted and
canonicalised; anything else is logged and ignored.
"""

from __future__ import annotations

import logging
import os
import queue as queue_module
import re
import select
import sys
import threading
import time
from collections.abc import Iterator
from typing import Literal, TextIO

from devices.rfid.reader import CardCallback, CardReader, Clock
from devices.rfid.uid import canonical_uid, uid_from_decimal

logger = logging.getLogger(__name__)

ByteOrder = Literal["big", "little"]
DECIMAL_UID = re.compile(r"[0-9]{10}")
_LINE_ENDS = re.compile(rb"[\r\n]")
_WAKE_SECONDS = 0.1  # how often a quiet stream is left to check whether to stop


def parse_wedge_line(line: str, *, decimal_byteorder: ByteOrder = "big") -> str:
    """Return the canonical UID typed as ``line``, or raise ValueError.

    Exactly 10 digits are read as a decimal 4-byte UID; anything else must be hex.
    """
    text = line.strip()
    if DECIMAL_UID.fullmatch(text):
        return uid_from_decimal(text, byteorder=decimal_byteorder)
    return canonical_uid(text)


class KeyboardWedgeReader(CardReader):
    """A USB reader that types UIDs as lines on ``stream`` (``sys.stdin`` by default).

    ``decimal_byteorder`` says how the reader turns 4 UID bytes into a decimal number. The
    stream is read in a daemon thread and is never closed by the reader; a stream with no file
    descriptor (``io.StringIO``) is read with ``readline()``, so ``stop()`` cannot interrupt a
    wait for its next line. A kiosk service under systemd has no keyboard on stdin: give it the
    console (``StandardInput=tty``) or pass the stream of the terminal the reader types into.
    """

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        decimal_byteorder: ByteOrder = "big",
        when_card: CardCallback | None = None,
        queue: queue_module.Queue[str] | None = None,
        absent_seconds: float = 0.5,
        clock: Clock = time.monotonic,
    ) -> None:
        super().__init__(
            when_card=when_card, queue=queue, absent_seconds=absent_seconds, clock=clock
        )
        if decimal_byteorder not in ("big", "little"):
            raise ValueError(
                f"decimal_byteorder must be 'big' or 'little', not {decimal_byteorder!r}"
            )
        self.stream = sys.stdin if stream is None else stream
        self.decimal_byteorder: ByteOrder = decimal_byteorder

    def feed(self, line: str) -> str | None:
        """Take one typed line; report a new card; return its UID if it was reported."""
        self._check_open()
        if not line.strip():
            return None
        try:
            uid = parse_wedge_line(line, decimal_byteorder=self.decimal_byteorder)
        except ValueError as exc:
            logger.warning("ignored a line from the keyboard wedge: %s", _shortened(str(exc)))
            return None
        return uid if self._sighted(uid) else None

    def _run(self, stopping: threading.Event) -> None:
        for line in self._lines(stopping):
            if stopping.is_set():
                break
            self.feed(line)
        logger.debug("%r stopped reading its stream", self)

    def _lines(self, stopping: threading.Event) -> Iterator[str]:
        try:
            fd = self.stream.fileno()
        except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is an OSError
            return iter(self.stream.readline, "")
        return _lines_from_fd(fd, stopping)


def _lines_from_fd(fd: int, stopping: threading.Event) -> Iterator[str]:
    """Yield the lines read from ``fd`` until end of file or until ``stopping`` is set."""
    # NOTE: the descriptor is read directly, not through the TextIO object: a blocked readline()
    # could not be interrupted by stop(), and select() cannot see text buffered inside TextIO.
    pending = b""
    while not stopping.is_set():
        readable, _, _ = select.select([fd], [], [], _WAKE_SECONDS)
        if not readable:
            continue
        chunk = os.read(fd, 1024)
        if not chunk:  # end of file: the last line may lack its Enter
            yield pending.decode("ascii", "replace")
            return
        *lines, pending = _LINE_ENDS.split(pending + chunk)
        yield from (line.decode("ascii", "replace") for line in lines)


def _shortened(text: str, limit: int = 80) -> str:
    # A wedge types whatever is scanned; keep a stray barcode or password out of long log lines.
    return text if len(text) <= limit else text[: limit - 3] + "..."
