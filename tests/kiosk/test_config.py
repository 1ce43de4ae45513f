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


def test_the_relay_boards_jumper_is_the_kiosks_setting_not_the_locker_banks():
    settings = load_settings(DEFAULT_CONFIG)
    assert settings.relay_board_trigger == "high" and settings.relay_active_high
    assert "relay_board_trigger" not in settings.lockers  # LockerBank would refuse the key
    assert settings.relay_pins == (17, 27, 22, 23, 24, 12, 16, 20)


def test_kiosk_run_refuses_a_pi_whose_boot_settings_do_not_keep_the_locks(tmp_path, monkeypatch):
    from devices.lockers import UnsafeGpioSettings
    from kiosk.cli import check_locks_safety

    monkeypatch.delenv("GPIOZERO_PIN_FACTORY", raising=False)
    model, config_txt = tmp_path / "model", tmp_path / "config.txt"
    model.write_text("Raspberry Pi 5 Model B Rev 1.0")
    config_txt.write_text("dtparam=strict_gpiod\ngpio=12,16,17,20,22,23,24=op,dl\n")
    settings = load_settings(DEFAULT_CONFIG)
    with pytest.raises(UnsafeGpioSettings, match="relay pins GPIO27"):
        check_locks_safety(settings, model_path=model, config_paths=(config_txt,))
    config_txt.write_text("dtparam=strict_gpiod\ngpio=12,16,17,20,22,23,24,27=op,dl\n")
    report = check_locks_safety(settings, model_path=model, config_paths=(config_txt,))
    assert report.state == "verified"


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


def test_a_slot_with_a_supervised_door_loop_builds_on_the_adc(tmp_path):
    from gpiozero.pins.mock import MockFactory

    from devices.lockers import LockerBank
    from devices.lockers.emulated_ads1115 import EmulatedAds1115
    from devices.lockers.emulated_mcp23017 import EmulatedI2cBus

    text = DEFAULT_CONFIG.read_text().replace(
        "door_pin = 5\n", 'door = {adc = "0x48", channel = 0}\n', 1
    )
    settings = load_settings(write(tmp_path, text))
    assert settings.lockers["lockers"][0]["door"] == {"adc": "0x48", "channel": 0}
    bus = EmulatedI2cBus()
    bus.attach(EmulatedAds1115(0x48)).set_voltage(0, 1.65)  # shut
    pins = MockFactory()
    with LockerBank.from_config(
        settings.lockers, open_i2c=lambda number: bus, pin_factory=pins
    ) as bank:
        assert [door.state for door in bank.loops.doors] == ["closed"]
        assert not bank[1].door_open
        assert bank[2].door_open  # a plain switch, pulled up, no magnet: as before
    pins.close()
