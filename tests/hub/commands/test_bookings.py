"""``commonshed hub resource ...`` on SQLite and PostgreSQL: each door acts as the operator,
refuses by field with exit code 1, and leaves its audit entry."""

import json
from datetime import timedelta

import pytest
from click.testing import CliRunner

from commonshed.cli import main
from hub.bookings import (
    Booking,
    BookingStatus,
    booking_pause_of,
    create_booking,
    pause_booking_rights,
    resource_by_code,
)
from hub.bookings.hours import at_local, local_day
from hub.infra import audit
from hub.infra.clock import utcnow
from hub.infra.db import reading, transaction
from tests.hub.builders import a_member


@pytest.fixture
def run(tmp_path, database_url):
    """Return a function that runs `commonshed hub ...` on the test's database."""
    runner = CliRunner()

    def invoke(*args: str):
        options = ["--data-dir", str(tmp_path / "data"), "--database-url", database_url]
        return runner.invoke(main, ["hub", *options, *args])

    return invoke


def audit_of(engine, action: str) -> list[audit.AuditEntry]:
    with reading(engine) as session:
        return [e for e in audit.recent(session) if e.action == action]


def test_add_edit_and_pause_a_machine_from_the_shell(run, engine):
    added = run(
        "resource",
        "add",
        "laser",
        "Laser cutter",
        "--slot-minutes",
        "20",
        "--max-booking-minutes",
        "60",
        "--hours",
        "mon=09:00-12:00,13:00-17:00",
        "--hours",
        "sat=10:00-14:00",
    )
    assert added.exit_code == 0, added.output
    assert "mon 09:00-12:00, 13:00-17:00; tue closed;" in added.output
    edited = run(
        "resource", "edit", "laser", "--checkin-grace-minutes", "5", "--hours", "tue=10:00-11:00"
    )
    assert edited.exit_code == 0, edited.output
    assert "mon 09:00-12:00, 13:00-17:00; tue 10:00-11:00;" in edited.output
    with reading(engine) as session:
        laser = resource_by_code(session, "laser")
        assert (laser.slot_minutes, laser.checkin_grace_minutes) == (20, 5)
    (entry,) = audit_of(engine, "resource.edit")
    assert entry.actor_member_id is None  # the operator
    assert json.loads(entry.after)["checkin_grace_minutes"] == 5
    paused = run("resource", "pause", "laser", "--reason", "fan broken", "--bookings", "cancel")
    assert paused.output == "Laser cutter is paused. No bookings were affected.\n"
    assert run("resource", "resume", "laser", "--reason", "new fan").exit_code == 0
    assert [len(audit_of(engine, a)) for a in ("resource.pause", "resource.resume")] == [1, 1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--slot-minutes", "0"), "[slot_minutes]"),
        (
            ("--hours", "wed=17:00-09:00"),
            "is midnight). [opening_hours.wed]",
        ),
        (("--hours", "funday=09:00-10:00"), "[opening_hours]"),
        (("--site", "South/1"), "[site]"),
    ],
)
def test_bad_rules_exit_1_naming_the_field_and_add_nothing(run, engine, args, message):
    result = run("resource", "add", "laser", "Laser cutter", *args)
    assert result.exit_code == 1 and message in result.output
    assert not audit_of(engine, "resource.add")


def test_a_machine_s_site_is_set_and_dropped_from_the_shell(run, engine):
    added = run("resource", "add", "laser", "Laser cutter", "--site", "south")
    assert added.exit_code == 0 and "(laser, Laser cutter · south) added." in added.output
    moved = run("resource", "edit", "laser", "--site", "north")
    assert moved.exit_code == 0 and "(laser, Laser cutter · north) changed." in moved.output
    dropped = run("resource", "edit", "laser", "--site", "")
    assert dropped.exit_code == 0 and "(laser, Laser cutter) changed." in dropped.output
    with reading(engine) as session:
        assert resource_by_code(session, "laser").site is None
    first, second = audit_of(engine, "resource.edit")[::-1]
    assert (json.loads(first.before)["site"], json.loads(first.after)["site"]) == ("south", "north")
    assert json.loads(second.after)["site"] is None


def test_closing_a_day_says_what_happens_to_its_bookings(run, engine):
    assert run("resource", "add", "laser", "Laser cutter").exit_code == 0
    with transaction(engine) as session:
        laser = resource_by_code(session, "laser")
        ada = a_member(session, "Ada Lovelace")
        day = local_day(laser, utcnow()) + timedelta(days=2)
        booking = create_booking(
            session,
            resource_id=laser.id,
            member_id=ada.id,
            starts_at=at_local(laser, day, 10 * 60),
            ends_at=at_local(laser, day, 11 * 60),
        )
    without = run("resource", "close-day", "laser", f"{day:%Y-%m-%d}")
    assert without.exit_code == 2 and "--bookings" in without.output
    closed = run(
        "resource",
        "close-day",
        "laser",
        f"{day:%Y-%m-%d}",
        "--bookings",
        "cancel",
        "--reason",
        "Open day",
    )
    assert closed.exit_code == 0, closed.output
    assert "1 booking cancelled; each holder sees why on their bookings." in closed.output
    with reading(engine) as session:
        assert session.get(Booking, booking.id).status == BookingStatus.CANCELLED
    assert run("resource", "reopen-day", "laser", f"{day:%Y-%m-%d}").output.endswith(
        f"is open again on {day:%Y-%m-%d}.\n"
    )
    assert [len(audit_of(engine, a)) for a in ("resource.close_day", "resource.reopen_day")] == [
        1,
        1,
    ]


def test_an_unknown_machine_is_refused(run):
    result = run("resource", "pause", "nope", "--reason", "x", "--bookings", "keep")
    assert result.exit_code == 1 and "Resource 'nope' does not exist. [resource]" in result.output


def test_lift_a_members_booking_pause_from_the_shell(run, engine):
    with transaction(engine) as session:
        member = a_member(session, "Pia Paused")
        pause_booking_rights(
            session, member.id, until=utcnow() + timedelta(days=2), reason="2 no-shows"
        )
        member_id, number = member.id, member.number
    lifted = run("member", "lift-booking-pause", number)
    assert lifted.exit_code == 0, lifted.output
    assert f"Member {number} (Pia Paused) may book again." in lifted.output
    with reading(engine) as session:
        assert booking_pause_of(session, member_id) is None
    (entry,) = audit_of(engine, "booking_pause.lift")
    assert entry.target == f"member:{number}" and entry.actor_member_id is None
    again = run("member", "lift-booking-pause", number)
    assert again.exit_code == 1 and "booking rights are not paused" in again.output
