"""sd_notify over a real unix datagram socket: READY, and WATCHDOG=1 only while loops progress."""

from __future__ import annotations

import socket
import threading

import pytest

from kiosk.simulation import SimulatedHardware
from kiosk.station import Station
from kiosk.supervisor import Supervisor
from kiosk.watchdog import Heartbeat, Notifier
from tests.fixtures.waiting import wait_until
from tests.kiosk.builders import kiosk_settings


@pytest.fixture
def systemd(tmp_path):
    """A datagram socket standing in for systemd's NOTIFY_SOCKET."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    path = tmp_path / "notify"
    sock.bind(str(path))
    sock.setblocking(False)
    yield sock, str(path)
    sock.close()


def received(sock) -> list[str]:
    """Return every message waiting on ``sock``."""
    messages = []
    while True:
        try:
            messages.append(sock.recv(4096).decode())
        except BlockingIOError:
            return messages


@pytest.fixture
def station(tmp_path):
    settings = kiosk_settings(tmp_path / "kiosk")
    hardware = SimulatedHardware(settings.lockers)
    station = Station(
        settings,
        reader=hardware.reader,
        pin_factory=hardware.factory,
        connect=False,
        supervisor=Supervisor(stall_seconds=0.5),
    ).start()
    yield station
    station.stop()
    hardware.close()


def test_a_frozen_worker_stops_the_heartbeat_and_a_thawed_one_restarts_it(systemd, station):
    systemd, path = systemd
    notifier = Notifier({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "60000"})
    heartbeat = Heartbeat(notifier, station.supervisor.making_progress).start()
    thaw = threading.Event()
    try:
        assert heartbeat.interval == pytest.approx(0.03)
        wait_until(lambda: heartbeat.beats >= 2, 5, "heartbeats")
        assert received(systemd)[:2] == ["READY=1", "WATCHDOG=1"]

        station.commands.put(Frozen(thaw))  # the worker hangs in a command
        wait_until(lambda: not station.supervisor.making_progress(), 5, "the stall noticed")
        checks = heartbeat.checks
        wait_until(lambda: heartbeat.checks >= checks + 2, 5, "a look after the stall")
        received(systemd)  # what was sent before the stall was seen
        checks = heartbeat.checks
        wait_until(lambda: heartbeat.checks >= checks + 3, 5, "three more looks")
        assert received(systemd) == []  # frozen: systemd hears nothing and will restart us

        thaw.set()
        wait_until(lambda: "WATCHDOG=1" in received(systemd), 5, "the heartbeat again")
    finally:
        thaw.set()
        heartbeat.stop()
    assert received(systemd)[-1:] == ["STOPPING=1"]


class Frozen:
    """A command that holds the worker until ``thaw`` is set."""

    def __init__(self, thaw: threading.Event) -> None:
        self.thaw, self.done = thaw, threading.Event()

    def run(self, session) -> None:
        self.thaw.wait(30)


def test_an_abstract_socket_name_and_no_socket_at_all():
    assert Notifier({"NOTIFY_SOCKET": "@/org/systemd/notify"}).address == "\0/org/systemd/notify"
    quiet = Notifier({})
    assert not quiet.enabled and quiet.notify("READY=1") is False
    assert quiet.watchdog_seconds is None
