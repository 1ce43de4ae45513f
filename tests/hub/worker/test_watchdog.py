"""systemd's notify protocol, spoken to a real unix datagram socket standing in for systemd."""

from __future__ import annotations

import socket

import pytest

from hub.worker import watchdog
from hub.worker.watchdog import SystemdNotifier


@pytest.fixture
def systemd(tmp_path):
    """A datagram socket bound where $NOTIFY_SOCKET would point."""
    path = tmp_path / "notify"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(5)
    yield path, sock
    sock.close()


def test_ready_heartbeat_and_stopping_arrive_as_datagrams(systemd, monkeypatch):
    path, sock = systemd
    monkeypatch.setenv("NOTIFY_SOCKET", str(path))
    notifier = SystemdNotifier()
    notifier.ready()
    notifier.heartbeat()
    notifier.stopping()
    notifier.close()
    notifier.close()  # safe twice
    assert [sock.recv(100) for _ in range(3)] == [b"READY=1", b"WATCHDOG=1", b"STOPPING=1"]


def test_without_notify_socket_nothing_is_sent(monkeypatch):
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    notifier = SystemdNotifier()
    notifier.heartbeat()  # no socket, no error
    assert notifier.address is None


def test_the_beat_is_half_the_watchdog_timeout(monkeypatch):
    monkeypatch.setenv("WATCHDOG_USEC", "20000000")
    assert watchdog.heartbeat_interval() == 10.0
    monkeypatch.delenv("WATCHDOG_USEC")
    assert watchdog.heartbeat_interval() == watchdog.DEFAULT_HEARTBEAT_S
