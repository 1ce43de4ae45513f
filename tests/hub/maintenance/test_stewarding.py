"""The stewards' maintenance doors: plans, services and tickets, role-checked and self-audited."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlmodel import select

from hub.errors import Conflict, InvalidInput, NotFound
from hub.infra import audit
from hub.infra.clock import utcnow
from hub.infra.db import reading, transaction
from hub.inventory.registry import ToolStatus, get_tool
from hub.maintenance import plans, stewarding, tickets
from hub.maintenance.models import MaintenancePlan, TicketStatus
from hub.members.ranks import OPERATOR, NotSteward
from hub.members.roster import get_member
from tests.hub.builders import a_member


def entries(engine) -> list[audit.AuditEntry]:
    """Return every audit entry, oldest first."""
    with reading(engine) as session:
        return audit.recent(session, limit=1000)[::-1]


def act(engine, service, actor_id=None, *args, **kwargs):
    """Run ``service`` as member ``actor_id`` (the operator when None) in one transaction."""
    with transaction(engine) as session:
        actor = OPERATOR if actor_id is None else get_member(session, actor_id)
        return service(session, actor, *args, **kwargs)


@pytest.fixture
def volunteer_id(shed):
    with transaction(shed.engine) as session:
        return a_member(session, "Val Volunteer", roles="volunteer").id


# --- plans --------------------------------------------------------------------------------


def test_add_edit_and_remove_a_plan_each_audited(shed):
    plan = act(
        shed.engine,
        stewarding.add_plan,
        shed.steward_id,
        name=" Oil the chuck ",
        tool_id=shed.tool_id,
        every_loans=10,
        every_days=90,
    )
    act(
        shed.engine,
        stewarding.edit_plan,
        shed.steward_id,
        plan.id,
        name="Oil the chuck",
        category="Power Tools",
        every_use_hours=20,
        blocks_when_overdue=True,
    )
    with reading(shed.engine) as session:
        edited = plans.get_plan(session, plan.id)
        assert (edited.tool_id, edited.category, edited.every_loans) == (None, "power tools", None)
        assert (edited.every_use_hours, edited.blocks_when_overdue) == (20, True)
    act(shed.engine, stewarding.remove_plan, None, plan.id)
    added, edit, removed = entries(shed.engine)
    assert [(e.action, e.target) for e in (added, edit, removed)] == [
        ("plan.add", f"plan:{plan.id}"),
        ("plan.edit", f"plan:{plan.id}"),
        ("plan.remove", f"plan:{plan.id}"),
    ]
    assert added.actor_member_id == shed.steward_id and added.before is None
    assert json.loads(added.after)["name"] == "Oil the chuck"
    assert (
        json.loads(edit.before)["every_loans"] == 10
        and json.loads(edit.after)["every_loans"] is None
    )
    assert removed.actor_member_id is None and removed.after is None  # the operator
    with reading(shed.engine) as session, pytest.raises(NotFound):
        plans.get_plan(session, plan.id)


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"tool_id": None, "category": None, "every_days": 3}, "tool_id"),
        ({"category": "power tools"}, "every_loans"),
        ({"category": "power tools", "every_days": 0}, "every_days"),
        ({"category": "power tools", "every_loans": True}, "every_loans"),
        ({"category": "   ", "every_days": 3}, "category"),
        ({"tool_id": 999_999, "every_days": 3}, "tool_id"),
    ],
)
def test_a_bad_plan_is_refused_naming_the_field_and_nothing_is_written(shed, fields, field):
    with pytest.raises((InvalidInput, NotFound)) as refused:
        act(shed.engine, stewarding.add_plan, shed.steward_id, name="Check", **fields)
    assert refused.value.field == field
    assert entries(shed.engine) == []
    with reading(shed.engine) as session:
        assert session.exec(select(MaintenancePlan)).all() == []


def test_a_plan_with_history_is_kept(shed):
    plan = act(
        shed.engine, stewarding.add_plan, None, name="Oil", tool_id=shed.tool_id, every_days=7
    )
    act(shed.engine, stewarding.log_service, shed.steward_id, plan_id=plan.id, tool_id=shed.tool_id)
    with pytest.raises(Conflict) as refused:
        act(shed.engine, stewarding.remove_plan, shed.steward_id, plan.id)
    assert refused.value.field == "plan_id" and "1 service record" in refused.value.message


def test_volunteers_and_members_are_refused_every_maintenance_door(shed, volunteer_id):
    plan = act(
        shed.engine, stewarding.add_plan, None, name="Oil", tool_id=shed.tool_id, every_days=7
    )
    ticket = act(shed.engine, stewarding.open_ticket, None, tool_id=shed.tool_id, note="Loose")
    count = len(entries(shed.engine))
    doors = [
        (stewarding.add_plan, (), {"name": "X", "tool_id": shed.tool_id, "every_days": 1}),
        (stewarding.edit_plan, (plan.id,), {"name": "X", "tool_id": shed.tool_id, "every_days": 1}),
        (stewarding.remove_plan, (plan.id,), {}),
        (stewarding.log_service, (), {"plan_id": plan.id, "tool_id": shed.tool_id}),
        (stewarding.open_ticket, (), {"tool_id": shed.tool_id, "note": "x"}),
        (stewarding.start_ticket, (ticket.id,), {}),
        (stewarding.resolve_ticket, (ticket.id,), {}),
        (stewarding.wont_fix_ticket, (ticket.id, "no"), {}),
        (stewarding.set_blocking, (ticket.id, True), {}),
    ]
    for actor_id in (volunteer_id, shed.borrower_id):
        for service, args, kwargs in doors:
            with pytest.raises(NotSteward) as refused:
                act(shed.engine, service, actor_id, *args, **kwargs)
            assert refused.value.field == "actor"
    assert len(entries(shed.engine)) == count


# --- services -----------------------------------------------------------------------------


def test_logging_a_service_resets_the_plan_and_closes_its_schedule_ticket(shed):
    with transaction(shed.engine) as session:
        plan = plans.add_plan(
            session,
            name="Oil",
            steward_id=shed.steward_id,
            tool_id=shed.tool_id,
            every_days=7,
            blocks_when_overdue=True,
            now=utcnow() - timedelta(days=8),
        )
        (opened,) = plans.open_due_tickets(session)
    assert shed.status() == ToolStatus.OUT_OF_SERVICE
    service = act(
        shed.engine,
        stewarding.log_service,
        None,
        plan_id=plan.id,
        tool_id=shed.tool_id,
        note="oiled",
    )
    assert shed.status() == ToolStatus.AVAILABLE
    with reading(shed.engine) as session:
        assert tickets.get_ticket(session, opened.id).status == TicketStatus.RESOLVED
        assert not plans.plan_status(session, plan, get_tool(session, shed.tool_id)).is_due
    (entry,) = entries(shed.engine)
    assert (entry.action, entry.target, entry.actor_member_id) == (
        "service.log",
        f"service:{service.id}",
        None,
    )
    assert json.loads(entry.after) == {
        "plan_id": plan.id,
        "tool_id": shed.tool_id,
        "serviced_by": None,
        "note": "oiled",
    }


# --- tickets ------------------------------------------------------------------------------


def test_a_ticket_through_its_life_each_step_audited(shed):
    ticket = act(
        shed.engine, stewarding.open_ticket, shed.steward_id, tool_id=shed.tool_id, note="Wobbles"
    )
    act(shed.engine, stewarding.start_ticket, shed.steward_id, ticket.id)
    act(shed.engine, stewarding.set_blocking, shed.steward_id, ticket.id, True)
    assert shed.status() == ToolStatus.OUT_OF_SERVICE
    act(shed.engine, stewarding.set_blocking, shed.steward_id, ticket.id, False)
    assert shed.status() == ToolStatus.AVAILABLE
    act(shed.engine, stewarding.set_blocking, None, ticket.id, True)
    act(shed.engine, stewarding.resolve_ticket, shed.steward_id, ticket.id, "tightened")
    assert shed.status() == ToolStatus.AVAILABLE
    log = entries(shed.engine)
    assert [e.action for e in log] == [
        "ticket.open",
        "ticket.start",
        "ticket.block",
        "ticket.unblock",
        "ticket.block",
        "ticket.resolve",
    ]
    assert {e.target for e in log} == {f"ticket:{ticket.id}"}
    resolved = log[-1]
    assert json.loads(resolved.before)["status"] == "in_progress"
    assert json.loads(resolved.after) == {
        "status": "resolved",
        "blocking": True,
        "resolution_note": "tightened",
        "resolved_by": shed.steward_id,
    }
    with pytest.raises(Conflict):
        act(shed.engine, stewarding.wont_fix_ticket, shed.steward_id, ticket.id, "again")
    assert len(entries(shed.engine)) == len(log)


def test_wont_fix_needs_a_reason(shed):
    ticket = act(shed.engine, stewarding.open_ticket, None, tool_id=shed.tool_id, note="Rusty")
    with pytest.raises(InvalidInput) as refused:
        act(shed.engine, stewarding.wont_fix_ticket, shed.steward_id, ticket.id, "  ")
    assert refused.value.field == "note"
    act(shed.engine, stewarding.wont_fix_ticket, shed.steward_id, ticket.id, "beyond repair")
    assert entries(shed.engine)[-1].action == "ticket.wont_fix"


def test_the_same_plan_twice_is_one_plan_audited_once(shed):
    fields = dict(name="Oil", category="power tools", every_days=7, blocks_when_overdue=False)
    first = act(shed.engine, stewarding.add_plan, shed.steward_id, **fields)
    again = act(shed.engine, stewarding.add_plan, shed.steward_id, **fields)
    other = act(shed.engine, stewarding.add_plan, shed.steward_id, **(fields | {"every_days": 8}))
    assert again.id == first.id != other.id
    assert [e.action for e in entries(shed.engine)] == ["plan.add", "plan.add"]
