"""``commonshed kiosk selftest``: check a newly built kiosk, part by part, with a person at it.

Run with the kiosk service stopped (it needs the same pins and reader). In order: the lock
safety settings, the lockers (built first: every relay driven to locked before anything
else), each MCP23017 expander (answering at its I2C address, or not), the card reader (found,
its chip version), a card read (tap one), each locker's relay (unlocked in turn: open its
door, the door switch must say so, then shut it; a supervised door loop is read first, and
after the door the maker shorts it and cuts it, each of which must read as tamper), the
buzzer and LEDs (driven: look and listen), and the broker (the kiosk's login, then its
allow-list, which the hub keeps retained). Each line says PASS or FAIL and what to look at;
the exit status is 0 only if everything passed. See hardware/selftest.md and
hardware/commissioning.md.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from functools import partial

from gpiozero.pins import Factory

from broker import messages as wire
from broker.client import make_client
from broker.inbound import HubSnapshot, from_hub
from broker.topics import Channel, kiosk_topic
from devices.feedback import Feedback
from devices.lockers import LockerBank, LockerEventKind
from devices.lockers.mcp23017 import SMBusLike, open_smbus
from devices.lockers.supervised import LoopState, SupervisedDoor
from devices.rfid import CardReader
from kiosk.config import ConfigError, KioskSettings

Say = Callable[[str], None]
SafetyCheck = Callable[[], str]  # returns the report's detail, raises when unsafe


@dataclass(frozen=True)
class Timeouts:
    """How long each step waits for the person (or the broker)."""

    card: float = 30.0
    door: float = 20.0
    broker: float = 10.0


@dataclass
class Report:
    """The results, line by line, as the maker reads them."""

    say: Say
    results: list[tuple[bool, str]] = field(default_factory=list)

    def check(self, passed: bool, text: str) -> bool:
        """Record and print one result."""
        self.results.append((passed, text))
        self.say(f"{'PASS' if passed else 'FAIL'}  {text}")
        return passed

    @property
    def passed(self) -> bool:
        """Whether every check passed (and there was at least one)."""
        return bool(self.results) and all(ok for ok, _ in self.results)

    def summary(self) -> str:
        """Return the last line: all passed, or how many failed."""
        failed = sum(not ok for ok, _ in self.results)
        if not failed:
            return f"All {len(self.results)} checks passed: this kiosk is ready."
        return f"{failed} of {len(self.results)} checks failed: fix them and run selftest again."


def run_selftest(
    settings: KioskSettings,
    *,
    open_reader: Callable[[], CardReader],
    safety: SafetyCheck,
    pin_factory: Factory | None = None,
    open_i2c: Callable[[int], SMBusLike] = open_smbus,
    timeouts: Timeouts = Timeouts(),
    say: Say = print,
) -> Report:
    """Run every check on the kiosk described by ``settings``; return the report.

    ``open_i2c`` opens the I2C bus of MCP23017 locker banks (tests pass an emulated bus).
    """
    report = Report(say)
    try:
        report.check(True, f"lock safety: {safety()}")
    except Exception as error:  # noqa: BLE001  (reported; the rest cannot run safely)
        report.check(False, f"lock safety: {error}")
        return report
    with ExitStack() as stack:
        bank = stack.enter_context(
            LockerBank.from_config(settings.lockers, pin_factory=pin_factory, open_i2c=open_i2c)
        )
        report.check(True, f"lockers: {len(bank)} relays driven locked ({_relays(settings)})")
        silent = _check_expanders(report, bank, settings)
        reader = _open_reader(report, open_reader)
        if reader is not None:
            stack.enter_context(reader)
            _check_card(report, reader, timeouts.card)
        for slot in bank.slots:
            if slot in silent:
                report.check(False, f"locker {slot}: not tried: {silent[slot]}")
                continue
            if _check_loop(report, bank, slot):
                _check_locker(report, bank, slot, timeouts.door)
                _check_tamper(report, bank, slot, timeouts.door)
        _check_feedback(report, settings, pin_factory)
    _check_broker(report, settings, timeouts.broker)
    return report


def _relays(settings: KioskSettings) -> str:
    """Say where the relays are: the Pi's GPIO numbers, and how many on each expander."""
    where = [f"GPIO{pin}" for pin in settings.relay_pins]
    for bank in settings.lockers.get("banks", ()):
        if bank.get("backend") == "mcp23017":
            where.append(f"{len(bank['slots'])} on MCP23017 {bank['address']:#04x}")
        else:
            where += [f"GPIO{entry['relay_pin']}" for entry in bank["slots"]]
    return ", ".join(where)


def _check_expanders(report: Report, bank: LockerBank, settings: KioskSettings) -> dict[int, str]:
    """Report each MCP23017 as answering at its address or not; return the slots not worth
    trying, with why: while a chip does not answer, the driver releases every relay on its
    I2C bus at each poll (fail-secure), so no locker on that bus can open."""
    expanders = [bank for bank in settings.lockers.get("banks", ()) if bank["backend"] != "gpio"]
    silent_buses: dict[int, int] = {}
    for config in expanders:
        number, address = config.get("i2c_bus", 1), config["address"]
        slots = [entry["slot"] for entry in config["slots"]]
        where = f"MCP23017 at {address:#04x} on I2C bus {number}"
        if bank.expanders.buses[number].chip(address).answering:
            report.check(True, f"expander: {where} answers (lockers {_span(slots)})")
            continue
        report.check(
            False,
            f"expander: {where} does not answer (its 3.3 V, GND, SDA/SCL wires, "
            f"A2-A0 address jumpers? `i2cdetect -y {number}` lists the chips found)",
        )
        silent_buses.setdefault(number, address)
    return {
        entry["slot"]: f"the MCP23017 at {silent_buses[number]:#04x} on its I2C bus does not "
        f"answer, and every relay on that bus stays locked until it does"
        for config in expanders
        if (number := config.get("i2c_bus", 1)) in silent_buses
        for entry in config["slots"]
    }


def _span(slots: list[int]) -> str:
    if slots == list(range(slots[0], slots[0] + len(slots))) and len(slots) > 1:
        return f"{slots[0]}-{slots[-1]}"
    return ", ".join(str(slot) for slot in slots)


def _open_reader(report: Report, open_reader: Callable[[], CardReader]) -> CardReader | None:
    try:
        reader = open_reader()
    except Exception as error:  # noqa: BLE001  (reported, with what to check)
        report.check(False, f"card reader: cannot open it: {error}")
        return None
    health = reader.health
    if not health.ok:
        report.check(False, f"card reader: {health.error} (check its wiring and 3.3 V supply)")
        reader.close()
        return None
    version = f", chip version 0x{health.version:02X}" if health.version is not None else ""
    report.check(True, f"card reader: found ({type(reader).__name__}{version})")
    return reader


def _check_card(report: Report, reader: CardReader, timeout: float) -> None:
    cards: queue.Queue[str] = queue.Queue()
    reader.queue = cards
    reader.start()
    report.say(f"      Tap a card on the reader (within {timeout:.0f} s)...")
    try:
        uid = cards.get(timeout=timeout)
    except queue.Empty:
        report.check(False, f"card read: no card within {timeout:.0f} s (antenna, distance?)")
    else:
        report.check(True, f"card read: {uid}")
    finally:
        reader.stop()


def _check_locker(report: Report, bank: LockerBank, slot: int, timeout: float) -> None:
    locker = bank[slot]
    if locker.door_open:
        report.say(f"      Locker {slot}: its door switch reads open; shut the door...")
        if not _wait(lambda: not locker.door_open, timeout):
            report.check(False, f"locker {slot}: its door switch reads open while locked")
            return
    events: queue.Queue[LockerEventKind] = queue.Queue()
    locker.on_event = lambda event: events.put(event.kind)  # edges, however brief
    report.say(f"      Locker {slot}: unlocking; open its door, then shut it...")
    locker.unlock(min(locker.max_pulse_seconds, max(locker.pulse_seconds, timeout)))
    opened = _next_event(events, LockerEventKind.DOOR_OPENED, timeout)
    locker.lock()
    if not opened:
        report.check(False, f"locker {slot}: the door switch never read open (relay, lock, reed?)")
        return
    shut = _next_event(events, LockerEventKind.DOOR_CLOSED, timeout)
    report.check(
        shut,
        f"locker {slot}: relay clicked, door opened and shut"
        if shut
        else f"locker {slot}: the door opened but its switch never read shut again",
    )


LOOP_HINTS = {
    LoopState.SHORTED: "the two loop wires touch, or R1 is missing or bridged",
    LoopState.CUT: "a loop wire is off or broken, or R2 is missing with the door open",
    LoopState.NO_ADC: "the ADS1115 does not answer (3.3 V, GND, SDA/SCL, ADDR?)",
}
TAMPER_STEPS = (
    (LoopState.SHORTED, "join the door loop's two wires at the switch (a short)"),
    (LoopState.CUT, "take one door loop wire off its terminal (a cut)"),
)


def _check_loop(report: Report, bank: LockerBank, slot: int) -> bool:
    """Report a supervised door loop's reading; return False if it reads tampered (the door
    check would wait for a shut door that the loop cannot show). True for a plain switch."""
    loop = bank[slot].door_loop
    if loop is None:
        return True
    volts = "no reading" if loop.volts is None else f"{loop.volts:.2f} V"
    if loop.tampered:
        hint = LOOP_HINTS[loop.state]
        return report.check(False, f"door loop: locker {slot} reads {loop.state} ({volts}): {hint}")
    return report.check(True, f"door loop: locker {slot} reads {loop.state} ({volts})")


def _check_tamper(report: Report, bank: LockerBank, slot: int, timeout: float) -> None:
    """Have the maker short and then cut the loop; each must read as tamper, then shut again."""
    loop = bank[slot].door_loop
    if loop is None:
        return
    for state, ask in TAMPER_STEPS:
        loop.last_tamper = None
        report.say(f"      Locker {slot}: {ask}, then put it back...")
        if not _wait(partial(_tampered_as, loop, state), timeout):
            report.check(False, f"locker {slot}: the door loop never read {state} (R1, R2, Rp?)")
            return
        if not _wait(lambda: loop.state == LoopState.CLOSED, timeout):
            report.check(False, f"locker {slot}: the door loop never read closed again")
            return
    report.check(True, f"locker {slot}: door loop tamper seen: shorted and cut")


def _tampered_as(loop: SupervisedDoor, state: LoopState) -> bool:
    return loop.last_tamper == state


def _next_event(
    events: queue.Queue[LockerEventKind], kind: LockerEventKind, timeout: float
) -> bool:
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        try:
            if events.get(timeout=left) is kind:
                return True
        except queue.Empty:
            break
    return False


def _check_feedback(report: Report, settings: KioskSettings, pin_factory: Factory | None) -> None:
    if not settings.feedback:
        report.check(True, "buzzer and LEDs: none configured")
        return
    with Feedback(pin_factory=pin_factory, **settings.feedback) as feedback:
        feedback.accept()
        feedback.refuse()
    report.check(True, "buzzer and LEDs: driven (you should have seen green, then red, and beeps)")


def _check_broker(report: Report, settings: KioskSettings, timeout: float) -> None:
    try:
        mqtt_settings = settings.mqtt.with_password()
    except ConfigError as error:
        report.check(False, f"broker login: {error}")
        return
    with _connected(settings, mqtt_settings.password, timeout) as (connected, snapshots, why):
        if not connected:
            report.check(False, f"broker login at {settings.mqtt.host}:{settings.mqtt.port}: {why}")
            return
        report.check(True, f"broker login as {settings.kiosk_id} at {settings.mqtt.host}")
        try:
            snapshot = snapshots.get(timeout=timeout)
        except queue.Empty:
            report.check(False, f"allow-list: none within {timeout:.0f} s (is the hub running?)")
            return
        report.check(True, f"allow-list: version {snapshot.version}, {len(snapshot.entries)} cards")


@contextmanager
def _connected(
    settings: KioskSettings, password: str | None, timeout: float
) -> Iterator[tuple[bool, queue.Queue[wire.AllowList], str]]:
    """Connect as the kiosk, subscribed to its allow-list; yield (connected, allow-lists, why).

    NOTE: the kiosk's own client id and a persistent session, as the kiosk uses: a clean start
    would end the session the stopped kiosk service comes back to.
    """
    topic = kiosk_topic(settings.site, settings.kiosk_id, Channel.ALLOWLIST)
    snapshots: queue.Queue[wire.AllowList] = queue.Queue()
    answered, why = threading.Event(), ["no answer (host, port, firewall?)"]
    client = make_client(
        settings.kiosk_id,
        settings.mqtt.username,
        password,
        host=settings.mqtt.host,
        port=settings.mqtt.port,
        clean_start=False,
        session_expiry=7 * 24 * 3600,
    )

    def on_connect(c: object, _u: object, _f: object, reason: object, _p: object) -> None:
        if getattr(reason, "is_failure", True):
            why[0] = f"refused: {reason} (username, password file?)"
        else:
            why.clear()
            client.subscribe(topic, qos=1)
        answered.set()

    def on_message(_c: object, _u: object, message: object) -> None:
        decoded = from_hub(getattr(message, "topic", ""), bytes(getattr(message, "payload", b"")))
        if isinstance(decoded, HubSnapshot) and isinstance(decoded.snapshot, wire.AllowList):
            snapshots.put(decoded.snapshot)

    client.on_connect, client.on_message = on_connect, on_message
    client.loop_start()
    try:
        answered.wait(timeout)
        yield not why, snapshots, why[0] if why else ""
    finally:
        client.disconnect()
        client.loop_stop()


def _wait(condition: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)
    return True
