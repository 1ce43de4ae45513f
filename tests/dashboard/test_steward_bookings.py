"""The machines' steward pages on SQLite and PostgreSQL: add, edit, close days, pause and
resume through the hub's audited services; refused forms come back as typed, naming the field."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest

from hub import bookings
from hub.bookings import (
    Booking,
    BookingStatus,
    create_booking,
    resource_by_code,
)
from hub.bookings.hours import at_local, local_day
from hub.infra import audit
from hub.infra.clock import utcnow
from hub.infra.db import reading, transaction
from hub.members.roster import Member
from tests.dashboard.conftest import csrf_token, sign_in_by_session
from tests.hub.builders import a_member

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
RULES = {
    "slot_minutes": "30",
    "max_booking_minutes": "90",
    "max_minutes_per_week": "180",
    "max_future_bookings": "2",
    "cost_minutes_per_hour": "0",
    "checkin_grace_minutes": "10",
}


@pytest.fixture
def post(steward):
    token = csrf_token(steward, "/steward/machines")

    def send(url: str, **form):
        return steward.post(url, data={"csrf_token": token, **form})

    return send


def machine_form(**changes: str) -> dict[str, str]:
    form = {"code": "cnc", "name": "CNC router", "training": "router", **RULES}
    form |= {f"{day}_opens_1": "10:00" for day in DAYS[:5]}
    form |= {f"{day}_closes_1": "18:00" for day in DAYS[:5]}
    return form | changes


def audited(engine, action: str) -> list[audit.AuditEntry]:
    with reading(engine) as session:
        return [e for e in audit.recent(session, limit=500) if e.action == action]


def test_the_machines_page_lists_the_machines_and_links_the_form(steward):
    page = steward.get("/steward/machines").get_data(as_text=True)
    assert "Laser cutter" in page and "3D printer (Prusa)" in page
    assert 'href="/steward/machines/new"' in page
    form = steward.get("/steward/machines/new").get_data(as_text=True)
    assert 'name="mon_opens_1" value="09:00"' in form  # the hub's default hours, filled in
    assert 'name="slot_minutes" value="30"' in form


def test_add_a_machine_from_the_form_is_audited(post, engine):
    answer = post("/steward/machines", **machine_form(sat_opens_1="10:00", sat_closes_1="00:00"))
    assert answer.status_code == 302, answer.get_data(as_text=True)[:800]
    with reading(engine) as session:
        cnc = resource_by_code(session, "cnc")
    assert cnc.opening_hours["mon"] == ["10:00-18:00"] and cnc.opening_hours["sun"] == []
    assert cnc.opening_hours["sat"] == ["10:00-24:00"]  # 00:00 closing is midnight
    assert (cnc.max_booking_minutes, cnc.checkin_grace_minutes) == (90, 10)
    (entry,) = [e for e in audited(engine, "resource.add") if e.target == "resource:cnc"]
    assert entry.actor_member_id is not None and json.loads(entry.after)["training_id"]
    assert answer.headers["Location"].endswith(f"/steward/machines/{cnc.id}")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"mon_opens_1": "18:00", "mon_closes_1": "09:00"}, "opening_hours.mon"),
        ({"wed_opens_2": "19:00"}, "opening_hours.wed"),  # a closing time is missing
        ({"slot_minutes": "0"}, "slot_minutes"),
        ({"max_future_bookings": "two"}, "max_future_bookings"),
        ({"code": "CNC Router!"}, "code"),
        ({"training": "juggling"}, "training"),
        ({"site": "no such/site"}, "site"),
    ],
)
def test_a_refused_form_comes_back_as_typed_naming_the_field(post, engine, changes, field):
    answer = post("/steward/machines", **machine_form(name="Kept name", **changes))
    page = answer.get_data(as_text=True)
    assert answer.status_code in (404, 422), page[:500]
    assert f"<code>{field}</code>" in page and 'value="Kept name"' in page
    if field.startswith("opening_hours."):
        assert 'class="first invalid-row"' in page
    else:
        assert f'name="{field}"' in page and 'aria-invalid="true"' in page
    with reading(engine) as session:
        assert not [e for e in audit.recent(session) if e.target == "resource:cnc"]


def test_edit_a_machine_keeps_typed_values_on_refusal_and_saves_when_right(steward, post, engine):
    with reading(engine) as session:
        laser = resource_by_code(session, "laser")
    url = f"/steward/machines/{laser.id}"
    form = steward.get(url).get_data(as_text=True)
    assert 'name="training"' in form and 'value="laser" selected' in form
    wrong = post(url, **machine_form(name="Laser (big)", slot_minutes="60"))
    assert wrong.status_code == 422 and "<code>max_booking_minutes</code>" in wrong.get_data(
        as_text=True
    )  # 90 is not whole 60-minute slots
    assert 'value="60"' in wrong.get_data(as_text=True)
    saved = post(url, **machine_form(name="Laser (big)", training=""))
    assert saved.status_code == 302
    with reading(engine) as session:
        laser = resource_by_code(session, "laser")
    assert (laser.name, laser.training_id, laser.slot_minutes) == ("Laser (big)", None, 30)
    (entry,) = audited(engine, "resource.edit")
    assert json.loads(entry.before)["name"] == "Laser cutter"


def test_a_machine_s_site_is_set_on_its_form_shown_in_the_list_and_cleared(steward, post, engine):
    with reading(engine) as session:
        laser = resource_by_code(session, "laser")
    url = f"/steward/machines/{laser.id}"
    form = steward.get(url).get_data(as_text=True)
    assert 'name="site" value=""' in form and '<option value="north">' in form  # kiosks' sites
    assert post(url, **machine_form(name="Laser cutter", site=" south ")).status_code == 302
    with reading(engine) as session:
        assert resource_by_code(session, "laser").site == "south"
    assert 'name="site" value="south"' in steward.get(url).get_data(as_text=True)
    assert "Laser cutter · south" in steward.get("/steward/machines").get_data(as_text=True)
    (entry,) = audited(engine, "resource.edit")
    assert (json.loads(entry.before)["site"], json.loads(entry.after)["site"]) == (None, "south")
    assert post(url, **machine_form(name="Laser cutter", site="")).status_code == 302
    with reading(engine) as session:
        assert resource_by_code(session, "laser").site is None


def test_closing_a_day_with_a_booking_says_it_is_kept_and_reopening(steward, post, engine):
    with transaction(engine) as session:
        laser = resource_by_code(session, "sewing")
        day = local_day(laser, utcnow()) + timedelta(days=2)
        holder = a_member(session, "Holder Person")
        booking = create_booking(
            session,
            resource_id=laser.id,
            member_id=holder.id,
            starts_at=at_local(laser, day, 10 * 60),
            ends_at=at_local(laser, day, 11 * 60),
        )
    url = f"/steward/machines/{laser.id}/closed-days"
    page = steward.get(f"/steward/machines/{laser.id}").get_data(as_text=True)
    assert "Keep them" in page and "Cancel them" in page and "data-confirm=" in page
    answer = post(url, day=f"{day}", reason="Workshop", bookings="keep")
    assert answer.status_code == 302
    shown = steward.get(answer.headers["Location"]).get_data(as_text=True)
    assert "1 booking kept; each holder sees a notice that it may not go ahead." in shown
    assert f"{day.isoformat()} · Workshop" in shown
    with reading(engine) as session:
        kept = session.get(Booking, booking.id)
    assert kept.status == BookingStatus.BOOKED and "closed on" in kept.notice
    assert len(audited(engine, "resource.close_day")) == 1
    reopened = post(f"{url}/{day}/reopen")
    assert reopened.status_code == 302
    with reading(engine) as session:
        assert "open again" in session.get(Booking, booking.id).notice
    assert len(audited(engine, "resource.reopen_day")) == 1


def test_closing_needs_a_choice_for_the_bookings(post, engine):
    with reading(engine) as session:
        laser = resource_by_code(session, "laser")
        day = local_day(laser, utcnow()) + timedelta(days=1)
    answer = post(f"/steward/machines/{laser.id}/closed-days", day=f"{day}")
    assert answer.status_code == 422 and "<code>bookings</code>" in answer.get_data(as_text=True)
    assert not audited(engine, "resource.close_day")


def test_pause_cancelling_then_resume(steward, post, engine):
    with reading(engine) as session:
        laser = resource_by_code(session, "printer-1")
    url = f"/steward/machines/{laser.id}"
    assert post(f"{url}/pause", reason="", bookings="cancel").status_code == 422
    paused = post(f"{url}/pause", reason="Nozzle clogged", bookings="cancel")
    assert paused.status_code == 302
    page = steward.get(paused.headers["Location"]).get_data(as_text=True)
    assert "3D printer (Prusa) is paused." in page and "Resume bookings" in page
    assert "Nozzle clogged" in steward.get("/steward/machines").get_data(as_text=True)
    assert post(f"{url}/resume", reason="New nozzle").status_code == 302
    with reading(engine) as session:
        assert resource_by_code(session, "printer-1").paused is False
    assert [len(audited(engine, a)) for a in ("resource.pause", "resource.resume")] == [1, 1]


def test_a_volunteer_cannot_reach_the_machine_pages(client, engine):
    with transaction(engine) as session:
        number = a_member(session, "Val Volunteer", roles="volunteer").number
    sign_in_by_session(client, number)
    assert client.get("/steward/machines").status_code == 403
    assert client.post("/steward/machines", data=machine_form()).status_code in (400, 403)
    with reading(engine) as session:
        assert not [e for e in audit.recent(session) if e.target == "resource:cnc"]


# --- a member's booking pause, a machine's calendar link -----------------------------------


def paused_member(engine, name: str = "Pia Paused") -> int:
    """Add a member whose booking rights are paused for two days; return their id."""
    with transaction(engine) as session:
        member = a_member(session, name)
        bookings.pause_booking_rights(
            session, member.id, until=utcnow() + timedelta(days=2), reason="2 no-shows"
        )
        return member.id


def test_a_steward_lifts_a_booking_pause_from_the_bookings_page(steward, post, engine):
    member_id = paused_member(engine)
    page = steward.get("/steward/bookings").get_data(as_text=True)
    assert "Pia Paused" in page and "2 no-shows" in page
    lift = f'action="/steward/bookings/pauses/{member_id}/lift"'
    assert lift in page and 'data-confirm="Lift the booking pause of Pia Paused?' in page
    answer = post(f"/steward/bookings/pauses/{member_id}/lift", reason="missed for a funeral")
    assert answer.status_code == 302 and answer.location.endswith("/steward/bookings#paused")
    with reading(engine) as session:
        assert bookings.booking_pause_of(session, member_id) is None
        number = session.get(Member, member_id).number
    (entry,) = audited(engine, "booking_pause.lift")
    assert entry.target == f"member:{number}" and entry.actor_member_id == 1
    assert json.loads(entry.before)["ends_at"] > json.loads(entry.after)["ends_at"]
    assert json.loads(entry.after)["lifted_because"] == "missed for a funeral"
    after = steward.get("/steward/bookings").get_data(as_text=True)
    assert lift not in after and "No member's booking rights are paused." in after
    again = post(f"/steward/bookings/pauses/{member_id}/lift")
    assert again.status_code == 422 and "not paused" in again.get_data(as_text=True)
    assert len(audited(engine, "booking_pause.lift")) == 1


def test_a_new_calendar_link_for_a_machine_is_shown_once_and_works(steward, post, engine):
    with reading(engine) as session:
        laser = resource_by_code(session, "laser")
    page = steward.get(f"/steward/machines/{laser.id}").get_data(as_text=True)
    assert f'action="/steward/machines/{laser.id}/calendar-link"' in page
    shown = post(f"/steward/machines/{laser.id}/calendar-link").get_data(as_text=True)
    link = re.search(r'value="http://localhost(/[^"]+\.ics)"', shown)
    assert link, shown
    feed = steward.get(link.group(1))
    assert feed.status_code == 200 and feed.mimetype == "text/calendar"
    assert b"BEGIN:VCALENDAR" in feed.data
    (entry,) = audited(engine, "resource.feed_link")
    assert entry.target == "resource:laser" and entry.actor_member_id == 1
    assert link.group(1).split("/")[-1][:-4] not in (entry.after or "")
    post(f"/steward/machines/{laser.id}/calendar-link")  # a new link stops the old one
    assert steward.get(link.group(1)).status_code == 404
