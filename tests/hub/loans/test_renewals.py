"""Renewing one's own loan: the rules (the ``may_renew`` hook), the new due date, the audit."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from hub.errors import MemberSuspended, NotFound
from hub.infra import audit
from hub.infra.clock import as_utc, utcnow
from hub.infra.db import reading, transaction
from hub.inventory.registry import get_tool
from hub.loans import holds, renewals
from hub.loans.lending import lend_tool, return_tool
from hub.loans.records import Loan
from hub.loans.renewals import RenewalPolicy, RenewalRefused, may_renew, renew_loan, renewals_of
from hub.members.ranks import OPERATOR
from hub.members.roster import get_member
from hub.members.standing import suspend_member
from tests.hub.builders import a_lending_library, a_member

NOW = utcnow().replace(microsecond=0)


@pytest.fixture
def lent(engine):
    """A drill (7-day loans) lent to a member 5 days ago; return (engine, member_id, loan_id)."""
    engine, member_id, tool_id = a_lending_library(engine)
    with transaction(engine) as session:
        loan = lend_tool(session, tool_id=tool_id, member_id=member_id, now=NOW - timedelta(days=5))
        return engine, member_id, loan.id


def renew(engine, member_id, loan_id, *, now=NOW, **options):
    with transaction(engine) as session:
        loan = renew_loan(session, get_member(session, member_id), loan_id, now=now, **options)
        return as_utc(loan.due_at)


def due_of(engine, loan_id):
    with reading(engine) as session:
        return as_utc(session.get(Loan, loan_id).due_at)


def test_a_renewal_makes_the_loan_due_a_loan_length_from_now_and_is_audited(lent):
    engine, member_id, loan_id = lent
    assert renew(engine, member_id, loan_id) == NOW + timedelta(days=7)
    with reading(engine) as session:
        assert renewals_of(session, loan_id) == 1
        [entry] = audit.recent(session, target=f"loan:{loan_id}")
    assert entry.action == "loan.renew" and entry.actor_member_id == member_id
    assert json.loads(entry.before)["due_at"] != json.loads(entry.after)["due_at"]
    assert json.loads(entry.after)["renewal"] == 1


def test_the_same_renewal_submitted_twice_renews_once(lent):
    engine, member_id, loan_id = lent
    seen = due_of(engine, loan_id)
    renew(engine, member_id, loan_id, seen_due=seen)
    renew(engine, member_id, loan_id, seen_due=seen, now=NOW + timedelta(minutes=1))
    with reading(engine) as session:
        assert renewals_of(session, loan_id) == 1


def test_renewals_stop_at_the_policy_limit(lent):
    engine, member_id, loan_id = lent
    policy = RenewalPolicy(max_renewals=2)
    renew(engine, member_id, loan_id, policy=policy)
    renew(engine, member_id, loan_id, policy=policy, now=NOW + timedelta(days=1))
    due = due_of(engine, loan_id)
    with pytest.raises(RenewalRefused, match="renewed 2 times"):
        renew(engine, member_id, loan_id, policy=policy, now=NOW + timedelta(days=2))
    assert due_of(engine, loan_id) == due


def test_a_loan_overdue_beyond_the_policy_is_not_renewed_but_a_little_late_one_is(lent):
    engine, member_id, loan_id = lent
    due = due_of(engine, loan_id)
    policy = RenewalPolicy(overdue_days_allowed=3)
    with pytest.raises(RenewalRefused, match="4 days overdue"):
        renew(engine, member_id, loan_id, policy=policy, now=due + timedelta(days=4))
    assert due_of(engine, loan_id) == due
    later = due + timedelta(days=2)
    assert renew(engine, member_id, loan_id, policy=policy, now=later) == later + timedelta(days=7)


def test_another_members_loan_is_unknown_to_them(lent):
    engine, _member_id, loan_id = lent
    with transaction(engine) as session:
        other = a_member(session, "Eve Other").id
    with pytest.raises(NotFound):
        renew(engine, other, loan_id)


def test_a_returned_loan_and_a_suspended_member_are_refused(lent):
    engine, member_id, loan_id = lent
    with transaction(engine) as session:
        suspend_member(session, OPERATOR, member_id, "Lost a sander")
    with pytest.raises(MemberSuspended):
        renew(engine, member_id, loan_id)
    with transaction(engine) as session:
        return_tool(session, tool_id=session.get(Loan, loan_id).tool_id, now=NOW)
        refusal = may_renew(session, session.get(Loan, loan_id), now=NOW)
    assert refusal is not None and "returned" in refusal.message


def test_a_rule_added_to_the_hook_is_asked(lent, monkeypatch):
    engine, member_id, loan_id = lent

    def no_hold_waiting(session, loan, now, policy):
        return RenewalRefused("Someone is waiting for this tool.", field="loan_id")

    monkeypatch.setattr(renewals, "RULES", [*renewals.RULES, no_hold_waiting])
    with pytest.raises(RenewalRefused, match="waiting"):
        renew(engine, member_id, loan_id)


def test_a_loan_another_member_waits_for_is_not_renewed(lent):
    engine, member_id, loan_id = lent
    with transaction(engine) as session:
        other = a_member(session, "Bea")
        tool = session.get(Loan, loan_id).tool_id
        holds.place_hold(
            session, other, member_id=other.id, tool_code=get_tool(session, tool).code, now=NOW
        )
    with pytest.raises(RenewalRefused, match="hold on it and is waiting") as refused:
        renew(engine, member_id, loan_id)
    assert refused.value.field == "loan_id"
    assert due_of(engine, loan_id) == NOW + timedelta(days=2)
