"""Deciding together: a proposal's life under each rule, votes, and a passed spend."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlmodel import select

from hub.errors import Conflict, InvalidInput, RuleViolation
from hub.infra.audit import AuditEntry
from hub.infra.clock import utcnow
from hub.infra.db import reading, transaction
from hub.market import proposals
from hub.members.ranks import NotSteward
from hub.members.roster import get_member
from hub.timebank import ledger


def propose(session, network, **fields):
    values = {
        "title": "Buy a second tile cutter",
        "text": "The first is always out.",
        "closes_at": utcnow() + timedelta(days=7),
    } | fields
    return proposals.propose(session, get_member(session, network.ada), **values)


def cast(session, network, proposal, *votes):
    for who, choice, *why in votes:
        proposals.vote(
            session, get_member(session, getattr(network, who)), proposal.id, choice, *why
        )


def close(session, proposal):
    return proposals.decide_closed(session, now=proposal.closes_at + timedelta(seconds=1))


def fund_pool(session, network, hours):
    """Members pay booking fees into the pool."""
    ledger.charge_to_pool(
        session, key=f"fee:{hours}", member_id=network.cy, hours=hours, description="booking fees"
    )


@pytest.mark.parametrize(
    ("rule", "quorum", "votes", "outcome"),
    [
        ("consent", 0, [("bea", "yes"), ("cy", "no")], "passed"),
        ("consent", 0, [("bea", "yes"), ("cy", "block", "we have no room for it")], "failed"),
        ("consent", 3, [("bea", "yes"), ("cy", "yes")], "failed"),
        ("majority", 2, [("bea", "yes"), ("cy", "yes"), ("sam", "no")], "passed"),
        ("majority", 0, [("bea", "yes"), ("cy", "no")], "failed"),
        ("majority", 0, [("bea", "yes"), ("cy", "block", "too dear"), ("sam", "yes")], "passed"),
    ],
)
def test_a_proposal_is_decided_by_its_rule(network, rule, quorum, votes, outcome):
    with transaction(network.engine) as session:
        proposal = propose(session, network, rule=rule, quorum=quorum)
        cast(session, network, proposal, *votes)
        (decided,) = close(session, proposal)
        assert decided.outcome == outcome, decided.outcome_note


def test_a_vote_changes_until_the_close_and_none_is_taken_after(network):
    with transaction(network.engine) as session:
        proposal = propose(session, network)
        cast(session, network, proposal, ("bea", "block", "noisy"), ("bea", "yes"))
        assert [(v.member_id, v.choice) for v in proposals.votes_on(session, proposal.id)] == [
            (network.bea, "yes")
        ]
        late = proposal.closes_at + timedelta(minutes=1)
        with pytest.raises(Conflict, match="closed"):
            proposals.vote(session, get_member(session, network.cy), proposal.id, "no", now=late)
        with pytest.raises(InvalidInput) as blank:
            proposals.vote(session, get_member(session, network.cy), proposal.id, "block", " ")
        assert blank.value.field == "reason"


def test_a_spend_cannot_ask_more_than_the_pool_holds(network):
    with transaction(network.engine) as session:
        fund_pool(session, network, "5")
        with pytest.raises(RuleViolation, match="holds 5.00 h") as refused:
            propose(session, network, cost_hours="40", payee_number="1002")
        assert refused.value.field == "cost_hours"


def test_a_passed_spend_is_executed_once_by_a_steward_and_audited(network):
    with transaction(network.engine) as session:
        fund_pool(session, network, "8")
        proposal = propose(session, network, cost_hours="6", payee_number="1002")
        cast(session, network, proposal, ("cy", "yes"))
        with pytest.raises(Conflict, match="not passed"):
            proposals.execute_spend(session, get_member(session, network.sam), proposal.id)
        close(session, proposal)
        with pytest.raises(NotSteward):
            proposals.execute_spend(session, get_member(session, network.bea), proposal.id)
        done = proposals.execute_spend(session, get_member(session, network.sam), proposal.id)
        with pytest.raises(Conflict, match="already executed"):
            proposals.execute_spend(session, get_member(session, network.sam), proposal.id)
    with reading(network.engine) as session:
        assert ledger.member_balance(session, network.bea) == Decimal("6.00")
        assert ledger.get_transfer(session, done.transfer_id).kind == "commons_spend"
        entry = session.exec(
            select(AuditEntry).where(AuditEntry.action == "proposal.execute")
        ).one()
        assert json.loads(entry.after)["transfer_id"] == done.transfer_id


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"rule": "dictator"}, "rule"),
        ({"quorum": -1}, "quorum"),
        ({"closes_at": utcnow() - timedelta(days=1)}, "closes_at"),
        ({"closes_at": utcnow() + timedelta(days=365)}, "closes_at"),
        ({"cost_hours": "5"}, "payee"),
        ({"title": ""}, "title"),
    ],
)
def test_a_bad_proposal_is_refused_naming_its_field(network, fields, field):
    with pytest.raises(InvalidInput) as refused, transaction(network.engine) as session:
        propose(session, network, **fields)
    assert refused.value.field == field
    with reading(network.engine) as session:
        assert proposals.proposals(session) == []
