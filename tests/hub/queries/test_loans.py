"""Loans as people read them: open, overdue, a member's, a tool's history."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event
from sqlmodel import select

from hub.bulk.demo import seed
from hub.infra.clock import utcnow
from hub.infra.db import reading, transaction
from hub.loans.lending import Loan, lend_tool, return_tool
from hub.queries.loans import (
    loan_history,
    open_loans,
    open_loans_of_member,
    overdue_loans,
)
from tests.hub.builders import a_lending_library, a_tool


@pytest.fixture
def library(engine):
    return a_lending_library(engine)


def test_overdue_loans_lists_loans_past_due(library):
    engine, member_id, tool_id = library
    with transaction(engine) as session:
        lend_tool(session, tool_id=tool_id, member_id=member_id, now=utcnow() - timedelta(days=8))
    with transaction(engine) as session:
        assert [row.loan.tool_id for row in overdue_loans(session)] == [tool_id]
        assert overdue_loans(session, now=utcnow() - timedelta(days=2)) == []


def test_overdue_and_open_loans_agree_with_a_plain_query(engine):
    """The index-friendly reading gives what "due_at < now ORDER BY due_at" in SQL gives."""
    now = utcnow()
    with transaction(engine) as session:
        seed(session, now=now)
    with reading(engine) as session:
        mine = [row.loan.id for row in overdue_loans(session, now=now)]
        plain = select(Loan.id).where(Loan.returned_at.is_(None), Loan.due_at < now)
        theirs = list(session.exec(plain.order_by(Loan.due_at, Loan.id)))
        out = open_loans(session)
    assert mine == theirs and mine
    assert len(out) == 2 and out[0].tool_code == "TENT-1"  # the overdue one, due first


def test_one_overdue_list_serves_the_api_and_the_steward_pages(library):
    """The API's version (tool code, member number, soonest due, ties by id) and the steward
    pages' (tool and member names too) were two queries; the unified rows carry both."""
    engine, member_id, tool_id = library
    ten_days_ago = utcnow() - timedelta(days=10)
    with transaction(engine) as session:
        saw = a_tool(session, "SAW-1", slot=2)
        tent = a_tool(session, "TENT-1", slot=3)
        for tool in (tent.id, tool_id, saw.id):  # lent in this order, all due at one moment
            lend_tool(session, tool_id=tool, member_id=member_id, now=ten_days_ago)
        return_tool(session, tool_id=tent.id)
    with reading(engine) as session:
        rows = overdue_loans(session)
        everything = open_loans(session)
        mine = open_loans_of_member(session, member_id)
    assert [(r.tool_code, r.tool_name, r.member_number, r.member_name) for r in rows] == [
        ("DRILL-1", "Cordless drill", "1001", "Ada Lovelace"),
        ("SAW-1", "Cordless drill", "1001", "Ada Lovelace"),
    ]
    assert [r.loan.id for r in rows] == sorted(r.loan.id for r in rows)  # ties by id, as the API
    assert everything == rows == mine


def test_open_loans_are_read_through_the_open_loans_index(sqlite_engine):
    """Not the due_at index over every loan ever made: the lesson of the front page at size."""
    seen: list[tuple[str, tuple]] = []

    def remember(_conn, _cursor, statement, parameters, _context, _many):
        seen.append((statement, parameters))

    with transaction(sqlite_engine) as session:
        seed(session)
    event.listen(sqlite_engine, "before_cursor_execute", remember)
    try:
        with reading(sqlite_engine) as session:
            overdue_loans(session)
    finally:
        event.remove(sqlite_engine, "before_cursor_execute", remember)
    statement, parameters = next((s, p) for s, p in seen if "FROM loan" in s)
    with sqlite_engine.connect() as connection:
        plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
    steps = " ".join(row[-1] for row in plan)
    assert "ix_loan_open" in steps and "ix_loan_due_at" not in steps


def test_loan_history_names_borrowers_by_number_newest_first(library):
    engine, member_id, tool_id = library
    with transaction(engine) as session:
        lend_tool(session, tool_id=tool_id, member_id=member_id, now=utcnow() - timedelta(days=3))
        return_tool(session, tool_id=tool_id)
        lend_tool(session, tool_id=tool_id, member_id=member_id)
    with reading(engine) as session:
        history = loan_history(session, tool_id)
    assert [row.member_number for row in history] == ["1001", "1001"]
    assert history[0].loan.returned_at is None and history[1].loan.returned_at is not None
