"""Tool lockers on gpiozero: a fail-secure lock on a relay, a reed switch on each door.

``Locker`` is one locker; ``LockerBank`` is a kiosk's lockers by slot, built from its config.
Doors report ``LockerEvent``s: door_opened, door_forced, door_closed, door_left_open.
"""

from devices.errors import BadLockerConfig, LockerError, UnknownLocker
from devices.lockers.bank import LockerBank
from devices.lockers.door import DoorSwitch
from devices.lockers.events import EventCallback, LockerEvent, LockerEventKind
from devices.lockers.locker import Locker

__all__ = [
    "BadLockerConfig",
    "DoorSwitch",
    "EventCallback",
    "Locker",
    "LockerBank",
    "LockerError",
    "LockerEvent",
    "LockerEventKind",
    "UnknownLocker",
]
