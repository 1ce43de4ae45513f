"""The fail-secure check: refuse to drive locks when the Pi's settings would not hold them."""

from __future__ import annotations

import pytest

from devices.errors import DeviceError
from devices.lockers.safety import UnsafeGpioSettings, check_fail_secure

RELAYS = (17, 27, 22)
GOOD = """
[all]
dtparam=spi=on
dtparam=strict_gpiod
gpio=17,22,27=op,dl   # the relays, locked from power-on
"""


@pytest.fixture
def pi(tmp_path):
    """Paths of a Raspberry Pi's model file and its config.txt (written by each test)."""
    model = tmp_path / "model"
    model.write_bytes(b"Raspberry Pi 4 Model B Rev 1.5\0")
    return {
        "model_path": model,
        "config_paths": (tmp_path / "missing.txt", tmp_path / "config.txt"),
    }


def check(pi, text: str | None, *, active_high=True, trigger="high"):
    if text is not None:
        pi["config_paths"][1].write_text(text)
    return check_fail_secure(
        RELAYS, relay_active_high=active_high, relay_board_trigger=trigger, **pi
    )


def test_the_documented_settings_are_verified(pi):
    report = check(pi, GOOD)
    assert report.state == "verified" and "config.txt" in report.detail


def test_a_range_in_the_gpio_line_counts(pi):
    assert check(pi, "dtparam=strict_gpiod\ngpio=17-27=op,dl\n").state == "verified"


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        (GOOD.replace("dtparam=strict_gpiod", "#dtparam=strict_gpiod"), "strict_gpiod"),
        (GOOD.replace("17,22,27", "17,22"), "relay pins GPIO27"),
        (GOOD.replace("op,dl", "op,dh"), "op,dl line for relay pins GPIO17, GPIO22, GPIO27"),
        (GOOD.replace("gpio=", "#gpio="), "no gpio=...=op,dl line"),
    ],
)
def test_a_missing_setting_is_refused_loudly(pi, text, complaint):
    with pytest.raises(UnsafeGpioSettings, match="refusing to drive the locks") as refused:
        check(pi, text)
    assert complaint in str(refused.value)
    assert isinstance(refused.value, DeviceError)


def test_no_config_txt_at_all_is_refused(pi):
    with pytest.raises(UnsafeGpioSettings, match="no config.txt at"):
        check(pi, None)


@pytest.mark.parametrize(
    ("active_high", "trigger", "complaint"),
    [
        (True, "low", "jumper is set to low level"),
        (False, "high", "relay_active_high = false"),
        (True, None, "record the relay board's jumper"),
    ],
)
def test_the_relay_level_must_match_the_recorded_jumper(pi, active_high, trigger, complaint):
    text = GOOD if active_high else GOOD.replace("op,dl", "op,dh")
    with pytest.raises(UnsafeGpioSettings, match=complaint):
        check(pi, text, active_high=active_high, trigger=trigger)


def test_active_low_relays_need_the_pins_driven_high_at_boot(pi):
    text = GOOD.replace("op,dl", "op,dh")
    assert check(pi, text, active_high=False, trigger="low").state == "verified"


def test_off_a_pi_or_with_simulated_pins_the_check_does_not_apply(pi, tmp_path):
    pi["model_path"] = tmp_path / "no-such-model"
    assert check(pi, None).state == "not_applicable"
    simulated = check_fail_secure(
        RELAYS, relay_active_high=True, relay_board_trigger=None, simulated=True
    )
    assert simulated.state == "not_applicable"
