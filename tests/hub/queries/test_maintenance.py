"""Care for the tools as stewards read it: what is due, live tickets, a tool's tickets, plans."""

from __future__ import annotations

from datetime import timedelta

from hub.bulk.demo import seed
from hub.infra.clock import utcnow
from hub.infra.db import reading, transaction
from hub.inventory.registry import tool_by_code
from hub.inventory.tools import retire_tool
from hub.loans.lending import lend_tool, return_tool
from hub.maintenance import plans, tickets
from hub.maintenance.models import TicketStatus
from hub.members.ranks import OPERATOR
from hub.queries.maintenance import (
    due_maintenance,
    live_tickets_with_tools,
    plan_rows,
    ticket_row,
    tickets_of_tool,
)


def add_plans(session, now):
    """Add plans of each kind, a service that resets one tool, and a retired tool."""
    drill = tool_by_code(session, "DRILL-2")
    for every in ({"every_loans": 2}, {"every_days": 20}, {"every_use_hours": 30}):
        plans.add_plan(
            session,
            name=f"Plan {every}",
            steward_id=1,
            category="power tools",
            now=now - timedelta(days=70),
            **every,
        )
    tool_plan = plans.add_plan(
        session,
        name="Drill chuck",
        steward_id=1,
        tool_id=drill.id,
        every_loans=1,
        now=now - timedelta(days=70),
    )
    plans.service_tool(
        session, plan_id=tool_plan.id, tool_id=drill.id, by=1, now=now - timedelta(days=5)
    )
    saw = tool_by_code(session, "SAW-2")
    lend_tool(session, tool_id=saw.id, member_id=5, now=now - timedelta(days=3))
    return_tool(session, tool_id=saw.id, now=now - timedelta(days=1))
    retire_tool(session, OPERATOR, tool_by_code(session, "SAND-1").id, "worn out")


def test_due_maintenance_agrees_with_due_plans(engine):
    now = utcnow()
    with transaction(engine) as session:
        seed(session, now=now)
        add_plans(session, now)
    with reading(engine) as session:
        mine = due_maintenance(session, now=now)
        theirs = plans.due_plans(session, now)

    def key(status):
        use = status.use if status.plan.every_use_hours else None  # counted only where it counts
        return (status.plan.id, status.tool_id, status.loans, status.since, use)

    assert sorted(map(key, mine)) == sorted(map(key, theirs))
    assert len(mine) >= 4 and {s.tool_code for s in mine} >= {"SAW-2", "DRILL-1"}
    assert "SAND-1" not in {s.tool_code for s in mine}  # retired


def test_a_plan_with_no_loan_since_it_began_is_due_by_days(engine):
    """No loan since the plan began counts none (it once sent PostgreSQL an id past INTEGER)."""
    now = utcnow()
    with transaction(engine) as session:
        seed(session, now=now - timedelta(days=30))  # every loan is older than the plan
        plans.add_plan(
            session,
            name="Oil the blade",
            steward_id=1,
            tool_id=tool_by_code(session, "SAW-2").id,
            every_days=1,
            now=now - timedelta(days=2),
        )
    with reading(engine) as session:
        due = due_maintenance(session, now=now)
        theirs = plans.due_plans(session, now)
    assert [(s.tool_code, s.loans, s.elapsed.days) for s in due] == [("SAW-2", 0, 2)]
    assert [(s.tool_code, s.loans) for s in theirs] == [("SAW-2", 0)]


def test_live_tickets_oldest_first_for_the_api_blocking_first_for_stewards(engine):
    """The API listed live tickets oldest first, the maintenance page blocking ones first;
    one query now serves both, with the tool's code (API) and name (page)."""
    now = utcnow()
    with transaction(engine) as session:
        seed(session, now=now)
        opened = [
            tickets.open_ticket(
                session,
                tool_id=tool_by_code(session, code).id,
                note=f"{code} needs a look",
                source="steward",
                opened_by=1,
                blocking=blocking,
                now=now - timedelta(hours=hours),
            ).id
            for code, blocking, hours in (
                ("SAW-2", False, 3),
                ("PW-1", True, 2),
                ("MOWER-1", False, 1),
            )
        ]
        tickets.close_ticket(session, opened[2], status=TicketStatus.RESOLVED, by=1)
    with reading(engine) as session:
        oldest = live_tickets_with_tools(session)
        worked = live_tickets_with_tools(session, blocking_first=True)
        one = live_tickets_with_tools(session, tool_id=tool_by_code(session, "PW-1").id)
        single = ticket_row(session, one[0].ticket)
    assert [(r.ticket.id, r.tool_code) for r in oldest] == [
        (opened[0], "SAW-2"),
        (opened[1], "PW-1"),
    ]
    assert [(r.tool_code, r.tool_name) for r in worked] == [
        ("PW-1", "Pressure washer"),
        ("SAW-2", "Jigsaw"),
    ]
    assert one == [single] and single.tool_code == "PW-1"


def test_a_tools_tickets_live_first_then_newest(engine):
    now = utcnow()
    with transaction(engine) as session:
        seed(session, now=now)
        saw = tool_by_code(session, "SAW-2").id
        ids = [
            tickets.open_ticket(
                session,
                tool_id=saw,
                note=note,
                source="steward",
                opened_by=1,
                now=now - timedelta(days=days),
            ).id
            for note, days in (("old, fixed", 9), ("live", 5), ("new, fixed", 1))
        ]
        for closed in (ids[0], ids[2]):
            tickets.close_ticket(session, closed, status=TicketStatus.RESOLVED, by=1)
    with reading(engine) as session:
        assert [t.id for t in tickets_of_tool(session, saw)] == [ids[1], ids[2], ids[0]]
        assert [t.id for t in tickets_of_tool(session, saw, limit=1)] == [ids[1]]


def test_plans_say_what_they_cover(engine):
    now = utcnow()
    with transaction(engine) as session:
        seed(session, now=now)
        add_plans(session, now)
    with reading(engine) as session:
        covers = [row.covers for row in plan_rows(session)]
    assert covers == ["every power tools tool"] * 3 + ["tool DRILL-2"]
