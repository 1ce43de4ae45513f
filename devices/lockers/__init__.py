"""Tool lockers on gpiozero: a fail-secure lock on a relay, a reed switch on each door.

``Locker`` is one locker; ``LockerBank`` is a kiosk's lockers by slot, built from its config.
Doors report ``LockerEvent``s: door_opened, door_forced, door_closed, door_left_open. A door
may be a supervised loop on an ADS1115 (``SupervisedDoor``): cut or shorted is door_forced.
``check_fail_secure`` checks the Pi's boot settings that keep the locks locked when the
kiosk's software dies.
"""

from devices.errors import BadLockerConfig, LockerError, UnknownLocker
from devices.lockers.bank import LockerBank
from devices.lockers.door import DoorSwitch
from devices.lockers.events import EventCallback, LockerEvent, LockerEventKind
from devices.lockers.locker import Locker
from devices.lockers.safety import SafetyReport, UnsafeGpioSettings, check_fail_secure
from devices.lockers.supervised import LoopState, SupervisedDoor

__all__ = [
    "BadLockerConfig",
    "DoorSwitch",
    "EventCallback",
    "Locker",
    "LockerBank",
    "LockerError",
    "LockerEvent",
    "LockerEventKind",
    "LoopState",
    "SafetyReport",
    "SupervisedDoor",
    "UnknownLocker",
    "UnsafeGpioSettings",
    "check_fail_secure",
]
