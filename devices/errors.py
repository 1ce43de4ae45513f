"""The exceptions of ``devices``: one root, and each specific error also a builtin.

Catch ``DeviceError`` for "anything the hardware layer refused"; catch the builtin (``KeyError``,
``ValueError``, ...) where ordinary Python code would expect one, as with gpiozero's
``BadPinFactory(GPIOZeroError, ImportError)``.
"""


class DeviceError(Exception):
    """Root of every error raised by ``devices``."""


class DeviceClosed(DeviceError, RuntimeError):
    """A device was used after ``close()``."""


class ReaderError(DeviceError):
    """Root of the card-reader errors."""


class BadBackend(ReaderError, ImportError):
    """A reader backend is unknown by that name, or its hardware library cannot be imported."""


class LockerError(DeviceError):
    """Root of the locker errors."""


class UnknownLocker(LockerError, KeyError):
    """A locker bank has no locker in the slot asked for."""

    # NOTE: KeyError.__str__ quotes its argument ("'Locker 9 ...'"); a sentence reads better.
    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class BadLockerConfig(LockerError, ValueError):
    """A locker or locker-bank configuration is malformed."""
