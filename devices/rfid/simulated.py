"""A card reader with no hardware, for tests and demos: put cards on it with ``present(uid)``.

It follows the hardware's rules: nothing is reported before ``start()`` or after ``stop()``; a
card resting on the reader is reported once; the same card is reported again only after it has
been gone for ``absent_seconds`` (or another card came in between). Unlike the hardware readers
it has no thread: ``when_card`` runs in the thread that calls ``present()`` or ``start()``.
"""

from __future__ import annotations

import queue as queue_module
import time

from devices.rfid.reader import CardCallback, CardReader, Clock
from devices.rfid.uid import canonical_uid


class SimulatedReader(CardReader):
    """A reader whose cards are put on and taken off by code."""

    def __init__(
        self,
        *,
        when_card: CardCallback | None = None,
        queue: queue_module.Queue[str] | None = None,
        absent_seconds: float = 0.5,
        clock: Clock = time.monotonic,
    ) -> None:
        super().__init__(
            when_card=when_card, queue=queue, absent_seconds=absent_seconds, clock=clock
        )
        self._card: str | None = None

    @property
    def card(self) -> str | None:
        """The UID of the card resting on the reader, or None."""
        return self._card

    def present(self, uid: str | bytes | list[int]) -> bool:
        """Put a card on the reader (replacing any other); return whether it was reported.

        Raise ValueError for a UID that is not 4 or 7 bytes.
        """
        self._check_open()
        uid = canonical_uid(uid)
        if uid == self._card:
            return False  # still resting: the hardware would only re-read it
        self._card = uid
        return self.running and self._sighted(uid)

    def remove(self) -> None:
        """Take the card off the reader; its absence starts counting now."""
        self._check_open()
        if self._card is not None:
            self._still_there(self._card)
        self._card = None

    def _on_start(self) -> None:
        # A card already resting on a reader is read at its first poll.
        if self._card is not None:
            self._sighted(self._card)

    def _on_stop(self) -> None:
        if self._card is not None:
            self._still_there(self._card)
