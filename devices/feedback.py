"""Tell a member at the kiosk "yes" or "no" with a buzzer and two LEDs, all optional."""

from __future__ import annotations

from contextlib import ExitStack

from gpiozero import LED, Buzzer
from gpiozero.pins import Factory

from devices.errors import DeviceClosed

Pin = int | str
BEEP_SECONDS = 0.1
LIGHT_SECONDS = 1.5


class Feedback:
    """A buzzer, a green LED and a red LED next to the reader; leave out any of them.

    ``accept()`` gives one beep and the green light, ``refuse()`` three beeps and the red light;
    both return at once and a new pattern replaces a running one.
    """

    def __init__(
        self,
        *,
        buzzer_pin: Pin | None = None,
        green_led_pin: Pin | None = None,
        red_led_pin: Pin | None = None,
        pin_factory: Factory | None = None,
    ) -> None:
        with ExitStack() as stack:
            self._buzzer = _optional(stack, Buzzer, buzzer_pin, pin_factory)
            self._green = _optional(stack, LED, green_led_pin, pin_factory)
            self._red = _optional(stack, LED, red_led_pin, pin_factory)
            stack.pop_all()
        self._closed = False

    @property
    def closed(self) -> bool:
        """Whether ``close()`` has been called."""
        return self._closed

    def accept(self) -> None:
        """Beep once and light the green LED: the card is welcome."""
        self._show(beeps=1, light=self._green, dark=self._red)

    def refuse(self) -> None:
        """Beep three times and light the red LED: the card is refused."""
        self._show(beeps=3, light=self._red, dark=self._green)

    def close(self) -> None:
        """Silence and free every pin; a second call does nothing."""
        if not self._closed:
            self._closed = True
            for device in self._devices():
                # NOTE: close() alone stops a blink or beep without switching the pin off.
                device.off()
                device.close()

    def __enter__(self) -> Feedback:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _show(self, *, beeps: int, light: LED | None, dark: LED | None) -> None:
        if self._closed:
            raise DeviceClosed("the kiosk's feedback devices are closed")
        if dark is not None:
            dark.off()
        if light is not None:
            light.blink(on_time=LIGHT_SECONDS, off_time=0, n=1)
        if self._buzzer is not None:
            self._buzzer.beep(on_time=BEEP_SECONDS, off_time=BEEP_SECONDS, n=beeps)

    def _devices(self) -> list[Buzzer | LED]:
        return [device for device in (self._buzzer, self._green, self._red) if device is not None]


def _optional(
    stack: ExitStack, device_class: type[Buzzer | LED], pin: Pin | None, factory: Factory | None
) -> Buzzer | LED | None:
    return None if pin is None else stack.enter_context(device_class(pin, pin_factory=factory))
