"""The kiosk's hardware: card readers (``devices.rfid``) and tool lockers (``devices.lockers``).

Nothing here imports the rest of Commonshed, and nothing here needs a Raspberry Pi to import:
hardware libraries are imported only inside the backend that drives them.
"""

from devices.errors import (
    BadBackend,
    BadLockerConfig,
    DeviceClosed,
    DeviceError,
    LockerError,
    ReaderError,
    UnknownLocker,
)

__all__ = [
    "BadBackend",
    "BadLockerConfig",
    "DeviceClosed",
    "DeviceError",
    "LockerError",
    "ReaderError",
    "UnknownLocker",
]
