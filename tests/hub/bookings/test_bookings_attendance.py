"""Check-in by card, the no-show sweep and its pauses, and tablet PINs, with a controlled clock."""

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlmodel import select

from hub.bookings import (
    Booking,
    BookingRightsPaused,
    BookingStatus,
    HolderChoice,
    MemberPin,
    NoShowPolicy,
    PinLockedOut,
    ResourceUnavailable,
    add_resource,
    booking_pause_of,
    check_in_by_card,
    lift_booking_pause,
    pause_resource,
    paused_members,
    release_no_shows,
    set_pin,
    sweep_bookings,
    verify_pin,
)
from hub.bookings.refusals import BookingRefused
from hub.errors import InvalidInput, MemberSuspended, NotFound
from hub.infra.audit import AuditEntry
from hub.infra.db import reading, transaction
from hub.members.ranks import OPERATOR, NotSteward
from hub.members.roster import get_member
from hub.members.standing import suspend_member
from hub.timebank import ledger
from tests.hub.bookings import test_bookings as world
from tests.hub.bookings.test_bookings import NOW, at, book, day

space = world.space  # the same fixture: a laser cutter and three members


def test_a_card_tap_checks_the_booking_in_once(space):
    engine, laser, ada, _, _ = space
    booking = book(engine, laser, ada, at(day(1), "10:00"), at(day(1), "11:00"))
    tap = at(day(1), "09:55")
    with transaction(engine) as session:
        first = check_in_by_card(session, "laser", "de:ad:be:ef", now=tap)
    with transaction(engine) as session:
        again = check_in_by_card(session, laser, "DEADBEEF", now=tap + timedelta(minutes=30))
    assert first.id == again.id == booking.id
    assert again.status == BookingStatus.CHECKED_IN and again.checked_in_at == tap


@pytest.mark.parametrize(
    ("clock", "words"),
    [
        ("09:30", "check-in opens Tuesday 2026-11-24 09:50"),
        ("10:16", "Check-in for your booking of Laser cutter closed at Tuesday 2026-11-24 10:15"),
    ],
    ids=["too-early", "too-late"],
)
def test_check_in_outside_its_window_says_when(space, clock, words):
    engine, laser, ada, _, _ = space
    book(engine, laser, ada, at(day(1), "10:00"), at(day(1), "11:00"))
    with pytest.raises(NotFound, match=words):
        with transaction(engine) as session:
            check_in_by_card(session, "laser", "DEADBEEF", now=at(day(1), clock))


def test_check_in_refuses_other_cards_suspended_members_and_paused_machines(space):
    engine, laser, ada, grace, _ = space
    book(engine, laser, ada, at(day(1), "10:00"), at(day(1), "11:00"))
    with pytest.raises(NotFound, match="no booking of Laser cutter now"):
        with transaction(engine) as session:
            check_in_by_card(session, "laser", "CAFEF00D", now=at(day(1), "10:00"))
    with pytest.raises(NotFound, match="not known"):
        with transaction(engine) as session:
            check_in_by_card(session, "laser", "01020304", now=at(day(1), "10:00"))
    with transaction(engine) as session:
        pause_resource(session, OPERATOR, laser, "fan broken", holders=HolderChoice.KEEP, now=NOW)
    with pytest.raises(ResourceUnavailable, match="fan broken"):
        with transaction(engine) as session:
            check_in_by_card(session, "laser", "DEADBEEF", now=at(day(1), "10:00"))
    with transaction(engine) as session:
        suspend_member(session, OPERATOR, ada, "lost keys")
    with pytest.raises(MemberSuspended):
        with transaction(engine) as session:
            check_in_by_card(session, "laser", "DEADBEEF", now=at(day(1), "10:00"))


def test_no_check_in_within_grace_releases_the_slot_once(space):
    engine, laser, ada, grace, _ = space
    booking = book(engine, laser, ada, at(day(1), "10:00"), at(day(1), "11:00"))
    with transaction(engine) as session:
        assert release_no_shows(session, now=at(day(1), "10:14")) == []
    with transaction(engine) as session:
        released = release_no_shows(session, now=at(day(1), "10:15"))
    with transaction(engine) as session:
        assert release_no_shows(session, now=at(day(1), "10:20")) == []
    assert [b.id for b in released] == [booking.id]
    assert released[0].status == BookingStatus.NO_SHOW
    assert "nobody checked in" in released[0].notice
    # The rest of the slot is free again for someone standing at the machine.
    book(engine, laser, grace, at(day(1), "10:30"), at(day(1), "11:00"), now=at(day(1), "10:20"))


def test_checked_in_bookings_are_not_released(space):
    engine, laser, ada, _, _ = space
    book(engine, laser, ada, at(day(1), "10:00"), at(day(1), "11:00"))
    with transaction(engine) as session:
        check_in_by_card(session, "laser", "DEADBEEF", now=at(day(1), "10:10"))
        assert release_no_shows(session, now=at(day(1), "10:40")) == []


def no_show(engine, resource_id, member_id, when):
    """Book a slot starting at ``when`` and let the sweep release it."""
    book(
        engine,
        resource_id,
        member_id,
        when,
        when + timedelta(minutes=30),
        now=when - timedelta(hours=1),
    )
    with transaction(engine) as session:
        return release_no_shows(session, now=when + timedelta(minutes=20))


def test_repeated_no_shows_pause_booking_rights_visibly_for_a_while(space):
    engine, laser, ada, _, _ = space
    for offset in (1, 8, 15):
        no_show(engine, laser, ada, at(day(offset), "10:00"))
    paused_at = at(day(15), "10:20")
    with reading(engine) as session:
        pause = booking_pause_of(session, ada, now=paused_at)
    assert pause.ends_at == paused_at + timedelta(days=14)
    assert pause.reason == "3 no-shows in 30 days without checking in."
    with pytest.raises(BookingRightsPaused) as refusal:
        book(engine, laser, ada, at(day(16), "10:00"), at(day(16), "10:30"), now=paused_at)
    assert "paused until Tuesday 2026-12-22 10:20: 3 no-shows in 30 days" in refusal.value.message
    assert refusal.value.possible_from == pause.ends_at
    after = pause.ends_at + timedelta(minutes=1)
    assert book(engine, laser, ada, at(day(30), "10:00"), at(day(30), "10:30"), now=after).id


def test_no_shows_spread_beyond_the_window_do_not_pause(space):
    engine, laser, ada, _, _ = space
    for offset in (1, 22, 43):  # three no-shows, but never three within 30 days
        no_show(engine, laser, ada, at(day(offset), "10:00"))
    with reading(engine) as session:
        assert booking_pause_of(session, ada, now=at(day(43), "10:30")) is None


def test_the_no_show_policy_is_configurable_and_a_steward_may_lift_a_pause(space):
    engine, laser, ada, _, _ = space
    strict = NoShowPolicy(limit=1, window=timedelta(days=7), pause=timedelta(days=2))
    book(engine, laser, ada, at(day(1), "10:00"), at(day(1), "10:30"))
    with transaction(engine) as session:
        release_no_shows(session, now=at(day(1), "10:30"), policy=strict)
        assert booking_pause_of(session, ada, now=at(day(1), "10:30")).ends_at == at(
            day(3), "10:30"
        )
        assert [p.member.id for p in paused_members(session, now=at(day(1), "10:45"))] == [ada]
        with pytest.raises(NotSteward, match="may not lift a member's booking pause"):
            lift_booking_pause(session, get_member(session, ada), ada, now=at(day(1), "11:00"))
        lift_booking_pause(session, OPERATOR, ada, now=at(day(1), "11:00"))
        assert booking_pause_of(session, ada, now=at(day(1), "11:00")) is None
        assert paused_members(session, now=at(day(1), "11:00")) == []
        entry = session.exec(
            select(AuditEntry).where(AuditEntry.action == "booking_pause.lift")
        ).one()
        assert entry.target == "member:1001" and entry.actor_member_id is None
        assert '"ends_at"' in entry.after and "2026-11-24 11:00" in entry.after
    with pytest.raises(BookingRefused, match="booking rights are not paused"):
        with transaction(engine) as session:
            lift_booking_pause(session, OPERATOR, ada, now=at(day(1), "11:00"))


# --- PINs ---------------------------------------------------------------------------------


def test_a_pin_is_hashed_and_verified(space):
    engine, _, ada, _, _ = space
    with transaction(engine) as session:
        set_pin(session, ada, "4321", now=NOW)
    with transaction(engine) as session:
        stored = session.exec(select(MemberPin)).one()
        assert "4321" not in stored.pin_hash and stored.pin_hash.startswith("$argon2")
        assert verify_pin(session, "1001", "4321", now=NOW).id == ada
        assert verify_pin(session, "1001", "1234", now=NOW) is None
        assert verify_pin(session, "9999", "4321", now=NOW) is None  # unknown number
        assert verify_pin(session, "1002", "4321", now=NOW) is None  # member without a PIN


@pytest.mark.parametrize("pin", ["", "123", "123456789", "12a4", " 1234"])
def test_a_malformed_pin_is_refused(space, pin):
    engine, _, ada, _, _ = space
    with pytest.raises(InvalidInput, match="4 to 8 digits"):
        with transaction(engine) as session:
            set_pin(session, ada, pin)


def test_five_wrong_pins_lock_the_pin_for_five_minutes(space):
    engine, _, ada, _, _ = space
    with transaction(engine) as session:
        set_pin(session, ada, "4321", now=NOW)
    for attempt in range(5):
        with transaction(engine) as session:  # each wrong try is committed on its own
            assert verify_pin(session, "1001", f"000{attempt}", now=NOW) is None
    with pytest.raises(PinLockedOut, match="Too many wrong PINs; try again after 08:05"):
        with transaction(engine) as session:
            verify_pin(session, "1001", "4321", now=NOW + timedelta(minutes=4))
    with transaction(engine) as session:
        assert verify_pin(session, "1001", "4321", now=NOW + timedelta(minutes=5)).id == ada


# --- timebank and the periodic sweep ------------------------------------------------------


def test_a_paid_machine_charges_the_timebank_once_at_check_in(space):
    engine, _, ada, _, _ = space
    with transaction(engine) as session:
        paid = add_resource(
            session,
            code="embroidery",
            name="Embroidery machine",
            cost_minutes_per_hour=30,
        )
    booking = book(engine, paid.id, ada, at(day(1), "10:00"), at(day(1), "11:30"))
    with reading(engine) as session:
        assert ledger.member_balance(session, ada) == Decimal("0.00")  # booking costs nothing
    with transaction(engine) as session:
        check_in_by_card(session, "embroidery", "DEADBEEF", now=at(day(1), "10:00"))
    with transaction(engine) as session:
        check_in_by_card(session, "embroidery", "DEADBEEF", now=at(day(1), "10:05"))
    with reading(engine) as session:
        assert ledger.member_balance(session, ada) == Decimal("-0.75")  # 1.5 h at 0.5 h/h
        fee = ledger.transfer_by_key(session, f"booking:{booking.id}")
    assert fee.kind == "booking_fee" and "Embroidery machine" in fee.description


def test_the_sweep_releases_no_shows_and_tells_holders_of_broken_machines(space):
    engine, laser, ada, grace, _ = space
    late = book(engine, laser, ada, at(day(1), "10:00"), at(day(1), "10:30"))
    later = book(engine, laser, grace, at(day(2), "10:00"), at(day(2), "10:30"))
    with transaction(engine) as session:
        pause_resource(session, OPERATOR, laser, "lens cracked", holders=HolderChoice.KEEP, now=NOW)
        session.get(Booking, later.id).notice = None  # as if the pause came from elsewhere
    with transaction(engine) as session:
        report = sweep_bookings(session, now=at(day(1), "10:20"))
    assert [b.id for b in report.released] == [late.id]
    assert [b.id for b in report.told] == [later.id]


def test_a_booking_made_for_a_slot_under_way_gets_its_grace_from_when_it_was_made(space):
    engine, laser, ada, _, _ = space
    book(engine, laser, ada, at(day(1), "10:00"), at(day(1), "11:00"), now=at(day(1), "10:20"))
    with transaction(engine) as session:
        assert release_no_shows(session, now=at(day(1), "10:30")) == []
        checked = check_in_by_card(session, "laser", "DEADBEEF", now=at(day(1), "10:34"))
    assert checked.status == BookingStatus.CHECKED_IN
