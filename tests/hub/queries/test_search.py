"""The header search: members by name, number or card UID (any spelling), tools by code or name."""

from __future__ import annotations

from hub.infra.db import transaction
from hub.members.cards import report_lost
from hub.members.ranks import OPERATOR
from hub.queries.members import find_members
from hub.queries.search import search
from tests.hub.builders import a_kiosk, a_member, a_tool


def test_members_are_found_by_name_number_or_card_and_tools_by_code_or_name(engine):
    with transaction(engine) as session:
        a_kiosk(session)
        ada = a_member(session, "Ada Lovelace", uid="04A22B1A3C5D80")
        grace = a_member(session, "Grace Hopper", uid="DEADBEEF")
        a_tool(session, "DRILL-1")
        report_lost(session, OPERATOR, grace.id, "DEADBEEF")  # a revoked card still finds them

        def numbers(text: str) -> list[str]:
            return [m.number for m in find_members(session, text)]

        assert numbers("love") == [ada.number]
        assert numbers(grace.number) == [grace.number]
        assert numbers("04:a2:2b") == [ada.number]
        assert numbers("de-ad-be-ef") == [grace.number]
        assert numbers("zz") == []
        found = search(session, "dril")
        assert [t.code for t in found.tools] == ["DRILL-1"] and found.members == []
        assert search(session, "cordless").tools[0].code == "DRILL-1"
        assert search(session, "   ") == search(session, "")
        assert search(session, "").members == []
