"""A steward's corrections: a loan ends without a return only with a reason, by a steward,
audited; a conflict is resolved one way or the other. On both databases."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from hub.errors import Conflict, InvalidInput, RuleViolation
from hub.infra import audit
from hub.infra.clock import as_utc
from hub.infra.db import reading, transaction
from hub.inventory.registry import ToolStatus, get_tool
from hub.loans import corrections
from hub.loans.kiosk import Stamp, record_loan_out
from hub.loans.lending import lend_tool
from hub.loans.records import Loan, open_loan
from hub.members.roster import get_member
from tests.hub.builders import a_kiosk, a_member, a_tool

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def world(engine):
    """A steward, two members, a tent on loan to the first since T0."""
    with transaction(engine) as session:
        a_kiosk(session, "shed-1")
        a_kiosk(session, "shed-2")
        steward = a_member(session, "Sam Steward", roles="steward")
        holder = a_member(session, "Hana Holder")
        ravi = a_member(session, "Ravi")
        tent = a_tool(session, "TENT-1", kiosk_id="shed-2", slot=3)
        loan = lend_tool(session, tool_id=tent.id, member_id=holder.id, now=T0)
        ids = dict(steward=steward.id, holder=holder.id, ravi=ravi.id, tent=tent.id, loan=loan.id)
    return engine, ids


def conflict_by_kiosk(engine, ids) -> int:
    """Record a kiosk's loan of the tent to Ravi while it is on loan: a conflict."""
    stamp = Stamp("shed-2", "e-1", 5, 0, T0 + timedelta(days=6), T0 + timedelta(days=6))
    with transaction(engine) as session:
        tent, ravi = get_tool(session, ids["tent"]), get_member(session, ids["ravi"])
        recorded = record_loan_out(session, stamp, ravi, tent)
        assert recorded.note and recorded.note.startswith("conflict: TENT-1 is on loan to member")
        return recorded.loan.id


def test_a_kiosk_loan_of_a_tool_on_loan_keeps_the_earlier_loan_open(world):
    engine, ids = world
    conflict_id = conflict_by_kiosk(engine, ids)
    with reading(engine) as session:
        earlier, conflict = session.get(Loan, ids["loan"]), session.get(Loan, conflict_id)
        assert earlier.returned_at is None and not earlier.in_conflict
        assert (conflict.in_conflict, conflict.conflict_of) == (True, ids["loan"])
        assert open_loan(session, ids["tent"]).id == ids["loan"]


def test_keeping_the_new_loan_ends_the_earlier_by_audited_correction(world):
    engine, ids = world
    conflict_id = conflict_by_kiosk(engine, ids)
    with transaction(engine) as session:
        corrections.resolve_conflict(
            session,
            loan_id=conflict_id,
            steward_id=ids["steward"],
            keep="new",
            reason="Tent was in locker 3; Hana returned it by hand",
        )
    with reading(engine) as session:
        earlier, kept = session.get(Loan, ids["loan"]), session.get(Loan, conflict_id)
        assert earlier.returned_at is not None and earlier.corrected_by == ids["steward"]
        assert earlier.correction_reason == "Tent was in locker 3; Hana returned it by hand"
        assert earlier.return_condition is None  # nobody answered the question
        assert not kept.in_conflict and kept.returned_at is None
        assert open_loan(session, ids["tent"]).id == conflict_id
        actions = {e.action: e for e in audit.recent(session)}
        assert {"loan.correct", "loan.resolve_conflict"} <= set(actions)
        assert json.loads(actions["loan.correct"].before)["returned_at"] is None
        assert actions["loan.resolve_conflict"].actor_member_id == ids["steward"]


def test_keeping_the_earlier_loan_ends_the_conflicting_one_where_it_began(world):
    engine, ids = world
    conflict_id = conflict_by_kiosk(engine, ids)
    with transaction(engine) as session:
        corrections.resolve_conflict(
            session, loan_id=conflict_id, steward_id=ids["steward"], keep="earlier", reason="x"
        )
    with reading(engine) as session:
        void = session.get(Loan, conflict_id)
        assert as_utc(void.returned_at) == as_utc(void.out_at)
        assert session.get(Loan, ids["loan"]).returned_at is None
        assert get_tool(session, ids["tent"]).status == ToolStatus.ON_LOAN


def test_a_correction_needs_a_steward_a_reason_and_an_open_loan(world):
    engine, ids = world
    with transaction(engine) as session, pytest.raises(RuleViolation, match="Only stewards"):
        corrections.end_loan(session, loan_id=ids["loan"], steward_id=ids["ravi"], reason="x")
    with transaction(engine) as session, pytest.raises(InvalidInput) as blank:
        corrections.end_loan(session, loan_id=ids["loan"], steward_id=ids["steward"], reason=" ")
    assert blank.value.field == "reason"
    with transaction(engine) as session:
        corrections.end_loan(
            session, loan_id=ids["loan"], steward_id=ids["steward"], reason="Lost in the flood"
        )
    with transaction(engine) as session, pytest.raises(Conflict, match="already closed"):
        corrections.end_loan(session, loan_id=ids["loan"], steward_id=ids["steward"], reason="y")
    with reading(engine) as session:
        assert get_tool(session, ids["tent"]).status == ToolStatus.AVAILABLE
        entries = session.exec(select(audit.AuditEntry)).all()
        assert [e.action for e in entries] == ["loan.correct"]  # refusals wrote nothing


def test_resolving_a_loan_not_in_conflict_is_refused(world):
    engine, ids = world
    with transaction(engine) as session, pytest.raises(Conflict, match="not in conflict"):
        corrections.resolve_conflict(
            session, loan_id=ids["loan"], steward_id=ids["steward"], keep="new", reason="x"
        )
