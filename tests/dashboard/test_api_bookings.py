"""The bookable resources' API doors on SQLite and PostgreSQL: created, changed, closed,
paused and resumed through the hub's services, each audited, each refusal naming its field."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlmodel import select

from hub.bookings import Booking, BookingStatus, pause_booking_rights, resource_by_code
from hub.bookings.hours import local_day
from hub.infra.audit import AuditEntry
from hub.infra.clock import utcnow
from hub.infra.db import reading, transaction
from hub.members.ranks import OPERATOR
from hub.members.tokens import issue_token
from tests.dashboard import api_fixtures as fixtures
from tests.hub.builders import a_member

api_world, bearer = fixtures.api_world, fixtures.bearer
LASER = {
    "code": "laser-2",
    "name": "Laser cutter",
    "slot_minutes": 20,
    "max_booking_minutes": 60,
    "training": "laser",
    "opening_hours": {"mon": ["09:00-12:00", "13:00-17:00"], "sat": ["10:00-24:00"]},
}


def audit_of(engine, action: str) -> list[AuditEntry]:
    with reading(engine) as session:
        query = select(AuditEntry).where(AuditEntry.action == action)
        return list(session.exec(query.order_by(AuditEntry.id)))


def refused(answer, status: int, field: str) -> None:
    assert answer.status_code == status, answer.get_json()
    assert answer.get_json()["field"] == field, answer.get_json()


def test_add_a_machine_answers_201_with_its_rules_and_is_audited(client, engine, bearer, api_world):
    answer = client.post("/api/v1/resources", json=LASER, headers=bearer)
    assert answer.status_code == 201, answer.get_json()
    made = answer.get_json()
    assert (made["code"], made["slot_minutes"], made["max_minutes_per_week"]) == (
        "laser-2",
        20,
        240,
    )
    assert made["opening_hours"]["mon"] == ["09:00-12:00", "13:00-17:00"]
    assert made["opening_hours"]["tue"] == [] and made["training_id"] is not None
    (entry,) = audit_of(engine, "resource.add")
    assert (entry.target, entry.actor_member_id) == ("resource:laser-2", api_world.steward_id)
    again = client.post("/api/v1/resources", json=LASER, headers=bearer)
    refused(again, 409, "code")
    assert len(audit_of(engine, "resource.add")) == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"slot_minutes": 0}, "slot_minutes"),
        ({"opening_hours": {"wed": ["17:00-09:00"]}}, "opening_hours.wed"),
        ({"opening_hours": {"wed": ["9-5"]}}, "opening_hours.wed.0"),
        ({"name": "   "}, "name"),
        ({"max_booking_minutes": 50}, "max_booking_minutes"),  # not whole 20-minute slots
        ({"colour": "red"}, "colour"),
        ({"site": "South/1"}, "site"),
    ],
)
def test_bad_machines_are_refused_422_naming_the_field(client, engine, bearer, change, field):
    refused(client.post("/api/v1/resources", json=LASER | change, headers=bearer), 422, field)
    assert not audit_of(engine, "resource.add")


def test_change_a_machine_changes_only_what_is_sent(client, engine, bearer, api_world):
    url = f"/api/v1/resources/{api_world.resource_id}"
    answer = client.patch(
        url, json={"checkin_grace_minutes": 5, "name": "Bench (API)"}, headers=bearer
    )
    assert answer.status_code == 200, answer.get_json()
    assert (answer.get_json()["checkin_grace_minutes"], answer.get_json()["name"]) == (
        5, "Bench (API)"
    )  # fmt: skip
    assert answer.get_json()["slot_minutes"] == 30
    refused(client.patch(url, json={"slot_minutes": 0}, headers=bearer), 422, "slot_minutes")
    bad_hours = {"opening_hours": {"fri": ["18:00-08:00"]}}
    refused(client.patch(url, json=bad_hours, headers=bearer), 422, "opening_hours.fri")
    (entry,) = audit_of(engine, "resource.edit")
    assert json.loads(entry.before)["checkin_grace_minutes"] == 15
    assert json.loads(entry.after)["name"] == "Bench (API)"


def test_a_machine_s_site_is_given_listed_and_removed_by_null(client, engine, bearer, api_world):
    made = client.post("/api/v1/resources", json=LASER | {"site": "south"}, headers=bearer)
    assert made.status_code == 201 and made.get_json()["site"] == "south", made.get_json()
    listed = client.get("/api/v1/resources", headers=bearer).get_json()["resources"]
    assert {r["code"]: r["site"] for r in listed}["laser-2"] == "south"
    url = f"/api/v1/resources/{made.get_json()['id']}"
    kept = client.patch(url, json={"name": "Laser (big)"}, headers=bearer).get_json()
    assert kept["site"] == "south"  # left out: unchanged
    cleared = client.patch(url, json={"site": None}, headers=bearer)
    assert cleared.status_code == 200 and cleared.get_json()["site"] is None
    *_, entry = audit_of(engine, "resource.edit")
    assert (json.loads(entry.before)["site"], json.loads(entry.after)["site"]) == ("south", None)


def test_close_a_day_with_a_booking_says_it_is_cancelled_and_reopen(
    client, engine, bearer, api_world
):
    url = f"/api/v1/resources/{api_world.resource_id}/closed-days"
    with reading(engine) as session:
        booking = session.get(Booking, api_world.booking_id)
        bench = resource_by_code(session, "api-bench")
        day = local_day(bench, booking.starts_at)
    refused(client.post(url, json={"day": f"{day}"}, headers=bearer), 422, "bookings")
    body = {"day": f"{day}", "reason": "Open day", "bookings": "cancel"}
    answer = client.post(url, json=body, headers=bearer)
    assert answer.status_code == 200, answer.get_json()
    said = answer.get_json()
    assert said["booking_ids"] == [api_world.booking_id] and said["bookings"] == "cancel"
    assert said["outcome"] == "1 booking cancelled; each holder sees why on their bookings."
    assert said["resource"]["closed_days"] == [{"day": f"{day}", "reason": "Open day"}]
    with reading(engine) as session:
        cancelled = session.get(Booking, api_world.booking_id)
    assert cancelled.status == BookingStatus.CANCELLED
    assert cancelled.cancel_reason.endswith("is closed on " + f"{day:%A %Y-%m-%d}: Open day.")
    reopened = client.delete(f"{url}?day={day}", headers=bearer)
    assert reopened.status_code == 200 and reopened.get_json()["resource"]["closed_days"] == []
    assert [len(audit_of(engine, a)) for a in ("resource.close_day", "resource.reopen_day")] == [
        1, 1
    ]  # fmt: skip


def test_pause_keeping_bookings_then_resume(client, engine, bearer, api_world):
    url = f"/api/v1/resources/{api_world.resource_id}"
    refused(client.post(f"{url}/pause", json={"reason": " ", "bookings": "keep"},
                        headers=bearer), 422, "reason")  # fmt: skip
    answer = client.post(
        f"{url}/pause", json={"reason": "belt", "bookings": "keep"}, headers=bearer
    )
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["resource"]["paused"] is True
    assert answer.get_json()["outcome"].startswith("1 booking kept; each holder sees a notice")
    with reading(engine) as session:
        kept = session.get(Booking, api_world.booking_id)
    assert kept.status == BookingStatus.BOOKED and "may not go ahead" in kept.notice
    resumed = client.post(f"{url}/resume", json={"reason": "new belt"}, headers=bearer)
    assert resumed.status_code == 200 and resumed.get_json()["resource"]["paused"] is False
    assert resumed.get_json()["booking_ids"] == [api_world.booking_id]
    assert [len(audit_of(engine, a)) for a in ("resource.pause", "resource.resume")] == [1, 1]
    assert json.loads(audit_of(engine, "resource.resume")[0].after)["reason"] == "new belt"


def test_a_volunteer_token_is_refused_and_nothing_changes(client, engine, api_world):
    with transaction(engine) as session:
        volunteer = a_member(session, "Val Volunteer", roles="volunteer")
        token = issue_token(session, OPERATOR, volunteer.id, "val", scope="member")
    headers = {"Authorization": f"Bearer {token}"}
    assert client.post("/api/v1/resources", json=LASER, headers=headers).status_code == 403
    url = f"/api/v1/resources/{api_world.resource_id}/pause"
    body = {"reason": "x", "bookings": "cancel"}
    assert client.post(url, json=body, headers=headers).status_code == 403
    assert not audit_of(engine, "resource.add") and not audit_of(engine, "resource.pause")


def test_the_new_operations_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert paths["/api/v1/resources"]["post"]["responses"].keys() >= {"201", "409", "422"}
    assert "patch" in paths["/api/v1/resources/{resource_id}"]
    closed = paths["/api/v1/resources/{resource_id}/closed-days"]
    assert {"post", "delete"} <= closed.keys()
    assert {"/api/v1/resources/{resource_id}/pause", "/api/v1/resources/{resource_id}/resume"} <= (
        paths.keys()
    )


def test_a_past_day_is_refused(client, bearer, api_world):
    yesterday = local_day(_bench(client), utcnow()) - timedelta(days=1)
    body = {"day": f"{yesterday}", "bookings": "keep"}
    url = f"/api/v1/resources/{api_world.resource_id}/closed-days"
    refused(client.post(url, json=body, headers=bearer), 422, "day")


def _bench(client):
    from dashboard import database

    with client.application.app_context(), database.reading() as session:
        return resource_by_code(session, "api-bench")


def test_list_and_lift_a_booking_pause(client, engine, bearer, api_world):
    with transaction(engine) as session:
        member = a_member(session, "Pia Paused")
        pause_booking_rights(
            session, member.id, until=utcnow() + timedelta(days=2), reason="2 no-shows"
        )
        member_id, number = member.id, member.number
    listed = client.get("/api/v1/booking-pauses", headers=bearer).get_json()["paused"]
    assert [(p["member_number"], p["reason"]) for p in listed] == [(number, "2 no-shows")]
    lift = f"/api/v1/members/{member_id}/booking-pause/lift"
    lifted = client.post(lift, json={"reason": "talked it through"}, headers=bearer)
    assert lifted.status_code == 200, lifted.get_json()
    body = lifted.get_json()
    assert body["member_id"] == member_id and body["ends_at"] < listed[0]["ends_at"]
    assert client.get("/api/v1/booking-pauses", headers=bearer).get_json()["paused"] == []
    (entry,) = audit_of(engine, "booking_pause.lift")
    assert entry.target == f"member:{number}" and entry.actor_member_id == api_world.steward_id
    assert json.loads(entry.after)["lifted_because"] == "talked it through"
    again = client.post(lift, json={}, headers=bearer)
    refused(again, 422, "member_id")
    refused(
        client.post("/api/v1/members/99999/booking-pause/lift", json={}, headers=bearer),
        404,
        "member_id",
    )
    assert len(audit_of(engine, "booking_pause.lift")) == 1


def test_a_machines_calendar_link_answers_201_and_opens_its_feed(client, engine, bearer, api_world):
    with reading(engine) as session:
        laser = resource_by_code(session, "laser")
    made = client.post(f"/api/v1/resources/{laser.id}/calendar-link", json={}, headers=bearer)
    assert made.status_code == 201, made.get_json()
    url = made.get_json()["url"]
    assert made.get_json()["resource_id"] == laser.id and url.endswith(".ics")
    feed = client.get(url.removeprefix("http://localhost"))
    assert feed.status_code == 200 and b"BEGIN:VCALENDAR" in feed.data
    (entry,) = audit_of(engine, "resource.feed_link")
    assert entry.target == "resource:laser" and entry.actor_member_id == api_world.steward_id
    refused(
        client.post("/api/v1/resources/99999/calendar-link", json={}, headers=bearer),
        404,
        "resource_id",
    )
