"""Preventive plans: falling due by loans, days or hours of use; services; the schedule."""

from datetime import timedelta

import pytest

from hub.errors import InvalidInput, RuleViolation, ToolUnavailable
from hub.infra.db import reading, transaction
from hub.inventory.registry import ToolStatus, get_tool
from hub.maintenance import stewarding
from hub.maintenance.models import TicketSource
from hub.maintenance.plans import add_plan, due_plans, open_due_tickets, plan_status
from hub.members.roster import get_member
from tests.hub.builders import a_tool
from tests.hub.maintenance.conftest import T0


def _plan(shed, **thresholds):
    with transaction(shed.engine) as session:
        return add_plan(
            session,
            name="Blade check",
            steward_id=shed.steward_id,
            tool_id=shed.tool_id,
            now=T0,
            **thresholds,
        )


def _status(shed, plan, now):
    with reading(shed.engine) as session:
        return plan_status(session, plan, get_tool(session, shed.tool_id), now)


def test_plan_falls_due_at_the_loan_count(shed):
    plan = _plan(shed, every_loans=3)
    for n in range(2):
        shed.lend(T0 + timedelta(days=n), hours_out=1)
    assert not _status(shed, plan, T0 + timedelta(days=5)).is_due
    shed.lend(T0 + timedelta(days=2), hours_out=1)
    status = _status(shed, plan, T0 + timedelta(days=5))
    assert status.is_due and status.loans == 3 and status.loans_over == 0
    assert status.reasons() == ["3 loans (every 3: 0 over)"]


def test_plan_falls_due_on_the_day(shed):
    plan = _plan(shed, every_days=30)
    assert not _status(shed, plan, T0 + timedelta(days=29, hours=23)).is_due
    assert _status(shed, plan, T0 + timedelta(days=30)).days_over == timedelta()
    late = _status(shed, plan, T0 + timedelta(days=33))
    assert late.days_over == timedelta(days=3) and late.progress == pytest.approx(1.1)


def test_plan_falls_due_by_hours_of_use_counting_an_open_loan(shed):
    plan = _plan(shed, every_use_hours=10)
    shed.lend(T0 + timedelta(days=1), hours_out=4)
    shed.lend(T0 + timedelta(days=2), hours_out=5)
    assert _status(shed, plan, T0 + timedelta(days=3)).use == timedelta(hours=9)
    shed.lend(T0 + timedelta(days=3))  # still out
    assert not _status(shed, plan, T0 + timedelta(days=3, minutes=59)).is_due
    status = _status(shed, plan, T0 + timedelta(days=3, hours=2))
    assert status.use_over == timedelta(hours=1)


def test_whichever_threshold_comes_first_and_due_plans_lists_most_overdue_first(shed):
    with transaction(shed.engine) as session:
        a_tool(session, "SAW-1", slot=2)
    plan = _plan(shed, every_loans=100, every_days=10)
    with transaction(shed.engine) as session:
        add_plan(
            session,
            name="Saw teeth",
            steward_id=shed.steward_id,
            category="power tools",
            every_days=5,
            now=T0,
        )
    with reading(shed.engine) as session:
        due = due_plans(session, now=T0 + timedelta(days=11))
    assert [(s.plan.name, s.tool_code) for s in due] == [
        ("Saw teeth", "DRILL-1"),
        ("Saw teeth", "SAW-1"),
        ("Blade check", "DRILL-1"),
    ]
    assert due[-1].plan.id == plan.id and due[-1].days_over == timedelta(days=1)


def test_a_blocking_plan_stops_lending_until_a_service_resets_it(shed):
    plan = _plan(shed, every_loans=2, blocks_when_overdue=True)
    shed.lend(T0 + timedelta(days=1), hours_out=1)
    shed.lend(T0 + timedelta(days=2), hours_out=1)
    with pytest.raises(ToolUnavailable, match="overdue for maintenance 'Blade check': 2 loans"):
        shed.lend(T0 + timedelta(days=3))
    with transaction(shed.engine) as session:
        stewarding.log_service(
            session,
            get_member(session, shed.steward_id),
            plan_id=plan.id,
            tool_id=shed.tool_id,
            note="blade sharpened",
            now=T0 + timedelta(days=3),
        )
    shed.lend(T0 + timedelta(days=4), hours_out=1)
    assert shed.status() == ToolStatus.AVAILABLE


def test_the_schedule_opens_one_ticket_per_due_plan_and_resolving_it_is_a_service(shed):
    plan = _plan(shed, every_days=30, blocks_when_overdue=True)
    when = T0 + timedelta(days=31)
    with transaction(shed.engine) as session:
        (ticket,) = open_due_tickets(session, now=when)
        assert open_due_tickets(session, now=when) == []
    assert ticket.source == TicketSource.SCHEDULE and ticket.blocking
    assert ticket.plan_id == plan.id and "Blade check" in ticket.note
    assert shed.status() == ToolStatus.OUT_OF_SERVICE
    with transaction(shed.engine) as session:
        steward = get_member(session, shed.steward_id)
        stewarding.resolve_ticket(session, steward, ticket.id, now=when)
    assert shed.status() == ToolStatus.AVAILABLE
    status = _status(shed, plan, when + timedelta(days=1))
    assert not status.is_due and status.since == when


def test_plans_refuse_bad_thresholds_and_non_stewards(shed):
    cases = [
        ({"every_loans": 0}, InvalidInput, "every_loans must be a whole number"),
        ({}, InvalidInput, "needs every_loans, every_days or every_use_hours"),
        ({"category": "saws", "every_days": 3}, InvalidInput, "one tool or for one"),
    ]
    for extra, error, message in cases:
        with pytest.raises(error, match=message):
            _plan(shed, **extra)
    with pytest.raises(RuleViolation, match="Only stewards may add maintenance plans"):
        with transaction(shed.engine) as session:
            add_plan(
                session, name="x", steward_id=shed.fixer_id, tool_id=shed.tool_id, every_days=3
            )
