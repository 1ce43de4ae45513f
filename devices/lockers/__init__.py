"""Tool lockers on gpiozero: a fail-secure lock on a relay, a reed switch on each door.

``Locker`` is one locker; ``LockerBank`` is a kiosk's lockers by slot, built from its config.
Doors report ``LockerEvent``s: door_opened, door_forced, door_closed, door_left_open.
``check_fail_secure`` checks the Pi's boot settings that keep the locks locked when the
kiosk's software dies.
"""

from devices.errors import BadLockerConfig, LockerError, UnknownLocker
from devices.lockers.bank import LockerBank
from devices.lockers.door import DoorSwitch
from devices.lockers.events import EventCallback, LockerEvent, LockerEventKind
from devices.lockers.locker import Locker
from devices.lockers.safety import SafetyReport, UnsafeGpioSettings, check_fail_secure

__all__ = [
    "BadLockerConfig",
    "DoorSwitch",
    "EventCallback",
    "Locker",
    "LockerBank",
    "LockerError",
    "LockerEvent",
    "LockerEventKind",
    "SafetyReport",
    "UnknownLocker",
    "UnsafeGpioSettings",
    "check_fail_secure",
]
