"""The kiosk screen bound to every address (0.0.0.0) still refuses DNS rebinding and
cross-origin posts: the real screen server, over real sockets."""

from __future__ import annotations

import pytest
import requests

from broker import messages as wire
from kiosk.simulation import SimulatedHardware
from kiosk.station import Station
from tests.kiosk.builders import ADA, a_config, an_allowlist, kiosk_settings


@pytest.fixture
def screen_url(tmp_path):
    """Start a simulated kiosk whose screen listens on 0.0.0.0; yield its loopback URL."""
    settings = kiosk_settings(tmp_path / "kiosk", screen_host="0.0.0.0")
    hardware = SimulatedHardware(settings.lockers)
    station = Station(
        settings,
        reader=hardware.reader,
        pin_factory=hardware.factory,
        simulation=hardware,
        connect=False,
    ).start(serve_screen=True)
    station.submit(lambda s: s.store.offer("allowlist", wire.encode(an_allowlist())))
    station.submit(lambda s: s.store.offer("config", wire.encode(a_config())))
    try:
        assert station.screen is not None
        yield f"http://127.0.0.1:{station.screen.port}"
    finally:
        station.stop()
        hardware.close()


def test_a_rebinding_host_name_is_refused_on_every_address(screen_url):
    rebound = requests.get(
        f"{screen_url}/api/screen", headers={"Host": "attacker.example"}, timeout=10
    )
    assert rebound.status_code == 403
    tap = requests.post(
        f"{screen_url}/api/sim/tap",
        json={"uid": ADA},
        headers={"Host": "attacker.example", "Origin": "http://attacker.example"},
        timeout=10,
    )
    assert tap.status_code == 403


def test_the_screen_still_answers_by_ip_address_and_localhost(screen_url):
    port = screen_url.rsplit(":", 1)[1]
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"192.168.1.20:{port}", f"[::1]:{port}"):
        answer = requests.get(f"{screen_url}/api/screen", headers={"Host": host}, timeout=10)
        assert answer.status_code == 200, host


def test_a_cross_origin_post_is_refused_on_every_address(screen_url):
    port = screen_url.rsplit(":", 1)[1]
    evil = requests.post(
        f"{screen_url}/api/sim/tap",
        json={"uid": ADA},
        headers={"Host": f"192.168.1.20:{port}", "Origin": "http://attacker.example"},
        timeout=10,
    )
    assert evil.status_code == 403
