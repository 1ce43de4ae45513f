"""Asking who might fix a broken tool: by a steward's choice (audited) or, for members who
opted in, by the housekeeping pass; once per ticket, only to those who get such mail."""

from __future__ import annotations

import pytest
from sqlmodel import select

from hub.errors import RuleViolation
from hub.infra.audit import AuditEntry
from hub.infra.db import reading, transaction
from hub.inventory.registry import get_tool
from hub.mail.choices import choose_kinds
from hub.mail.outbox import OutboxMail
from hub.maintenance import stewarding as maintenance
from hub.market import asks, skills
from hub.members.ranks import NotSteward
from hub.members.roster import get_member


def break_the_drill(session, network):
    maintenance.open_ticket(
        session,
        get_member(session, network.sam),
        tool_id=network.drill,
        note="Chuck slips",
        blocking=True,
    )


def with_skill(session, network, who, tag="drill", email=True):
    member = get_member(session, getattr(network, who))
    member.email = f"{who}@example.org" if email else None
    session.add(member)
    skills.set_skills(session, member, tag)
    return member


def mails(engine):
    with reading(engine) as session:
        return [
            (m.to_address, m.kind) for m in session.exec(select(OutboxMail).order_by(OutboxMail.id))
        ]


def test_a_steward_asks_the_chosen_once_per_ticket_and_it_is_audited(network):
    with transaction(network.engine) as session:
        with_skill(session, network, "ada")
        with_skill(session, network, "bea", email=False)
        break_the_drill(session, network)
        sam = get_member(session, network.sam)
        assert asks.ask_fixers(session, sam, network.drill, ["1001", "1002"]) == ["1001"]
        asks.ask_fixers(session, sam, network.drill, ["1001"])  # again: the same mail
    assert mails(network.engine) == [("ada@example.org", "fix_request")]
    with reading(network.engine) as session:
        entries = session.exec(
            select(AuditEntry).where(AuditEntry.action == "tool.ask_fixers")
        ).all()
        assert len(entries) == 2 and entries[0].actor_member_id == network.sam


def test_only_stewards_ask_and_only_about_a_tool_out_of_service(network):
    with transaction(network.engine) as session:
        with_skill(session, network, "ada")
        with pytest.raises(RuleViolation, match="not out of service"):
            asks.ask_fixers(session, get_member(session, network.sam), network.drill, ["1001"])
        break_the_drill(session, network)
        with pytest.raises(NotSteward):
            asks.ask_fixers(session, get_member(session, network.bea), network.drill, ["1001"])


def test_the_housekeeping_pass_asks_only_those_who_opted_in_and_still_want_it(network):
    with transaction(network.engine) as session:
        ada = with_skill(session, network, "ada")
        bea = with_skill(session, network, "bea")
        cy = with_skill(session, network, "cy")
        asks.set_auto_ask(session, ada, True)
        asks.set_auto_ask(session, cy, True)
        choose_kinds(session, cy, ["due_tomorrow"])  # Cy turned fix requests off
        break_the_drill(session, network)
        assert get_tool(session, network.drill).status == "out_of_service"
        assert asks.ask_opted_in_fixers(session) == 1
        assert asks.ask_opted_in_fixers(session) == 1  # the same mail, not a second one
        assert not asks.auto_asked(session, bea.id)
    assert mails(network.engine) == [("ada@example.org", "fix_request")]
