"""Kiosk fixtures: mock pins, a kiosk's parts on a temp directory, and a controllable clock."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from gpiozero.pins.mock import MockFactory

from broker import messages as wire
from devices.lockers import LockerBank
from kiosk.allowlist import AllowListStore
from kiosk.lockers import LockerView
from kiosk.outbox import Outbox
from kiosk.session import Session
from kiosk.storage import open_database
from tests.devices.rfid.conftest import chip, gpio  # noqa: F401  (the emulated RC522)
from tests.kiosk.builders import NOW, a_config, an_allowlist, kiosk_settings


class FakeClock:
    """A monotonic clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Signals:
    """A hand-written Feedback: counts the yeses and noes."""

    def __init__(self) -> None:
        self.accepted = self.refused = 0

    def accept(self) -> None:
        self.accepted += 1

    def refuse(self) -> None:
        self.refused += 1


@dataclass
class Parts:
    session: Session
    store: AllowListStore
    lockers: LockerView
    outbox: Outbox
    bank: LockerBank
    factory: MockFactory
    clock: FakeClock
    signals: Signals

    def events(self) -> list:
        """Every event written to the outbox so far, decoded, oldest first."""
        return [wire.decode_event(p.payload) for p in self.outbox.pending(limit=10_000)]

    def types(self) -> list[str]:
        return [event.type for event in self.events()]

    def door(self, slot: int, open_: bool) -> None:
        """Move a door; feed the locker's event to the session as the worker would."""
        pin = self.factory.pin({1: 5, 2: 6, 3: 13}[slot])
        pin.drive_high() if open_ else pin.drive_low()


@pytest.fixture
def factory():
    factory = MockFactory()
    yield factory
    factory.reset()
    factory.close()


@pytest.fixture
def settings(tmp_path):
    return kiosk_settings(tmp_path / "kiosk")


@pytest.fixture
def parts(settings, factory, tmp_path):
    """A session on mock pins with allow-list v1 and config v1 held, and a fake clock."""
    db = open_database(settings.data_dir / "kiosk.db", "")
    store = AllowListStore(db, "kiosk-a")
    store.offer("allowlist", wire.encode(an_allowlist()))
    store.offer("config", wire.encode(a_config()))
    bank = LockerBank.from_config(settings.lockers, pin_factory=factory)
    for door in (5, 6, 13):
        factory.pin(door).drive_low()
    for relay in (17, 27, 22):
        factory.pin(relay).clear_states()
    outbox = Outbox(settings.data_dir / "outbox.db", "kiosk-a")
    clock, signals = FakeClock(), Signals()
    lockers = LockerView(db, store, bank.slots)
    session = Session(
        store=store,
        lockers=lockers,
        bank=bank,
        outbox=outbox,
        feedback=signals,
        clock=clock,
        utcnow=lambda: NOW,
        pulse_seconds=5.0,
        forced_grace_seconds=1.0,
    )
    bank.on_event = session.locker_event  # in tests the session runs on the caller's thread
    yield Parts(session, store, lockers, outbox, bank, factory, clock, signals)
    bank.close()
    outbox.close()
    db.close()
