"""Repair claims as stewards read them: pending, decided, one member's, one claim."""

from __future__ import annotations

import pytest

from hub.errors import NotFound
from hub.infra.db import reading, transaction
from hub.members.roster import get_member
from hub.queries.claims import claim_row, claims_of_member, decided_claims, pending_claims
from hub.timebank import stewarding
from hub.timebank.claims import log_repair
from tests.hub.builders import a_kiosk, a_member, a_tool


@pytest.fixture
def claimed(engine):
    """Three claims by one fixer on one drill: one approved, one declined, one pending."""
    with transaction(engine) as session:
        a_kiosk(session)
        tool = a_tool(session)
        fixer = a_member(session, "Bob Builder")
        steward = a_member(session, "Sam Steward", roles="steward")
        ids = [
            log_repair(
                session,
                member_id=fixer.id,
                tool_id=tool.id,
                hours=hours,
                note=note,
                source="dashboard",
            ).id
            for hours, note in (("1.00", "oiled"), ("2.00", "new chuck"), ("0.50", "glued"))
        ]
        stewarding.approve_claim(
            session, get_member(session, steward.id), ids[0], return_to_service=True
        )
        stewarding.decline_claim(session, get_member(session, steward.id), ids[1], "not a repair")
        return engine, fixer.id, ids


def test_one_claim_row_serves_the_api_and_the_steward_pages(claimed):
    """The API's rows (the repair, tool code, member number) and the pages' (member name, and
    tool, note and ticket at hand) were two shapes of one query; one row now carries both."""
    engine, fixer, ids = claimed
    with reading(engine) as session:
        (row,) = pending_claims(session)
    assert row.claim.id == ids[2] and row.claim.member_id == fixer
    assert (row.tool_code, row.member_number, row.member_name) == ("DRILL-1", "1001", "Bob Builder")
    assert (row.tool_id, row.note, row.ticket_id) == (row.repair.tool_id, "glued", None)


def test_decided_and_a_members_claims_newest_first(claimed):
    engine, fixer, ids = claimed
    with reading(engine) as session:
        assert [row.claim.id for row in decided_claims(session)] == [ids[1], ids[0]]
        assert [row.claim.id for row in claims_of_member(session, fixer)] == ids[::-1]
        assert [row.claim.id for row in claims_of_member(session, fixer, limit=1)] == [ids[2]]
        assert claim_row(session, ids[0]).claim.status == "approved"


def test_an_unknown_claim_is_refused_by_id(claimed):
    engine, _, _ = claimed
    with reading(engine) as session, pytest.raises(NotFound, match="Claim 99 does not exist"):
        claim_row(session, 99)
