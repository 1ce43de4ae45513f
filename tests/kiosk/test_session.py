"""The session state machine on mock pins, with a clock that moves only when told."""

from __future__ import annotations

import pytest

from kiosk.session import MESSAGE_SECONDS, NotNow
from tests.kiosk.builders import ADA, SAM, STRANGER, SUE, rising_edges


def states(pin) -> list[bool]:
    return [state.state for state in pin.states]


def test_a_borrow_pulses_the_relay_and_records_the_loan_when_the_door_opens(parts):
    parts.session.card_presented(ADA)
    assert parts.session.screen().state == "member"
    offered = [t["tool_code"] for t in parts.session.screen().choices["borrow"]]
    assert offered == ["DRILL-1", "PRESS-1"]  # not SAW-2: out of service
    parts.session.borrow(1)
    relay = parts.factory.pin(17)
    assert states(relay) == [False, True] and len(relay.states) == 2  # pulsing now
    assert parts.session.screen().title == "Locker 1 is open"
    assert parts.types() == []  # nothing happened yet: the door is still shut
    parts.door(1, True)
    assert states(relay) == [False, True, False]  # the pulse ends when the door opens
    assert parts.types() == ["door_opened", "loan_out"]
    parts.door(1, False)
    assert parts.session.screen().state == "done"
    assert parts.types() == ["door_opened", "loan_out", "door_closed"]
    assert parts.lockers.state(1).taken and parts.signals.accepted == 2


def test_a_locker_whose_tool_went_out_is_empty_until_it_is_returned(parts):
    borrow(parts, ADA, 1)
    parts.session.card_presented(SAM)
    assert parts.session.screen().choices["borrow"] == []
    assert [t["slot"] for t in parts.session.screen().choices["return"]] == [1]
    parts.session.borrow(1)
    assert parts.session.screen().state == "refused"
    assert parts.events()[-1].body.reason == "locker_empty"


def test_a_return_needing_repair_takes_the_tool_out_of_service_here_at_once(parts):
    borrow(parts, ADA, 1)
    parts.session.card_presented(ADA)
    with pytest.raises(NotNow, match="note is required"):
        parts.session.return_tool(1, "needs_repair", "  ")
    parts.session.return_tool(1, "needs_repair", "Chuck slips")
    parts.door(1, True)
    parts.door(1, False)
    returned = parts.events()[-2]
    assert (returned.type, returned.body.condition, returned.body.note) == (
        "tool_return", "needs_repair", "Chuck slips")
    assert not parts.lockers.state(1).taken and parts.lockers.state(1).out_of_service
    parts.clock.advance(MESSAGE_SECONDS)
    parts.session.tick()
    parts.session.card_presented(ADA)
    parts.session.borrow(1)
    assert parts.events()[-1].body.reason == "tool_out_of_service"


def test_choosing_the_tool_first_makes_the_tap_open_the_locker(parts):
    parts.session.pick(1)
    assert parts.session.screen().state == "armed"
    parts.session.card_presented(ADA)
    assert rising_edges(parts.factory.pin(17)) == 1
    assert parts.session.screen().state == "open"


def test_an_unknown_card_is_refused_on_screen_with_a_buzz_and_an_event(parts):
    parts.session.card_presented(STRANGER)
    screen = parts.session.screen()
    assert screen.state == "refused" and "not known" in screen.message
    assert parts.signals.refused == 1
    assert parts.events()[-1].body.reason == "unknown_card"
    parts.clock.advance(MESSAGE_SECONDS)
    parts.session.tick()
    assert parts.session.screen().state == "idle"


def test_a_suspended_member_with_nothing_to_return_is_refused(parts):
    parts.session.card_presented(SUE)
    assert parts.session.screen().state == "refused"
    assert parts.events()[-1].body.reason == "member_suspended"


def test_a_suspended_member_may_still_return_a_tool(parts):
    borrow(parts, ADA, 1)
    parts.session.card_presented(SUE)
    screen = parts.session.screen()
    assert screen.state == "member" and screen.choices["borrow"] == []
    parts.session.return_tool(1, "ok")
    assert rising_edges(parts.factory.pin(17)) == 2


def test_an_idle_session_times_out_to_tap_your_card(parts):
    parts.session.card_presented(ADA)
    parts.clock.advance(29)
    parts.session.tick()
    assert parts.session.screen().state == "member"
    parts.clock.advance(1)
    parts.session.tick()
    assert parts.session.screen().state == "idle"
    with pytest.raises(NotNow, match="Tap your card"):
        parts.session.borrow(1)


def test_an_unlock_nobody_used_expires_and_records_no_loan(parts):
    parts.session.card_presented(ADA)
    parts.session.borrow(1)
    parts.clock.advance(6)  # pulse 5 s + grace 1 s
    parts.session.tick()
    assert parts.session.screen().title == "Locker not opened"
    assert parts.session.expected == {} and not parts.lockers.state(1).taken
    assert parts.types() == []


def test_a_steward_opens_an_out_of_service_locker_and_a_member_may_not(parts):
    parts.session.card_presented(ADA)
    assert "maintenance" not in parts.session.screen().choices
    parts.session.open_for_maintenance(2)
    assert parts.events()[-1].body.reason == "steward_required"
    assert rising_edges(parts.factory.pin(27)) == 0
    parts.session.card_presented(SAM)
    parts.session.open_for_maintenance(2)
    assert rising_edges(parts.factory.pin(27)) == 1
    parts.door(2, True)
    assert parts.types()[-1] == "door_opened"  # no loan for maintenance


def test_a_steward_ticket_and_a_repair_log_become_events(parts):
    parts.session.card_presented(SAM)
    parts.session.open_ticket("DRILL-1", "Battery swollen")
    assert parts.lockers.state(1).out_of_service
    parts.session.card_presented(ADA)
    parts.session.log_repair("DRILL-1", "1.5", "New battery")
    ticket, repair = parts.events()
    assert (ticket.type, ticket.body.note) == ("maintenance_opened", "Battery swollen")
    assert (repair.type, str(repair.body.hours)) == ("repair_logged", "1.5")
    assert parts.session.screen().state == "done"


def test_bad_repair_hours_are_refused_with_the_field_named(parts):
    parts.session.card_presented(ADA)
    with pytest.raises(NotNow, match="hours"):
        parts.session.log_repair("DRILL-1", "25", "too long")
    with pytest.raises(NotNow, match="does not live at this kiosk"):
        parts.session.log_repair("LATHE-9", "1", "not ours")
    assert parts.types() == []


def test_a_door_opened_without_a_pulse_is_recorded_as_forced(parts):
    parts.door(3, True)
    assert parts.types() == ["door_forced"]
    assert parts.session.screen().state == "idle"


def borrow(parts, card: str, slot: int) -> None:
    parts.session.card_presented(card)
    parts.session.borrow(slot)
    parts.door(slot, True)
    parts.door(slot, False)
    parts.clock.advance(MESSAGE_SECONDS)
    parts.session.tick()
