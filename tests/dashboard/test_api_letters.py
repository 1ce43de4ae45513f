"""The dead letters' API (dashboard/api/letters.py), on both databases: list what waits,
apply one again, set one aside; refusals name the field and change nothing."""

from __future__ import annotations

from tests.dashboard import api_fixtures as fixtures
from tests.dashboard.test_steward_kiosks import a_dead_letter, door_opened_payload

api_world, bearer = fixtures.api_world, fixtures.bearer


def test_a_script_lists_applies_and_sets_aside_dead_letters(client, engine, bearer):
    event_letter, garbled = (
        a_dead_letter(engine, door_opened_payload()),
        a_dead_letter(engine, b"{"),
    )
    listed = client.get("/api/v1/dead-letters?waiting_only=true", headers=bearer).get_json()
    assert listed["waiting"] == 2
    assert {letter["id"] for letter in listed["letters"]} == {event_letter, garbled}

    applied = client.post(
        f"/api/v1/dead-letters/{event_letter}/apply", json={"note": "fix 1.2.3"}, headers=bearer
    )
    assert applied.status_code == 200, applied.get_json()
    assert applied.get_json()["settlement"] == "applied again (applied): fix 1.2.3"
    again = client.post(f"/api/v1/dead-letters/{event_letter}/apply", headers=bearer)
    assert again.status_code == 409 and again.get_json()["field"] == "letter_id"

    unreadable = client.post(f"/api/v1/dead-letters/{garbled}/apply", headers=bearer)
    assert unreadable.status_code == 422 and "cannot read" in unreadable.get_json()["error"]
    aside = client.post(
        f"/api/v1/dead-letters/{garbled}/set-aside", json={"note": "noise"}, headers=bearer
    )
    assert aside.status_code == 200 and aside.get_json()["settlement"] == "set aside: noise"
    listed = client.get("/api/v1/dead-letters?waiting_only=true", headers=bearer).get_json()
    assert listed == {"waiting": 0, "letters": []}
    missing = client.post("/api/v1/dead-letters/999999/apply", headers=bearer)
    assert missing.status_code == 404


def test_dead_letters_are_for_stewards_only(client, engine):
    a_dead_letter(engine, b"{")
    assert client.get("/api/v1/dead-letters").status_code == 401
