"""Who can fix what: skills, suggested fixers, and the hours each skill gave the commons."""

from __future__ import annotations

from decimal import Decimal

import pytest

from hub.errors import InvalidInput
from hub.infra.clock import utcnow
from hub.infra.db import reading, transaction
from hub.market import skills
from hub.members.roster import get_member
from hub.timebank import claims, stewarding


def test_a_broken_tool_suggests_members_by_skill_then_by_past_repairs(network):
    with transaction(network.engine) as session:
        skills.set_skills(session, get_member(session, network.bea), "drill, power-tools")
        skills.set_skills(session, get_member(session, network.cy), ["sewing"])
        claims.log_repair(
            session,
            member_id=network.cy,
            tool_id=network.drill,
            hours="1",
            note="new brushes",
            source="dashboard",
            now=utcnow(),
        )
    with reading(network.engine) as session:
        suggested = skills.suggest_fixers(session, network.drill)
    assert [(s.member.number, s.reasons) for s in suggested] == [
        ("1002", ["skill: drill", "skill: power-tools"]),
        ("1003", ["repaired this tool 1 time(s)"]),
    ]


def test_skills_are_replaced_whole_and_checked(network):
    with transaction(network.engine) as session:
        ada = get_member(session, network.ada)
        skills.set_skills(session, ada, "welding sharpening")
        assert skills.set_skills(session, ada, "Sharpening, bikes") == ["bikes", "sharpening"]
        with pytest.raises(InvalidInput) as refused:
            skills.set_skills(session, ada, "bad/tag")
        assert refused.value.field == "skills"


def test_the_records_show_each_skills_hours_by_first_name_and_number(network):
    with transaction(network.engine) as session:
        skills.set_skills(session, get_member(session, network.ada), "drills")
        claim = claims.log_repair(
            session,
            member_id=network.ada,
            tool_id=network.drill,
            hours="2.5",
            note="chuck",
            source="dashboard",
            now=utcnow(),
        )
        stewarding.approve_claim(
            session, get_member(session, network.sam), claim.id, return_to_service=True
        )
    with reading(network.engine) as session:
        assert skills.skill_hours(session) == [("drills", "Ada", "1001", Decimal("2.50"))]
