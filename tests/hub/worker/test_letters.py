"""A steward settles dead letters: an event a hub bug refused is applied again once fixed,
nothing changes when the hub still refuses it, and each settlement is audited (both databases)."""

from __future__ import annotations

import pytest
from sqlmodel import select

from broker import messages as wire
from hub.errors import Conflict, InvalidInput, NotFound, RuleViolation
from hub.infra.audit import AuditEntry
from hub.infra.db import reading, transaction
from hub.loans.records import Loan
from hub.members.ranks import OPERATOR, NotSteward
from hub.queries.fleet import dead_letter_count
from hub.worker import batches, letters
from hub.worker.batches import apply_one_by_one
from hub.worker.inbox import DeadLetter, InboxEvent, record_dead_letter
from tests.hub.builders import a_member
from tests.hub.worker.test_batches import arrived
from tests.hub.worker.world import CARD, event


def a_loan_a_hub_bug_refused(library, monkeypatch) -> tuple[int, wire.Event]:
    """Send Ada's loan of the drill through the ingest while a bug makes every event fail;
    return the dead letter's id (the kiosk was told 'rejected')."""
    loan = event(wire.LoanOutEvent, wire.LoanOut(card_uid=CARD, tool_code="DRILL-1", locker_slot=1))

    def broken(*_args, **_kwargs):
        raise RuntimeError("a bug in the hub")

    with monkeypatch.context() as patched:
        patched.setattr(batches, "apply_events", broken)
        result = apply_one_by_one(library, [arrived(loan)])
    assert [ack.status for _topic, ack in result.acks] == ["rejected"]
    with reading(library) as session:
        (letter,) = session.exec(select(DeadLetter)).all()
        assert "a bug in the hub" in letter.reason
        return letter.id, loan


def test_an_event_a_hub_bug_refused_is_applied_again_once_and_audited(library, monkeypatch):
    letter_id, loan = a_loan_a_hub_bug_refused(library, monkeypatch)
    with transaction(library) as session:
        assert dead_letter_count(session) == 1
        settled = letters.apply_again(session, OPERATOR, letter_id)
        assert settled.settlement == "applied again (applied)"
    with reading(library) as session:
        (taken,) = session.exec(select(Loan)).all()
        assert taken.returned_at is None
        assert session.get(InboxEvent, loan.event_id).outcome == "applied"
        assert dead_letter_count(session) == 0
        entry = session.exec(
            select(AuditEntry).where(AuditEntry.action == "dead_letter.apply_again")
        ).one()
        assert entry.target == f"dead_letter:{letter_id}" and "applied again" in entry.after
    with pytest.raises(Conflict, match="settled already"), transaction(library) as session:
        letters.apply_again(session, OPERATOR, letter_id)


def test_an_event_the_hub_still_refuses_changes_nothing(library, monkeypatch):
    letter_id, _loan = a_loan_a_hub_bug_refused(library, monkeypatch)
    with transaction(library) as session:  # meanwhile the drill was retired from the lockers
        session.exec(select(DeadLetter)).one().payload = wire.encode(
            event(wire.LoanOutEvent, wire.LoanOut(card_uid=CARD, tool_code="NOPE-9", locker_slot=1))
        )
    with pytest.raises(RuleViolation, match="still refuses"), transaction(library) as session:
        letters.apply_again(session, OPERATOR, letter_id)
    with reading(library) as session:
        assert session.exec(select(Loan)).all() == []
        assert session.exec(select(InboxEvent)).all() == []
        assert session.get(DeadLetter, letter_id).settled_at is None


def test_an_unreadable_letter_is_set_aside_with_a_note(library):
    with transaction(library) as session:
        letter = record_dead_letter(
            session, topic="commonshed/v1/test/kiosk/kiosk-a/events", payload=b"{", reason="bad"
        )
        session.flush()
        letter_id = letter.id
    with pytest.raises(RuleViolation, match="cannot read"), transaction(library) as session:
        letters.apply_again(session, OPERATOR, letter_id)
    with pytest.raises(InvalidInput, match="note"), transaction(library) as session:
        letters.set_aside(session, OPERATOR, letter_id, "   ")
    with transaction(library) as session:
        letters.set_aside(session, OPERATOR, letter_id, "a test message from the bench")
    with reading(library) as session:
        letter = session.get(DeadLetter, letter_id)
        assert letter.settlement == "set aside: a test message from the bench"
        assert letter.payload == b"{"  # the bytes are kept
        assert dead_letter_count(session) == 0


def test_only_a_steward_settles_a_letter(library):
    with transaction(library) as session:
        member = a_member(session, "Bea Volunteer", roles="member,volunteer")
        letter = record_dead_letter(session, topic="x", payload=b"", reason="bad")
    with pytest.raises(NotSteward), transaction(library) as session:
        letters.set_aside(session, member, letter.id, "not mine to settle")
    with pytest.raises(NotFound), transaction(library) as session:
        letters.apply_again(session, OPERATOR, 999_999)
