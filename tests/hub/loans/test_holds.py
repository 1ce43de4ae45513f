"""Holds (hub/loans/holds.py) on both databases: first come first served, kept when the tool
comes back, collected, lapsed to the next; bad holds refused by field with nothing written; a
kiosk's loan of a tool kept for another is a fact with a note; a steward's reorder audited."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import func, select

from hub.errors import Conflict, MemberSuspended, NotFound, RuleViolation, ToolUnavailable
from hub.infra.audit import AuditEntry
from hub.infra.db import reading, transaction
from hub.inventory.registry import Tool, ToolStatus, get_tool
from hub.loans import holds, policy
from hub.loans.holds import Hold, HoldStatus
from hub.loans.kiosk import Stamp, record_loan_out
from hub.loans.lending import lend_tool
from hub.loans.returning import return_tool
from hub.mail.outbox import OutboxMail
from hub.members.ranks import OPERATOR, NotSteward
from hub.members.roster import MemberStatus, get_member
from tests.hub.builders import a_kiosk, a_member, a_tool

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


@pytest.fixture
def shed(engine):
    with transaction(engine) as session:
        a_kiosk(session, "shed-1")
        ids = {
            name: a_member(session, name.title(), roles=roles).id
            for name, roles in (
                ("ada", "member"),
                ("bea", "member"),
                ("cy", "member"),
                ("sam", "member,steward"),
            )
        }
        ids["drill"] = a_tool(session, "DRILL-1").id
        ids["saw"] = a_tool(session, "SAW-1", slot=2).id
    return engine, ids


def place(engine, ids, who: str, tool: str = "DRILL-1", *, at: datetime = T0) -> Hold:
    with transaction(engine) as session:
        member = get_member(session, ids[who])
        return holds.place_hold(session, member, member_id=member.id, tool_code=tool, now=at)


def lend(engine, ids, who: str, tool: str = "drill", *, at: datetime = T0):
    with transaction(engine) as session:
        return lend_tool(session, tool_id=ids[tool], member_id=ids[who], now=at)


def status(engine, hold: Hold) -> str:
    with reading(engine) as session:
        return session.get(Hold, hold.id).status


def holds_count(engine) -> int:
    with reading(engine) as session:
        return session.exec(select(func.count()).select_from(Hold)).one()


def test_the_first_in_line_gets_the_returned_tool_kept_and_collects_it(shed):
    engine, ids = shed
    lend(engine, ids, "ada")
    bea, cy = place(engine, ids, "bea"), place(engine, ids, "cy")
    assert (status(engine, bea), status(engine, cy)) == ("waiting", "waiting")
    with transaction(engine) as session:
        return_tool(session, tool_id=ids["drill"], now=T0 + timedelta(hours=1))
        holds.advance_queue(session, get_tool(session, ids["drill"]), T0 + timedelta(hours=1))
    with reading(engine) as session:
        kept = holds.reservations(session, T0 + timedelta(hours=2))
        assert kept["DRILL-1"].member_number == get_member(session, ids["bea"]).number
        assert kept["DRILL-1"].until == T0 + timedelta(hours=25)  # the policy's 24 h
        assert holds.has_waiting_hold(session, ids["drill"])
    with pytest.raises(ToolUnavailable, match="reserved for member") as refused:
        lend(engine, ids, "cy", at=T0 + timedelta(hours=2))
    assert refused.value.field == "tool_id"
    loan = lend(engine, ids, "bea", at=T0 + timedelta(hours=2))
    assert status(engine, bea) == HoldStatus.COLLECTED
    with reading(engine) as session:
        assert session.get(Hold, bea.id).loan_id == loan.id
        assert holds.queue_of(session, ids["drill"])[0].id == cy.id


def test_an_available_tool_with_nobody_queued_is_kept_at_once(shed):
    engine, ids = shed
    hold = place(engine, ids, "ada")
    with reading(engine) as session:
        ready = session.get(Hold, hold.id)
        assert ready.status == HoldStatus.READY
        assert ready.expires_at.replace(tzinfo=UTC) == T0 + timedelta(hours=24)


def test_an_uncollected_hold_lapses_to_the_next_in_line(shed):
    engine, ids = shed
    with transaction(engine) as session:
        policy.set_policy(session, OPERATOR, hold_hours=2)
    ada, bea = place(engine, ids, "ada"), place(engine, ids, "bea")
    with transaction(engine) as session:
        assert holds.advance_holds(session, T0 + timedelta(hours=1)) == 0  # not yet
    with transaction(engine) as session:
        assert holds.advance_holds(session, T0 + timedelta(hours=2)) == 2
    assert (status(engine, ada), status(engine, bea)) == ("lapsed", "ready")
    with reading(engine) as session:
        until = holds.reservations(session, T0 + timedelta(hours=2))["DRILL-1"].until
        assert until == T0 + timedelta(hours=4)


def test_a_kiosk_loan_of_a_tool_kept_for_another_is_a_fact_with_a_note(shed):
    engine, ids = shed
    bea = place(engine, ids, "bea")  # the drill is in: kept for Bea at once
    at = T0 + timedelta(minutes=5)
    with transaction(engine) as session:
        ada, drill = get_member(session, ids["ada"]), get_tool(session, ids["drill"])
        recorded = record_loan_out(session, Stamp("shed-1", "e-1", 1, 0, at, at), ada, drill)
    assert recorded.loan is not None and recorded.loan.member_id == ids["ada"]
    assert recorded.note.startswith("reserved: DRILL-1 was kept for member")
    assert "but lent to member" in recorded.note and "at shed-1" in recorded.note
    with reading(engine) as session:
        kept = session.get(Hold, bea.id)
        assert kept.status == HoldStatus.WAITING and kept.note == recorded.note
        assert holds.queue_of(session, ids["drill"])[0].id == bea.id  # still first


def test_the_job_ends_holds_of_retired_tools_and_keeps_repaired_ones(shed):
    engine, ids = shed
    lend(engine, ids, "ada", "saw")
    saw_hold, drill_hold = place(engine, ids, "bea", "SAW-1"), place(engine, ids, "cy")
    with transaction(engine) as session:
        drill = get_tool(session, ids["drill"])
        drill.status = ToolStatus.RETIRED
        saw = get_tool(session, ids["saw"])
        saw.status = ToolStatus.AVAILABLE  # a steward's correction freed it without a return
        session.add_all([drill, saw])
    with transaction(engine) as session:
        assert holds.advance_holds(session, T0) == 2
    assert (status(engine, drill_hold), status(engine, saw_hold)) == ("cancelled", "ready")


@pytest.mark.parametrize(
    ("tool", "who", "error", "field"),
    [
        ("NOPE-1", "ada", NotFound, "tool_code"),
        ("RETIRED-1", "ada", ToolUnavailable, "tool_code"),
        ("DRILL-1", "bea", Conflict, "tool_code"),  # Bea holds it already
        ("SAW-1", "ada", Conflict, "tool_code"),  # Ada has it out
        ("SAW-1", "cy", RuleViolation, "tool_code"),  # over the limit of 1
        ("SAW-1", "sue", MemberSuspended, "member_id"),
    ],
)
def test_bad_holds_are_refused_by_field_with_nothing_written(shed, tool, who, error, field):
    engine, ids = shed
    with transaction(engine) as session:
        a_tool(session, "RETIRED-1", slot=3).status = ToolStatus.RETIRED
        sue = a_member(session, "Sue")
        sue.status = MemberStatus.SUSPENDED
        ids["sue"] = sue.id
        policy.set_policy(session, OPERATOR, max_holds=1)
    lend(engine, ids, "ada", "saw")
    place(engine, ids, "bea")
    place(engine, ids, "cy")
    before = holds_count(engine)
    with pytest.raises(error) as refused:
        place(engine, ids, who, tool)
    assert refused.value.field == field
    assert holds_count(engine) == before


def test_a_member_may_not_place_or_cancel_a_hold_for_another(shed):
    engine, ids = shed
    with transaction(engine) as session, pytest.raises(NotSteward):
        ada = get_member(session, ids["ada"])
        holds.place_hold(session, ada, member_id=ids["bea"], tool_code="DRILL-1")
    bea = place(engine, ids, "bea")
    with transaction(engine) as session, pytest.raises(NotSteward):
        holds.cancel_hold(session, get_member(session, ids["ada"]), bea.id)
    with transaction(engine) as session:  # a steward may
        holds.cancel_hold(session, get_member(session, ids["sam"]), bea.id)
    assert status(engine, bea) == HoldStatus.CANCELLED


def test_cancelling_a_kept_hold_keeps_the_tool_for_the_next(shed):
    engine, ids = shed
    ada, bea = place(engine, ids, "ada"), place(engine, ids, "bea")
    with transaction(engine) as session:
        holds.cancel_hold(session, get_member(session, ids["ada"]), ada.id, now=T0)
    assert (status(engine, ada), status(engine, bea)) == ("cancelled", "ready")
    with transaction(engine) as session, pytest.raises(Conflict, match="already cancelled"):
        holds.cancel_hold(session, OPERATOR, ada.id)


def test_a_steward_reorders_a_queue_audited_and_a_member_may_not(shed):
    engine, ids = shed
    lend(engine, ids, "sam")
    ada, bea, cy = (place(engine, ids, who) for who in ("ada", "bea", "cy"))
    with transaction(engine) as session:
        steward = get_member(session, ids["sam"])
        queue = holds.move_hold(session, steward, cy.id, 1)
        assert [hold.id for hold in queue] == [cy.id, ada.id, bea.id]
    with reading(engine) as session:
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == "hold.move")).one()
        assert entry.actor_member_id == ids["sam"]
        assert json.loads(entry.before) == {"position": 3}
        assert json.loads(entry.after) == {"position": 1, "queue_place": 1}
    with transaction(engine) as session, pytest.raises(NotSteward):
        holds.move_hold(session, get_member(session, ids["ada"]), ada.id, 1)
    with transaction(engine) as session, pytest.raises(RuleViolation) as refused:
        holds.move_hold(session, OPERATOR, ada.id, 4)
    assert refused.value.field == "position"


def test_placing_and_cancelling_are_audited(shed):
    engine, ids = shed
    hold = place(engine, ids, "ada")
    with transaction(engine) as session:
        holds.cancel_hold(session, OPERATOR, hold.id)
    with reading(engine) as session:
        actions = session.exec(select(AuditEntry.action, AuditEntry.target)).all()
        number = get_member(session, ids["ada"]).number
        tools = session.exec(select(Tool.code)).all()
    assert ("hold.place", f"hold:DRILL-1:{number}") in actions
    assert ("hold.cancel", f"hold:DRILL-1:{number}") in actions
    assert "DRILL-1" in tools


def test_a_stewards_return_keeps_the_tool_unless_it_needs_repair(shed):
    from hub.maintenance.returns import return_with_condition

    engine, ids = shed
    lend(engine, ids, "ada")
    lend(engine, ids, "ada", "saw")
    drill, saw = place(engine, ids, "bea"), place(engine, ids, "bea", "SAW-1")
    with transaction(engine) as session:
        return_with_condition(session, OPERATOR, tool_id=ids["drill"], condition="ok", now=T0)
        return_with_condition(
            session,
            OPERATOR,
            tool_id=ids["saw"],
            condition="needs_repair",
            note="Blade bent",
            now=T0,
        )
    assert (status(engine, drill), status(engine, saw)) == ("ready", "waiting")


def test_the_member_the_tool_is_kept_for_is_told_by_mail_once(shed):
    engine, ids = shed
    with transaction(engine) as session:
        bea = get_member(session, ids["bea"])
        bea.email = "bea@example.org"
        session.add(bea)
    lend(engine, ids, "ada")
    place(engine, ids, "bea")
    for _ in range(2):  # a second pass of the queue tells nobody again
        with transaction(engine) as session:
            if get_tool(session, ids["drill"]).status == "on_loan":
                return_tool(session, tool_id=ids["drill"], now=T0 + timedelta(hours=1))
            holds.advance_queue(session, get_tool(session, ids["drill"]), T0 + timedelta(hours=1))
    with reading(engine) as session:
        (mail,) = session.exec(select(OutboxMail)).all()
    assert (mail.to_address, mail.kind) == ("bea@example.org", "hold_ready")
    assert "Cordless drill (DRILL-1)" in mail.text and "kept for you until" in mail.text
