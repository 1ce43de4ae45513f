"""Rows looked up once per transaction (hub.infra.rows) are not asked for again, and rows a hub
session loaded stay in its identity map while it lives (hub.infra.db)."""

from __future__ import annotations

from sqlalchemy import event

from hub.infra.db import transaction
from hub.infra.rows import find_unique
from hub.inventory.registry import Tool
from hub.members.roster import Member
from tests.hub.builders import a_kiosk, a_member, a_tool


def counting(engine) -> list[str]:
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    return statements


def test_a_unique_row_is_read_once_per_transaction_and_again_if_its_key_changed(engine):
    with transaction(engine) as session:
        a_kiosk(session)
        a_tool(session, "DRILL-1")
    statements = counting(engine)
    with transaction(engine) as session:
        first = find_unique(session, Tool, Tool.code, "DRILL-1")
        queries = len(statements)
        assert find_unique(session, Tool, Tool.code, "DRILL-1") is first
        assert len(statements) == queries
        assert first is not None
        first.code = "DRILL-2"
        assert find_unique(session, Tool, Tool.code, "DRILL-1") is None  # asked again
        assert len(statements) > queries
    with transaction(engine) as session:  # a new transaction asks the database again
        queries = len(statements)
        assert find_unique(session, Tool, Tool.code, "DRILL-2") is not None
        assert len(statements) > queries


def test_a_row_loaded_once_is_taken_from_the_identity_map_after(engine):
    with transaction(engine) as session:
        member_id = a_member(session).id
    statements = counting(engine)
    with transaction(engine) as session:
        session.get(Member, member_id)  # loaded, and let go of at once
        queries = len(statements)
        assert session.get(Member, member_id) is not None
        assert len(statements) == queries
