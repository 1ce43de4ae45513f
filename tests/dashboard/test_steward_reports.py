"""The read-only queries behind the steward pages agree with the hub's own services."""

from __future__ import annotations

from datetime import timedelta

from hub.bulk.demo import seed
from hub.infra.clock import utcnow
from hub.infra.db import reading, transaction
from hub.inventory.registry import retire_tool, tool_by_code
from hub.loans.lending import lend_tool, overdue_loans, return_tool
from hub.maintenance import plans
from hub.queries import steward


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
    plans.log_service(
        session, plan_id=tool_plan.id, tool_id=drill.id, member_id=1, now=now - timedelta(days=5)
    )
    saw = tool_by_code(session, "SAW-2")
    lend_tool(session, tool_id=saw.id, member_id=5, now=now - timedelta(days=3))
    return_tool(session, tool_id=saw.id, now=now - timedelta(days=1))
    retire_tool(session, tool_by_code(session, "SAND-1").id, "worn out")


def test_due_maintenance_agrees_with_due_plans(engine):
    now = utcnow()
    with transaction(engine) as session:
        seed(session, now=now)
        add_plans(session, now)
    with reading(engine) as session:
        mine = steward.due_maintenance(session, now=now)
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
        due = steward.due_maintenance(session, now=now)
        theirs = plans.due_plans(session, now)
    assert [(s.tool_code, s.loans, s.elapsed.days) for s in due] == [("SAW-2", 0, 2)]
    assert [(s.tool_code, s.loans) for s in theirs] == [("SAW-2", 0)]


def test_overdue_and_open_loans_agree_with_the_loans_service(engine):
    now = utcnow()
    with transaction(engine) as session:
        seed(session, now=now)
    with reading(engine) as session:
        mine = [view.loan.id for view in steward.overdue_loans(session, now=now)]
        theirs = [loan.id for loan in overdue_loans(session, now=now)]
        out = steward.open_loans(session)
    assert mine == theirs and mine
    assert len(out) == 2 and out[0].tool_code == "TENT-1"  # the overdue one, due first


def test_change_signature_moves_with_the_records_and_the_minute(engine):
    now = utcnow().replace(second=0)
    with transaction(engine) as session:
        seed(session, now=now)
    with reading(engine) as session:
        first = steward.change_signature(session, now=now)
        assert steward.change_signature(session, now=now + timedelta(seconds=30)) == first
        assert steward.change_signature(session, now=now + timedelta(minutes=1)) != first
    with transaction(engine) as session:
        return_tool(session, tool_id=tool_by_code(session, "TENT-1").id, now=now)
    with reading(engine) as session:
        assert steward.change_signature(session, now=now) != first
