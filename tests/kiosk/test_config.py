"""Reading the kiosk's TOML file: the shipped defaults, and errors that name the key."""

from __future__ import annotations

import pytest

from kiosk.config import DEFAULT_CONFIG, ConfigError, load_settings


def test_the_shipped_defaults_load_with_their_pins():
    settings = load_settings(DEFAULT_CONFIG)
    assert (settings.kiosk_id, settings.site, settings.screen_port) == ("shed-1", "north", 8080)
    assert settings.slots == (1, 2, 3, 4, 5, 6, 7, 8)
    assert settings.lockers["lockers"][0] == {"slot": 1, "relay_pin": 17, "door_pin": 5}
    assert settings.reader_options == {"bus": 0, "device": 0, "pin_rst": 25}
    assert settings.feedback == {"green_led_pin": 18, "red_led_pin": 15, "buzzer_pin": 14}


def write(tmp_path, text: str):
    path = tmp_path / "kiosk.toml"
    path.write_text(text)
    return path


def test_the_password_is_read_from_its_file_and_stripped(tmp_path):
    secret = tmp_path / "password"
    secret.write_text("s3cret\n")
    text = DEFAULT_CONFIG.read_text().replace("/etc/commonshed/kiosk-password", str(secret))
    settings = load_settings(write(tmp_path, text))
    assert settings.mqtt.with_password().password == "s3cret"


def test_a_missing_password_file_names_the_key(tmp_path):
    settings = load_settings(DEFAULT_CONFIG)
    with pytest.raises(ConfigError, match=r"\[mqtt\] password_file: cannot read"):
        settings.mqtt.with_password()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('id = "shed-1"', 'id = "Shed 1"'), r"\[kiosk\] id: kiosk id 'Shed 1' must be"),
        (("screen_port = 8080", 'screen_port = "8080"'), r"\[kiosk\] screen_port: '8080' is not"),
        (("port = 1883", "port = 70000"), r"\[mqtt\] port: 70000 is not a TCP port"),
        (('host = "hub.local"', ""), r"\[mqtt\] host: missing"),
        (("[[lockers.slots]]", "[[lockers.other]]"), r"\[lockers\] slots: needs at least one"),
    ],
)
def test_errors_name_the_file_and_the_key(tmp_path, change, message):
    path = write(tmp_path, DEFAULT_CONFIG.read_text().replace(*change))
    with pytest.raises(ConfigError, match=message) as caught:
        load_settings(path)
    assert str(path) in str(caught.value)


def test_the_sixteen_locker_example_builds_its_lockers_on_two_expanders():
    from gpiozero.pins.mock import MockFactory

    from devices.lockers import LockerBank
    from devices.lockers.emulated_mcp23017 import EmulatedI2cBus, EmulatedMcp23017

    settings = load_settings(DEFAULT_CONFIG.with_name("sixteen-lockers.toml"))
    assert settings.slots == tuple(range(1, 17))
    assert [bank["address"] for bank in settings.lockers["banks"]] == [0x20, 0x21]
    bus = EmulatedI2cBus()
    chips = [bus.attach(EmulatedMcp23017(address)) for address in (0x20, 0x21)]
    pins = MockFactory()
    with LockerBank.from_config(
        settings.lockers, open_i2c=lambda number: bus, pin_factory=pins
    ) as bank:
        assert bank.slots == settings.slots
        assert all(chip.output("GPA7") is False for chip in chips)  # driven, released
        assert pins.pin(17).state is True  # the expanders' RESET line, held high
    pins.close()


def test_an_old_config_with_only_gpio_slots_has_no_banks():
    settings = load_settings(DEFAULT_CONFIG)
    assert "banks" not in settings.lockers
