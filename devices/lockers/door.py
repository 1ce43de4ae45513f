"""The reed switch that tells whether a locker door is shut."""

from __future__ import annotations

from gpiozero import DigitalInputDevice
from gpiozero.pins import Factory


class DoorSwitch(DigitalInputDevice):
    """A reed switch between a GPIO pin and ground, closed by a magnet on the door.

    The pin is pulled up; the magnet of a shut door closes the switch and pulls the pin low. So
    *active* (pin low) means the door is closed, and a cut wire or a missing magnet reads as an
    open door: tampering shows up as an alarm instead of hiding one.
    """

    def __init__(
        self,
        pin: int | str | None = None,
        *,
        bounce_time: float | None = 0.05,
        pin_factory: Factory | None = None,
    ) -> None:
        super().__init__(pin, pull_up=True, bounce_time=bounce_time, pin_factory=pin_factory)

    @property
    def door_open(self) -> bool:
        """Whether the door is open (or its switch wire is cut)."""
        return not self.is_active

    # The door's words for the input device's, as gpiozero's Button says is_pressed.
    door_closed = DigitalInputDevice.is_active
    when_door_closed = DigitalInputDevice.when_activated
    when_door_opened = DigitalInputDevice.when_deactivated
