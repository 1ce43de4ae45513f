"""The pairing rules for kiosk loans and returns (hub/loans/kiosk.py), straight on the domain,
both databases: a return closes its own loan, a friend may bring a tool back, a return after a
steward's correction keeps its answer, clocks an hour off never end a loan before it began."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from hub.infra.clock import as_utc
from hub.infra.db import reading, transaction
from hub.inventory import sites
from hub.inventory.registry import get_tool
from hub.loans import corrections
from hub.loans.kiosk import Stamp, record_loan_out, record_return
from hub.loans.records import Loan, ReturnCondition, UnmatchedReturn
from hub.members.ranks import OPERATOR
from hub.members.roster import get_member
from hub.queries.sites import stray_loans
from tests.hub.builders import a_kiosk, a_member, a_tool

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


@pytest.fixture
def shed(engine):
    with transaction(engine) as session:
        a_kiosk(session, "shed-1")
        a_kiosk(session, "shed-2")
        ids = {
            "ada": a_member(session, "Ada").id,
            "bea": a_member(session, "Bea").id,
            "sam": a_member(session, "Sam", roles="steward").id,
            "drill": a_tool(session, "DRILL-1").id,
        }
    return engine, ids


def stamp(kiosk: str, seq: int, at: datetime, received: datetime | None = None) -> Stamp:
    return Stamp(kiosk, f"{kiosk}-{seq}", seq, 0, at, received or at)


def lend(engine, ids, who: str, at: Stamp) -> Loan:
    with transaction(engine) as session:
        member, tool = get_member(session, ids[who]), get_tool(session, ids["drill"])
        return record_loan_out(session, at, member, tool).loan


def give_back(engine, ids, who: str, at: Stamp):
    with transaction(engine) as session:
        member, tool = get_member(session, ids[who]), get_tool(session, ids["drill"])
        return record_return(session, at, member, tool, ReturnCondition.OK, None)


def test_a_friend_may_bring_the_one_open_loan_back(shed):
    engine, ids = shed
    lend(engine, ids, "ada", stamp("shed-1", 1, T0))
    recorded = give_back(engine, ids, "bea", stamp("shed-2", 1, T0 + timedelta(hours=2)))
    assert recorded.loan is not None and recorded.loan.member_id == ids["ada"]
    assert recorded.note == "returned by member 1002 for 1001"


def test_a_return_before_any_loan_of_it_at_that_kiosk_waits(shed):
    engine, ids = shed
    recorded = give_back(engine, ids, "ada", stamp("shed-1", 5, T0))
    assert recorded.loan is None and "kept until its loan of DRILL-1 arrives" in recorded.note
    loan = lend(engine, ids, "ada", stamp("shed-1", 4, T0 - timedelta(minutes=5)))
    with reading(engine) as session:
        closed = session.get(Loan, loan.id)
        assert as_utc(closed.returned_at) == T0
        assert session.exec(select(UnmatchedReturn)).all() == []


def test_a_return_after_a_stewards_correction_keeps_its_answer_not_its_time(shed):
    engine, ids = shed
    loan = lend(engine, ids, "ada", stamp("shed-1", 1, T0))
    with transaction(engine) as session:
        corrections.end_loan(session, loan_id=loan.id, steward_id=ids["sam"], reason="phoned")
    recorded = give_back(engine, ids, "ada", stamp("shed-1", 2, T0 + timedelta(days=1)))
    assert recorded.note == "the loan was already closed by a steward's correction"
    with reading(engine) as session:
        closed = session.get(Loan, loan.id)
        assert closed.return_condition == "ok" and closed.return_event_id == "shed-1-2"
        assert closed.correction_reason == "phoned"


@pytest.mark.parametrize("skew", [timedelta(hours=1), -timedelta(hours=1)])
def test_a_loan_at_a_skewed_kiosk_returned_at_another_never_ends_before_it_began(shed, skew):
    """The hub's time of the loan is the kiosk's, never later than the hub received it."""
    engine, ids = shed
    now = datetime.now(UTC)
    out_at = min(now + skew, now)  # as the ingest places it (hub.worker.sequence.hub_time)
    loan = lend(engine, ids, "ada", stamp("shed-1", 1, out_at, received=now))
    back_at = now + timedelta(minutes=10)
    give_back(engine, ids, "ada", stamp("shed-2", 1, back_at))
    with reading(engine) as session:
        closed = session.get(Loan, loan.id)
        assert as_utc(closed.returned_at) == back_at > as_utc(closed.out_at)
        assert closed.clock_note is None
        assert as_utc(closed.due_at) == now + timedelta(days=7)  # from the hub's receive time


# --- one transaction, as an ingest batch applies them: what it remembers stays true ---------


def in_one_transaction(engine, ids, steps):
    """Apply ``steps`` ((record_loan_out or record_return, who, stamp)) in one transaction, as
    one ingest batch does; return what each recorded."""
    recorded = []
    with transaction(engine) as session:
        tool = get_tool(session, ids["drill"])
        for step, who, at in steps:
            member = get_member(session, ids[who])
            if step is record_loan_out:
                recorded.append(record_loan_out(session, at, member, tool))
            else:
                recorded.append(record_return(session, at, member, tool, ReturnCondition.OK, None))
    return recorded


def test_a_return_kept_in_a_batch_closes_its_loan_arriving_later_in_that_batch(shed):
    """The batch has already asked which tools have a return waiting (none): the return it
    keeps must still be found by its loan."""
    engine, ids = shed
    recorded = in_one_transaction(
        engine,
        ids,
        [
            (record_loan_out, "ada", stamp("shed-1", 1, T0)),
            (record_return, "ada", stamp("shed-1", 2, T0 + timedelta(minutes=5))),
            (record_return, "ada", stamp("shed-1", 5, T0 + timedelta(hours=2))),
            (record_loan_out, "ada", stamp("shed-1", 4, T0 + timedelta(hours=1))),
        ],
    )
    assert recorded[2].loan is None  # kept: its loan had not arrived
    late_loan = recorded[3].loan
    with reading(engine) as session:
        closed = session.get(Loan, late_loan.id)
        assert as_utc(closed.returned_at) == T0 + timedelta(hours=2)
        assert session.exec(select(UnmatchedReturn)).all() == []
        assert get_tool(session, ids["drill"]).status == "available"


def test_a_conflict_recorded_in_a_batch_settles_by_a_return_later_in_that_batch(shed):
    """The batch has already asked which loans are in conflict (none): the conflict it records
    must still be settled when the facts show the two loans never overlapped."""
    engine, ids = shed
    recorded = in_one_transaction(
        engine,
        ids,
        [
            (record_loan_out, "ada", stamp("shed-1", 1, T0)),
            (record_return, "ada", stamp("shed-1", 2, T0 + timedelta(minutes=5))),
            (record_loan_out, "ada", stamp("shed-1", 3, T0 + timedelta(hours=1))),
            # Bea's loan at the other kiosk overtook Ada's return on the way to the hub.
            (record_loan_out, "bea", stamp("shed-2", 1, T0 + timedelta(hours=3))),
            (record_return, "ada", stamp("shed-1", 4, T0 + timedelta(hours=2))),
        ],
    )
    assert recorded[3].note.startswith("conflict:")
    with reading(engine) as session:
        beas = session.get(Loan, recorded[3].loan.id)
        assert not beas.in_conflict and beas.returned_at is None
        assert beas.conflict_resolution.startswith("Settled by the returns")
        assert get_tool(session, ids["drill"]).status == "on_loan"


def test_a_return_of_one_of_two_open_loans_leaves_the_tool_on_loan(shed):
    engine, ids = shed
    in_one_transaction(
        engine,
        ids,
        [
            (record_loan_out, "ada", stamp("shed-1", 1, T0)),
            (record_loan_out, "bea", stamp("shed-2", 1, T0 + timedelta(minutes=1))),
            (record_return, "bea", stamp("shed-2", 2, T0 + timedelta(minutes=2))),
        ],
    )
    with reading(engine) as session:
        assert get_tool(session, ids["drill"]).status == "on_loan"
        open_loans = session.exec(select(Loan).where(Loan.returned_at.is_(None))).all()
        assert [loan.member_id for loan in open_loans] == [ids["ada"]]


def test_a_late_loan_closed_by_its_waiting_return_leaves_the_next_loan_standing(shed):
    """The order the CI run met after a broker restart: Ada's return (seq 4) and Bea's later
    loan (seq 7) reach the hub before Ada's loan (seq 1). Ada's loan is closed at once by its
    waiting return; it never stands, so Bea's standing loan is no obstacle to it."""
    engine, ids = shed
    give_back(engine, ids, "ada", stamp("shed-1", 4, T0 + timedelta(minutes=4)))
    bea = lend(engine, ids, "bea", stamp("shed-1", 7, T0 + timedelta(minutes=7)))
    ada = lend(engine, ids, "ada", stamp("shed-1", 1, T0 + timedelta(minutes=1)))
    with reading(engine) as session:
        assert as_utc(session.get(Loan, ada.id).returned_at) == T0 + timedelta(minutes=4)
        standing = session.get(Loan, bea.id)
        assert standing.returned_at is None and not standing.in_conflict
        assert get_tool(session, ids["drill"]).status == "on_loan"
        assert session.exec(select(UnmatchedReturn)).all() == []


def test_a_loan_at_a_site_that_does_not_allow_the_member_is_kept_with_a_note(shed):
    engine, ids = shed  # shed-1 is at "north": listed, with Ada only
    with transaction(engine) as session:
        sites.set_policy(session, OPERATOR, "north", "listed")
        sites.allow_member(session, OPERATOR, "north", get_member(session, ids["ada"]).number)
    mine = lend(engine, ids, "ada", stamp("shed-1", 1, T0))
    give_back(engine, ids, "ada", stamp("shed-1", 2, T0 + timedelta(hours=1)))
    stale = record_at(engine, ids, "bea", stamp("shed-1", 3, T0 + timedelta(hours=2)))
    give_back(engine, ids, "bea", stamp("shed-1", 4, T0 + timedelta(hours=3)))
    steward = lend(engine, ids, "sam", stamp("shed-1", 5, T0 + timedelta(hours=4)))
    assert stale.loan is not None and stale.note is not None
    assert "member 1002 is not allowed to borrow at site north" in stale.note
    with reading(engine) as session:
        notes = {loan.id: loan.site_note for loan in session.exec(select(Loan))}
        (stray,) = stray_loans(session)
    assert notes[stale.loan.id] == stale.note  # recorded all the same: it happened
    assert notes[mine.id] is None and notes[steward.id] is None  # a steward may work anywhere
    assert (stray.loan_id, stray.number, stray.kiosk_id) == (stale.loan.id, "1002", "shed-1")


def record_at(engine, ids, who: str, at: Stamp):
    with transaction(engine) as session:
        member, tool = get_member(session, ids[who]), get_tool(session, ids["drill"])
        return record_loan_out(session, at, member, tool)
