"""Choose a card-reader backend by name, once, from config or the environment.

As gpiozero picks its pin factory from ``GPIOZERO_PIN_FACTORY``, a kiosk picks its reader from
``backend=`` (its config) or else ``COMMONSHED_CARD_READER``, and else gets the MFRC522.
"""

from __future__ import annotations

import os
from typing import Any

from devices.errors import BadBackend
from devices.rfid.keyboard_wedge import KeyboardWedgeReader
from devices.rfid.mfrc522 import Mfrc522Reader
from devices.rfid.reader import CardReader
from devices.rfid.simulated import SimulatedReader

ENV_VAR = "COMMONSHED_CARD_READER"
DEFAULT_BACKEND = "mfrc522"
BACKENDS: dict[str, type[CardReader]] = {
    "mfrc522": Mfrc522Reader,
    "keyboard_wedge": KeyboardWedgeReader,
    "simulated": SimulatedReader,
}


def open_reader(backend: str | None = None, **options: Any) -> CardReader:
    """Build the card reader named ``backend`` with ``options``; it is not started yet.

    Raise ``BadBackend`` for an unknown name, or when the backend's hardware libraries are
    missing (the MFRC522 off a Pi).
    """
    name = backend or os.environ.get(ENV_VAR) or DEFAULT_BACKEND
    try:
        reader_class = BACKENDS[name]
    except KeyError:
        choices = ", ".join(sorted(BACKENDS))
        raise BadBackend(f"unknown card-reader backend {name!r}; choose one of {choices}") from None
    return reader_class(**options)
