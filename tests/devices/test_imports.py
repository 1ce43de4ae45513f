"""devices must import on a laptop: no hardware library until a backend is built."""

import subprocess
import sys

HARDWARE_LIBRARIES = ("mfrc522", "spidev", "RPi", "RPi.GPIO", "lgpio", "smbus2")


def test_importing_devices_imports_no_hardware_library():
    code = (
        "import sys, devices, devices.rfid, devices.lockers, devices.feedback\n"
        "import devices.lockers.mcp23017, devices.lockers.expanders\n"
        "import devices.lockers.ads1115, devices.lockers.supervised\n"
        f"print(sorted(set({HARDWARE_LIBRARIES!r}) & set(sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
