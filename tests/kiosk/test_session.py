"""The session state machine on mock pins, with a clock that moves only when told."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from broker import messages as wire
from kiosk import decision
from kiosk.session import MESSAGE_SECONDS, BadEntry, NotNow
from tests.kiosk.builders import (
    ADA,
    SAM,
    STRANGER,
    SUE,
    a_config,
    an_allowlist,
    member,
    rising_edges,
)


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
    with pytest.raises(BadEntry, match="Say what is wrong with it") as refused:
        parts.session.return_tool(1, "needs_repair", "  ")
    assert refused.value.field == "note"  # the screen shows it by the note
    parts.session.return_tool(1, "needs_repair", "Chuck slips")
    parts.door(1, True)
    parts.door(1, False)
    returned = parts.events()[-2]
    assert (returned.type, returned.body.condition, returned.body.note) == (
        "tool_return",
        "needs_repair",
        "Chuck slips",
    )
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
    with pytest.raises(BadEntry, match="hours") as refused:
        parts.session.log_repair("DRILL-1", "25", "too long")
    assert refused.value.field == "hours"
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


def test_a_tool_from_another_kiosk_goes_back_into_an_empty_locker(parts):
    """Ada borrowed TENT-1 at another kiosk: this one offers its empty locker 3 for it."""
    parts.store.offer(
        "config", wire.encode(a_config(2, lockers={1: "DRILL-1", 2: "SAW-2", 3: None}))
    )
    ada = member("Ada Lovelace", "42", loans=["TENT-1"])
    parts.store.offer("allowlist", wire.encode(an_allowlist(2, extra={ADA: ada})))
    parts.session.card_presented(ADA)
    offered = parts.session.screen().choices["return"]
    assert [(t["tool_code"], t["slot"], t.get("away")) for t in offered] == [("TENT-1", 3, True)]
    with pytest.raises(NotNow, match="not empty"):
        parts.session.return_tool(1, "ok", tool_code="TENT-1")
    with pytest.raises(NotNow, match="SAW-1 is not on loan to you"):
        parts.session.return_tool(3, "ok", tool_code="SAW-1")
    parts.session.return_tool(3, "needs_repair", "Zip torn", tool_code="TENT-1")
    assert rising_edges(parts.factory.pin(22)) == 1
    parts.door(3, True)
    parts.door(3, False)
    returned = parts.events()[-2]
    assert (returned.body.tool_code, returned.body.locker_slot) == ("TENT-1", 3)
    assert parts.lockers.home_tool(3) == "TENT-1"  # until the hub's new config says where


def test_the_hub_config_placing_a_dropped_tool_elsewhere_wins(parts):
    parts.store.offer(
        "config", wire.encode(a_config(2, lockers={1: "DRILL-1", 2: "SAW-2", 3: None}))
    )
    parts.lockers.mark_returned(3, "TENT-1")
    assert parts.lockers.home_tool(3) == "TENT-1"
    parts.store.offer(
        "config", wire.encode(a_config(3, lockers={1: "TENT-1", 2: "SAW-2", 3: None}))
    )
    assert parts.lockers.home_tool(3) is None and parts.lockers.home_tool(1) == "TENT-1"


def test_the_loan_limit_counts_tools_taken_here_before_the_hub_lists_them(parts):
    held = an_allowlist(2)
    limited = wire.AllowList.build(
        version=2,
        generated_at=held.generated_at,
        entries=held.entries,
        tools_out_of_service=held.tools_out_of_service,
        tool_trainings=held.tool_trainings,
        limits=wire.BorrowingLimits(max_loans=1),
    )
    assert parts.store.offer("allowlist", wire.encode(limited))
    parts.session.card_presented(ADA)
    parts.session.borrow(1)
    parts.door(1, True)
    parts.door(1, False)  # DRILL-1 is out; the hub has not said so yet (offline, say)
    parts.session.card_presented(ADA)
    assert parts.session.screen().choices["borrow"] == []
    parts.session.borrow(3)
    screen = parts.session.screen()
    assert screen.state == "refused"
    assert screen.message.startswith("You have 1 tool out; the limit is 1 at once.")
    assert parts.events()[-1].body.reason == "loan_limit"


def test_tools_are_offered_and_told_by_name_when_the_config_names_them(parts):
    names = {"DRILL-1": "Cordless drill 18V", "SAW-2": "Circular saw"}
    parts.store.offer("config", wire.encode(a_config(2, names=names)))
    parts.session.card_presented(ADA)
    choices = parts.session.screen().choices
    assert [(t["tool_code"], t["tool_name"]) for t in choices["borrow"]] == [
        ("DRILL-1", "Cordless drill 18V"),
        ("PRESS-1", None),  # no name sent: the screen shows its code
    ]
    assert [t["tool_code"] for t in choices["repair"]] == ["SAW-2", "DRILL-1", "PRESS-1"]
    parts.session.borrow(1)
    assert parts.session.screen().message == "Take Cordless drill 18V and close the door."


def test_times_on_the_screen_follow_the_site_clock_of_the_config(parts):
    summer_evening = datetime(2025, 7, 1, 17, 0, tzinfo=UTC)

    def shown(config_version: int, zone: str) -> str:
        parts.store.offer("config", wire.encode(a_config(config_version, timezone=zone)))
        return decision.local_time(summer_evening, summer_evening, parts.session._zone())

    assert shown(2, "Europe/London") == "18:00"
    assert shown(3, "America/New_York") == "13:00"
    assert shown(4, "Mars/Olympus") == f"{summer_evening.astimezone():%H:%M}"  # unknown here
