"""Offline: with the broker down, allow-listed cards still open their lockers; once it is back,
every event reaches the hub exactly once. (The kiosk runs in-process, on mock pins.)"""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlmodel import select

from hub.infra.db import reading
from hub.loans.lending import Loan
from hub.worker.inbox import InboxEvent
from kiosk.simulation import SimulatedHardware
from kiosk.station import Station
from tests.fixtures.waiting import wait_until
from tests.kiosk.builders import kiosk_settings, rising_edges
from tests.kiosk.harness import CARD, STEWARD_CARD, count, start_hub, stock_library

pytestmark = pytest.mark.slow
CYCLES = 100  # a borrow and a return each: 200 taps


@pytest.fixture
def library(sqlite_engine):
    stock_library(sqlite_engine)
    return sqlite_engine


@pytest.fixture
def station(mosquitto, tmp_path):
    settings = kiosk_settings(tmp_path / "kiosk")
    password = mosquitto.credentials["kiosk-a"].password
    mqtt = replace(
        settings.mqtt,
        host=mosquitto.host,
        port=mosquitto.port,
        password=password,
        reconnect_max_s=2,
    )
    hardware = SimulatedHardware(settings.lockers)
    running = Station(
        replace(settings, mqtt=mqtt),
        reader=hardware.reader,
        pin_factory=hardware.factory,
        simulation=hardware,
    ).start()
    yield running
    running.stop()
    hardware.close()


def cycle(station: Station, card: str) -> None:
    """Tap, borrow locker 1, use the door; tap, return it, use the door."""
    hardware = station.simulation
    for action in (lambda s: s.borrow(1), lambda s: s.return_tool(1, "ok")):
        assert hardware.tap(card)
        station.submit(action)
        assert station.board.view["state"] == "open"
        hardware.set_door(1, True)
        hardware.set_door(1, False)
        station.submit(lambda s: None)  # the door events have been handled
        assert station.board.view["state"] == "done"


def test_two_hundred_offline_taps_open_their_lockers_and_arrive_once(library, mosquitto, station):
    hub = start_hub(library, mosquitto)
    try:
        wait_until(lambda: all(station.versions), 20, "the allow-list reaching the kiosk")
        mosquitto.stop()
        wait_until(lambda: not station.link.figures.connected, 20, "the kiosk noticing")
        for number in range(CYCLES):
            cycle(station, CARD if number % 2 else STEWARD_CARD)
        assert rising_edges(station.simulation.relay_pin(1)) == 2 * CYCLES
        assert station.figures["backlog"] == 6 * CYCLES
        assert count(library, InboxEvent) == 0
        mosquitto.start()
        wait_until(lambda: station.figures["backlog"] == 0, 60, "the outbox emptied")
        with reading(library) as session:
            seqs = sorted(session.exec(select(InboxEvent.seq)).all())
            loans = session.exec(select(Loan)).all()
        assert seqs == list(range(6 * CYCLES))
        assert len(loans) == CYCLES and all(loan.returned_at for loan in loans)
    finally:
        hub.stop()
