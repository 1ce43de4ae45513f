"""The screen's HTTP API on an in-process kiosk (no broker): actions, refusals, CSRF rules."""

from __future__ import annotations

import pytest

from broker import messages as wire
from kiosk.screen import create_screen
from kiosk.simulation import SimulatedHardware
from kiosk.station import Station
from tests.kiosk.builders import ADA, a_config, an_allowlist, kiosk_settings


@pytest.fixture
def station(tmp_path):
    settings = kiosk_settings(tmp_path / "kiosk")
    hardware = SimulatedHardware(settings.lockers)
    running = Station(
        settings,
        reader=hardware.reader,
        pin_factory=hardware.factory,
        simulation=hardware,
        connect=False,
    ).start()
    running.submit(lambda s: s.store.offer("allowlist", wire.encode(an_allowlist())))
    running.submit(lambda s: s.store.offer("config", wire.encode(a_config())))
    yield running
    running.stop()
    hardware.close()


@pytest.fixture
def client(station):
    return create_screen(station).test_client()


def test_the_page_and_the_simulation_panel_are_served(client):
    page = client.get("/")
    assert page.status_code == 200 and b'id="sim"' in page.data
    cards = client.get("/api/sim").get_json()["cards"]
    assert ADA in [card["uid"] for card in cards]


def test_a_tap_and_a_borrow_through_the_api(client, station):
    assert client.post("/api/sim/tap", json={"uid": ADA}).get_json()["screen"]["state"] == "member"
    screen = client.post("/api/actions/borrow", json={"slot": 1}).get_json()["screen"]
    assert screen["title"] == "Locker 1 is open"
    assert station.simulation.lockers()[0]["unlocked"] is True


def test_an_action_the_screen_does_not_offer_now_is_a_409_saying_why(client):
    answer = client.post("/api/actions/borrow", json={"slot": 1})
    assert answer.status_code == 409 and answer.get_json()["error"] == "Tap your card first."
    assert client.post("/api/actions/fly", json={}).status_code == 404


def test_bad_input_is_a_409_naming_the_field(client):
    client.post("/api/sim/tap", json={"uid": ADA})
    answer = client.post("/api/actions/borrow", json={"slot": "one"})
    assert answer.status_code == 409
    assert answer.get_json()["error"] == "slot: a whole number is needed, not 'one'"
    answer = client.post("/api/actions/repair", json={"tool_code": "DRILL-1", "hours": " "})
    assert answer.status_code == 409 and answer.get_json() == {
        "error": "Choose how many hours.",
        "field": "hours",
    }


def test_a_door_of_the_simulation_is_found_by_its_slot_number(client, station):
    assert client.post("/api/sim/door", json={"slot": 9, "open": True}).status_code == 404
    assert client.post("/api/sim/door", json={"slot": 2, "open": True}).status_code == 200
    assert station.simulation.lockers()[1]["door_open"] is True


def test_cross_origin_and_form_posts_are_refused(client):
    tap = {"uid": ADA}
    evil = client.post("/api/sim/tap", json=tap, headers={"Origin": "http://evil.example"})
    assert evil.status_code == 403 and "Cross-origin" in evil.get_json()["error"]
    referer = client.post("/api/sim/tap", json=tap, headers={"Referer": "http://evil.example/x"})
    assert referer.status_code == 403
    form = client.post("/api/sim/tap", data=tap)  # what a cross-site <form> can send
    assert form.status_code == 403 and "JSON" in form.get_json()["error"]
    same = client.post("/api/sim/tap", json=tap, headers={"Origin": "http://localhost"})
    assert same.status_code == 200


def test_a_foreign_host_name_is_refused(client):
    rebound = client.get("/api/screen", headers={"Host": "attacker.example:8080"})
    assert rebound.status_code == 403


def test_the_view_waits_for_a_newer_version(client, station):
    version = client.get("/api/screen").get_json()["version"]
    same = client.get(f"/api/screen?after={version}&wait=0.2").get_json()
    assert same["version"] == version
    client.post("/api/sim/tap", json={"uid": ADA})
    assert client.get(f"/api/screen?after={version}&wait=2").get_json()["version"] > version
