"""Hardware-doc fixtures: the emulated RC522 under the real mfrc522 library."""

from tests.devices.rfid.conftest import chip, gpio  # noqa: F401  (the emulated RC522)
