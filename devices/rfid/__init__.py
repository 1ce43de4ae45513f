"""Card readers: each card put on a reader is reported once, as a canonical UID.

``CardReader`` is the interface; ``Mfrc522Reader`` (an RC522 on SPI), ``KeyboardWedgeReader``
(a USB reader that types) and ``SimulatedReader`` (tests, demos) are its backends;
``open_reader(backend=...)`` picks one by name. Importing this package needs no hardware library.
"""

from devices.errors import BadBackend, DeviceClosed, ReaderError
from devices.rfid.backends import BACKENDS, open_reader
from devices.rfid.keyboard_wedge import KeyboardWedgeReader, parse_wedge_line
from devices.rfid.mfrc522 import Mfrc522Reader
from devices.rfid.reader import CardCallback, CardDebouncer, CardReader, ReaderHealth
from devices.rfid.simulated import SimulatedReader
from devices.rfid.uid import canonical_uid, uid_from_decimal

__all__ = [
    "BACKENDS",
    "BadBackend",
    "CardCallback",
    "CardDebouncer",
    "CardReader",
    "DeviceClosed",
    "KeyboardWedgeReader",
    "Mfrc522Reader",
    "ReaderError",
    "ReaderHealth",
    "SimulatedReader",
    "canonical_uid",
    "open_reader",
    "parse_wedge_line",
    "uid_from_decimal",
]
