"""kiosk.lockers through the session: the kiosk knows what the hub knows (loans from the
allow-list), and its own marks (a repair flag, a return) yield to the hub by the allow-list's
version and the hub's acks, never by the kiosk's clock."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from broker import messages as wire
from kiosk.allowlist import AllowListStore
from kiosk.lockers import QUIET_AFTER_ACK_S, LockerView
from kiosk.session import MESSAGE_SECONDS, NotNow, Session
from tests.kiosk.builders import ADA, NOW, SAM, a_config, an_allowlist, member

LOU = "C0DE0005"  # member 1005: has DRILL-1 out, borrowed at another kiosk (or before the SD
# card of this one was replaced)
TOOLS = {1: "DRILL-1", 2: "SAW-2", 3: "PRESS-1"}


def lou(*loans: str) -> dict[str, wire.AllowListMember]:
    return {LOU: member("Lou Borrower", "1005", loans=loans)}


def hub_says(parts, version: int, *, on_loan=(), out_of_service=(), generated_at=NOW) -> None:
    """A newer allow-list reaches the kiosk, as the station hands it to the session (SAW-2
    stays out of service throughout)."""
    allowlist = an_allowlist(
        version,
        out_of_service=["SAW-2", *out_of_service],
        extra=lou(*on_loan),
        generated_at=generated_at,
    )
    assert parts.store.offer("allowlist", wire.encode(allowlist))
    parts.session.allowlist_changed()


def offered(parts, card: str) -> list[str]:
    """Tap ``card`` and return the tools the screen offers to borrow; then leave."""
    parts.session.card_presented(card)
    tools = [t["tool_code"] for t in parts.session.screen().choices["borrow"]]
    parts.session.cancel()
    return tools


def on_the_idle_screen(parts) -> list[str]:
    return [t["tool_code"] for t in parts.session.screen().choices["pick"]]


def ack(parts, event: wire.Event) -> None:
    parts.outbox.acknowledge([wire.EventAck(event_id=event.event_id, status="applied")])


def return_at_the_locker(parts, card: str, slot: int, condition: str, note=None) -> wire.Event:
    parts.session.card_presented(card)
    parts.session.return_tool(slot, condition, note)
    parts.door(slot, True)
    parts.door(slot, False)
    parts.clock.advance(MESSAGE_SECONDS)
    parts.session.tick()
    return next(e for e in reversed(parts.events()) if e.type == "tool_return")


# --- the kiosk knows what the hub knows ---------------------------------------------------


def test_a_tool_any_entry_lists_as_on_loan_is_never_offered_whatever_the_kiosk_saw(parts):
    hub_says(parts, 2, on_loan=["DRILL-1"])  # this kiosk never saw DRILL-1 leave
    assert parts.lockers.state(1).taken
    assert offered(parts, ADA) == ["PRESS-1"]
    assert on_the_idle_screen(parts) == ["PRESS-1"]
    parts.session.card_presented(ADA)
    parts.session.borrow(1)
    assert parts.session.screen().state == "refused"
    refused = parts.events()[-1].body
    assert (refused.reason, refused.tool_code) == ("locker_empty", "DRILL-1")
    assert parts.session.screen().message == "DRILL-1 is out on loan; locker 1 is empty."
    parts.session.cancel()
    with pytest.raises(NotNow, match="not available"):
        parts.session.pick(1)


def test_only_its_borrower_may_bring_back_a_tool_the_hub_lent(parts):
    """Else a stranger could "return" DRILL-1 into its empty locker and close Lou's loan."""
    hub_says(parts, 2, on_loan=["DRILL-1"])
    parts.session.card_presented(ADA)
    assert parts.session.screen().choices["return"] == []
    with pytest.raises(NotNow, match="not out on loan to you"):
        parts.session.return_tool(1, "ok")
    parts.session.cancel()
    parts.session.card_presented(LOU)
    assert [t["tool_code"] for t in parts.session.screen().choices["return"]] == ["DRILL-1"]


def test_anyone_may_bring_back_a_tool_seen_leaving_here(parts):
    hub_says(parts, 2)
    borrow(parts, LOU, 1)
    parts.session.card_presented(ADA)
    assert [t["tool_code"] for t in parts.session.screen().choices["return"]] == ["DRILL-1"]


@given(
    on_loan=st.sets(st.sampled_from(sorted(TOOLS.values()))),
    out=st.sets(st.sampled_from(sorted(TOOLS.values()))),
)
def test_a_kiosk_with_a_fresh_sd_card_offers_exactly_what_the_hub_says_is_in_its_lockers(
    on_loan, out
):
    db = sqlite3.connect(":memory:", isolation_level=None)
    store = AllowListStore(db, "kiosk-a")
    store.offer("config", wire.encode(a_config()))
    allowlist = an_allowlist(1, out_of_service=sorted(out), extra=lou(*sorted(on_loan)))
    store.offer("allowlist", wire.encode(allowlist))
    lockers = LockerView(db, store, (1, 2, 3))
    in_lockers = {s.tool_code for s in lockers.states() if s.holds_tool}
    lendable = {s.tool_code for s in lockers.states() if s.holds_tool and not s.out_of_service}
    assert in_lockers == set(TOOLS.values()) - on_loan
    assert lendable == set(TOOLS.values()) - on_loan - out


def test_a_tool_put_back_here_lends_again_before_the_hub_has_seen_the_return(parts):
    hub_says(parts, 2, on_loan=["DRILL-1"])
    returned = return_at_the_locker(parts, LOU, 1, "ok")
    assert offered(parts, ADA) == ["DRILL-1", "PRESS-1"]
    hub_says(parts, 3, on_loan=["DRILL-1"])  # built before the hub had the return
    assert offered(parts, ADA) == ["DRILL-1", "PRESS-1"]  # the return is not acked yet
    ack(parts, returned)
    hub_says(parts, 4)  # the hub closed the loan
    assert offered(parts, ADA) == ["DRILL-1", "PRESS-1"]


def test_the_hub_refusing_a_return_makes_the_tool_taken_again(parts):
    hub_says(parts, 2, on_loan=["DRILL-1"])
    returned = return_at_the_locker(parts, LOU, 1, "ok")
    ack(parts, returned)  # acknowledged ... but the loan is still open at the hub
    hub_says(parts, 3, on_loan=["DRILL-1"])
    assert offered(parts, ADA) == ["PRESS-1"]


# --- the kiosk's clock has no say ---------------------------------------------------------


@pytest.mark.parametrize("skew", [timedelta(hours=1), timedelta(hours=-1)])
def test_a_repaired_tool_is_offered_again_at_a_kiosk_whose_clock_is_wrong(parts, skew):
    parts.session.utcnow = lambda: NOW + skew
    borrow(parts, ADA, 1)
    returned = return_at_the_locker(parts, ADA, 1, "needs_repair", "Chuck slips")
    assert offered(parts, ADA) == ["PRESS-1"]  # out of service here at once
    hub_says(parts, 2, generated_at=NOW + timedelta(hours=2))  # before the hub had the event
    assert offered(parts, ADA) == ["PRESS-1"]  # the flag waits for the hub's ack
    ack(parts, returned)
    hub_says(parts, 3, out_of_service=["DRILL-1"])  # the hub took it out of service
    assert offered(parts, ADA) == ["PRESS-1"]
    hub_says(parts, 4, generated_at=NOW - timedelta(hours=2))  # repaired: in service again
    assert offered(parts, ADA) == ["DRILL-1", "PRESS-1"]


def test_the_hubs_ack_may_arrive_after_the_allowlist_that_shows_the_repair_report(parts):
    borrow(parts, ADA, 1)
    return_at_the_locker(parts, ADA, 1, "needs_repair", "Chuck slips")
    hub_says(parts, 2, out_of_service=["DRILL-1"])  # the hub has it; its ack is still on the way
    hub_says(parts, 3)  # repaired, and still no ack
    assert offered(parts, ADA) == ["DRILL-1", "PRESS-1"]


def test_once_the_hub_acked_and_said_nothing_new_the_allowlist_held_is_its_word(parts):
    """The hub publishes only what changed: a repair made before its publisher looked, or a
    report it refused, brings no newer allow-list."""
    borrow(parts, ADA, 1)
    returned = return_at_the_locker(parts, ADA, 1, "needs_repair", "Chuck slips")
    ack(parts, returned)
    parts.session.tick()  # the worker sees the ack
    parts.clock.advance(QUIET_AFTER_ACK_S - 1)
    parts.session.tick()
    assert parts.lockers.state(1).out_of_service
    parts.clock.advance(1)
    parts.session.tick()
    assert offered(parts, ADA) == ["DRILL-1", "PRESS-1"]


def test_a_steward_ticket_flags_the_tool_until_the_hub_answers(parts):
    parts.session.card_presented(SAM)
    parts.session.open_ticket("DRILL-1", "Cord frayed")
    ticket = parts.events()[-1]
    assert parts.lockers.state(1).out_of_service
    ack(parts, ticket)
    hub_says(parts, 2, out_of_service=["DRILL-1"])
    hub_says(parts, 3)  # the steward closed the ticket at the hub
    assert not parts.lockers.state(1).out_of_service


def test_a_flag_and_a_return_survive_a_restart_until_the_hub_answers(parts):
    borrow(parts, ADA, 1)
    return_at_the_locker(parts, ADA, 1, "needs_repair", "Chuck slips")
    restarted = restart(parts)
    assert restarted.lockers.state(1).out_of_service
    assert not restarted.lockers.state(1).taken


def test_a_flag_from_before_versions_with_a_future_time_yields_to_the_next_allowlist(parts):
    """The field report: a kiosk 60 minutes fast stamped its flag an hour ahead and kept a
    repaired tool out of service even after a restart with a correct clock."""
    db = parts.lockers._db
    db.execute("DROP TABLE marks")
    db.execute("CREATE TABLE flagged (tool_code TEXT PRIMARY KEY, flagged_at TEXT NOT NULL)")
    future = (NOW + timedelta(hours=1)).isoformat()
    db.execute("INSERT INTO flagged VALUES ('DRILL-1', ?)", (future,))
    restarted = restart(parts)  # the allow-list it holds settles the old flag at once
    assert not restarted.lockers.state(1).out_of_service
    assert offered(restarted, ADA) == ["DRILL-1", "PRESS-1"]
    tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master")}
    assert "flagged" not in tables and "marks" in tables


# --- helpers ------------------------------------------------------------------------------


def borrow(parts, card: str, slot: int) -> None:
    parts.session.card_presented(card)
    parts.session.borrow(slot)
    parts.door(slot, True)
    parts.door(slot, False)
    parts.clock.advance(MESSAGE_SECONDS)
    parts.session.tick()


def restart(parts):
    """The kiosk's worker starts again on the same files (what a reboot keeps)."""
    store = AllowListStore(parts.lockers._db, "kiosk-a")
    store.load()
    lockers = LockerView(parts.lockers._db, store, parts.bank.slots)
    session = Session(
        store=store,
        lockers=lockers,
        bank=parts.bank,
        outbox=parts.outbox,
        clock=parts.clock,
        utcnow=lambda: NOW,
    )
    parts.bank.on_event = session.locker_event
    return type(parts)(
        session, store, lockers, parts.outbox, parts.bank, parts.factory, parts.clock, None
    )
