import threading
from decimal import Decimal

import pytest
from sqlmodel import select

from hub.errors import Conflict, InvalidInput, MemberSuspended, NotFound, RuleViolation
from hub.infra.db import make_engine, reading, transaction
from hub.maintenance import stewarding as maintenance
from hub.maintenance.models import RepairLog, TicketStatus
from hub.maintenance.tickets import get_ticket, open_ticket
from hub.members.ranks import OPERATOR
from hub.members.roster import get_member
from hub.members.standing import reinstate_member, suspend_member
from hub.queries.claims import pending_claims
from hub.timebank import stewarding
from hub.timebank.claims import ClaimStatus, get_claim, log_repair
from hub.timebank.ledger import Transfer, member_balance
from tests.hub.builders import a_kiosk, a_member, a_tool


@pytest.fixture
def bench(engine):
    """A tool, a fixer and two stewards; returns (engine, tool_id, fixer_id, steward_id, other)."""
    with transaction(engine) as session:
        a_kiosk(session)
        tool = a_tool(session)
        fixer = a_member(session, "Bob Builder")
        steward = a_member(session, "Sam Steward", roles="steward")
        other = a_member(session, "Ola Admin", roles="admin")
        return engine, tool.id, fixer.id, steward.id, other.id


def repair(session, member_id, tool_id, hours="1.5", **extra):
    return log_repair(
        session,
        member_id=member_id,
        tool_id=tool_id,
        hours=hours,
        note=extra.pop("note", "glued the handle"),
        source="dashboard",
        **extra,
    )


def counts(engine) -> tuple[int, int]:
    """Return (repair records, ledger transfers)."""
    with reading(engine) as session:
        return (
            len(session.exec(select(RepairLog.id)).all()),
            len(session.exec(select(Transfer.id)).all()),
        )


@pytest.mark.parametrize(
    "hours, why",
    [
        ("0", "more than 0"),
        ("-2", "more than 0"),
        ("24.01", "more than the 24 hours"),
        ("1.001", "two decimal places"),
        ("", "not a number"),
    ],
)
def test_bad_repair_hours_are_refused_and_nothing_is_recorded(bench, hours, why):
    engine, tool_id, fixer, _, _ = bench
    with pytest.raises(InvalidInput, match=why) as refused:
        with transaction(engine) as session:
            repair(session, fixer, tool_id, hours)
    assert refused.value.field == "hours"
    assert counts(engine) == (0, 0)


def test_a_claim_waits_for_a_steward_who_credits_the_fixer(bench):
    engine, tool_id, fixer, steward, _ = bench
    with transaction(engine) as session:
        claim = repair(session, fixer, tool_id, "24")
    with reading(engine) as session:
        assert [row.claim.id for row in pending_claims(session)] == [claim.id]
        assert member_balance(session, fixer) == 0
    with transaction(engine) as session:
        approved = stewarding.approve_claim(
            session, get_member(session, steward), claim.id, return_to_service=True
        )
    assert approved.status == ClaimStatus.APPROVED and approved.decided_by == steward
    assert approved.approved_hours == Decimal("24.00") and not approved.auto_approved
    with reading(engine) as session:
        assert member_balance(session, fixer) == Decimal("24.00")
        assert session.get(Transfer, approved.transfer_id).kind == "repair_credit"
        assert pending_claims(session) == []


def test_approval_rules(bench):
    engine, tool_id, fixer, steward, other = bench
    with transaction(engine) as session:
        claim = repair(session, fixer, tool_id)
        own = repair(session, steward, tool_id)
    with pytest.raises(RuleViolation, match="may not approve repair claims"):
        with transaction(engine) as session:
            stewarding.approve_claim(
                session, get_member(session, fixer), claim.id, return_to_service=True
            )
    with pytest.raises(RuleViolation, match="may not approve their own claim") as refused:
        with transaction(engine) as session:
            stewarding.approve_claim(
                session, get_member(session, steward), own.id, return_to_service=True
            )
    assert refused.value.field == "claim_id"
    with pytest.raises(NotFound, match="Claim 999 does not exist"):
        with transaction(engine) as session:
            stewarding.approve_claim(
                session, get_member(session, steward), 999, return_to_service=True
            )
    with transaction(engine) as session:
        stewarding.approve_claim(
            session, get_member(session, other), own.id, return_to_service=True
        )  # an admin holds steward powers
        stewarding.approve_claim(
            session, get_member(session, steward), claim.id, return_to_service=True
        )
    with pytest.raises(Conflict, match=f"Claim {claim.id} is already approved"):
        with transaction(engine) as session:
            stewarding.approve_claim(
                session, get_member(session, other), claim.id, return_to_service=True
            )
    assert counts(engine) == (2, 2)


def test_edited_hours_need_a_reason_and_are_what_is_credited(bench):
    engine, tool_id, fixer, steward, _ = bench
    with transaction(engine) as session:
        claim = repair(session, fixer, tool_id, "3")
    with pytest.raises(InvalidInput, match="reason is required") as refused:
        with transaction(engine) as session:
            stewarding.approve_claim(
                session, get_member(session, steward), claim.id, return_to_service=True, hours="2"
            )
    assert refused.value.field == "reason"
    with pytest.raises(InvalidInput, match="more than the 24 hours"):
        with transaction(engine) as session:
            stewarding.approve_claim(
                session,
                get_member(session, steward),
                claim.id,
                return_to_service=True,
                hours="25",
                reason="typo",
            )
    with transaction(engine) as session:
        stewarding.approve_claim(
            session,
            get_member(session, steward),
            claim.id,
            return_to_service=True,
            hours="2",
            reason="half was chat",
        )
    with reading(engine) as session:
        decided = get_claim(session, claim.id)
        assert (decided.hours, decided.approved_hours) == (Decimal("3.00"), Decimal("2.00"))
        assert decided.decision_reason == "half was chat"
        assert member_balance(session, fixer) == Decimal("2.00")


def test_declining_needs_a_reason_and_leaves_the_ticket_live(bench):
    engine, tool_id, fixer, steward, _ = bench
    with transaction(engine) as session:
        ticket = open_ticket(
            session, tool_id=tool_id, note="blunt", source="steward", opened_by=steward
        )
        claim = repair(session, fixer, tool_id, ticket_id=ticket.id)
    with pytest.raises(InvalidInput, match="reason is required"):
        with transaction(engine) as session:
            stewarding.decline_claim(session, get_member(session, steward), claim.id, " ")
    with transaction(engine) as session:
        stewarding.decline_claim(
            session, get_member(session, steward), claim.id, "not actually fixed"
        )
    with pytest.raises(Conflict, match="already declined"):
        with transaction(engine) as session:
            stewarding.approve_claim(
                session, get_member(session, steward), claim.id, return_to_service=True
            )
    with reading(engine) as session:
        assert get_ticket(session, ticket.id).status == TicketStatus.IN_PROGRESS
    assert counts(engine) == (1, 0)


def test_repairs_name_a_live_ticket_of_the_same_tool(bench):
    engine, tool_id, fixer, steward, _ = bench
    with transaction(engine) as session:
        saw = a_tool(session, "SAW-1", slot=2)
        ticket = open_ticket(
            session, tool_id=saw.id, note="bent", source="steward", opened_by=steward
        )
    with pytest.raises(InvalidInput, match=f"Ticket {ticket.id} is about another tool"):
        with transaction(engine) as session:
            repair(session, fixer, tool_id, ticket_id=ticket.id)
    with pytest.raises(NotFound, match="Ticket 999"):
        with transaction(engine) as session:
            repair(session, fixer, tool_id, ticket_id=999)
    with pytest.raises(NotFound, match="Tool 999"):
        with transaction(engine) as session:
            repair(session, fixer, 999)
    with transaction(engine) as session:
        maintenance.resolve_ticket(session, get_member(session, steward), ticket.id)
    with pytest.raises(Conflict, match="already resolved"):
        with transaction(engine) as session:
            repair(session, fixer, saw.id, ticket_id=ticket.id)
    assert counts(engine) == (0, 0)


def test_suspended_fixer_cannot_log_and_is_not_credited_until_reinstated(bench):
    engine, tool_id, fixer, steward, _ = bench
    with transaction(engine) as session:
        claim = repair(session, fixer, tool_id)
        suspend_member(session, OPERATOR, fixer, "unreturned tools")
    with pytest.raises(MemberSuspended):
        with transaction(engine) as session:
            repair(session, fixer, tool_id)
    with pytest.raises(MemberSuspended, match="unreturned tools"):
        with transaction(engine) as session:
            stewarding.approve_claim(
                session, get_member(session, steward), claim.id, return_to_service=True
            )
    with reading(engine) as session:
        assert get_claim(session, claim.id).status == ClaimStatus.PENDING
    with transaction(engine) as session:
        reinstate_member(session, OPERATOR, fixer)
        stewarding.approve_claim(
            session, get_member(session, steward), claim.id, return_to_service=True
        )
    assert counts(engine) == (1, 1)


def test_trusted_fixer_claims_up_to_the_limit_are_approved_at_once(bench):
    engine, tool_id, fixer, steward, _ = bench
    with transaction(engine) as session:
        ticket = open_ticket(
            session,
            tool_id=tool_id,
            note="loose",
            source="steward",
            opened_by=steward,
            blocking=True,
        )
        stewarding.mark_trusted_fixer(session, get_member(session, steward), fixer, "2")
        at_limit = repair(session, fixer, tool_id, "2", ticket_id=ticket.id)
        above = repair(session, fixer, tool_id, "2.01")
    assert at_limit.status == ClaimStatus.APPROVED and at_limit.auto_approved
    assert at_limit.decided_by is None
    assert above.status == ClaimStatus.PENDING
    with reading(engine) as session:
        assert member_balance(session, fixer) == Decimal("2.00")
        assert get_ticket(session, ticket.id).status == TicketStatus.RESOLVED
    with transaction(engine) as session:
        stewarding.unmark_trusted_fixer(session, get_member(session, steward), fixer)
        assert repair(session, fixer, tool_id, "0.5").status == ClaimStatus.PENDING


def test_stewards_may_not_trust_themselves(bench):
    engine, _, fixer, steward, _ = bench
    with pytest.raises(RuleViolation, match="may not mark themself"):
        with transaction(engine) as session:
            stewarding.mark_trusted_fixer(session, get_member(session, steward), steward)
    with pytest.raises(RuleViolation, match="may not mark trusted fixers"):
        with transaction(engine) as session:
            stewarding.mark_trusted_fixer(session, get_member(session, fixer), fixer)


def test_two_stewards_approving_at_once_pay_exactly_once(database_url):
    setup = make_engine(database_url)
    with transaction(setup) as session:
        a_kiosk(session)
        tool_id = a_tool(session).id
        fixer = a_member(session, "Bob Builder").id
        stewards = [a_member(session, f"Steward {n}", roles="steward").id for n in range(4)]
        claim_id = repair(session, fixer, tool_id, "3").id
    start, outcomes = threading.Barrier(len(stewards)), []

    def approve(steward_id: int) -> None:
        engine = make_engine(database_url)
        start.wait()
        try:
            with transaction(engine) as session:
                stewarding.approve_claim(
                    session, get_member(session, steward_id), claim_id, return_to_service=True
                )
            outcomes.append("approved")
        except Conflict:
            outcomes.append("conflict")
        engine.dispose()

    threads = [threading.Thread(target=approve, args=(s,)) for s in stewards]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["approved", "conflict", "conflict", "conflict"]
    assert counts(setup) == (1, 1)
    with reading(setup) as session:
        assert member_balance(session, fixer) == Decimal("3.00")
    setup.dispose()
