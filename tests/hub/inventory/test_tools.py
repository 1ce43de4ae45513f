"""A steward's doors on tools: each checks the role, refuses naming the field, and is audited."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from hub.errors import Conflict, InvalidInput, NotFound, ToolUnavailable
from hub.infra.audit import AuditEntry
from hub.infra.db import reading, transaction
from hub.inventory import tools
from hub.inventory.registry import Tool, ToolStatus, tool_by_code
from hub.loans.lending import lend_tool
from hub.members.ranks import OPERATOR, NotSteward
from hub.members.roster import Member, add_training
from hub.queries.tools import home_of
from tests.hub.builders import a_kiosk, a_member, a_tool


def entries(session) -> list[AuditEntry]:
    return list(session.exec(select(AuditEntry).order_by(AuditEntry.id)))


@pytest.fixture
def shed(engine):
    """A kiosk shed-1 with four lockers, a steward and a volunteer; return the engine."""
    with transaction(engine) as session:
        a_kiosk(session)
        a_member(session, "Sam Steward", roles="steward")
        a_member(session, "Val Volunteer", roles="volunteer")
    return engine


def member(session, name: str) -> Member:
    return session.exec(select(Member).where(Member.name == name)).one()


def test_a_steward_adds_a_tool_in_a_free_locker_audited_as_created(shed):
    with transaction(shed) as session:
        steward = member(session, "Sam Steward")
        add_training(session, code="router", name="Router induction")
        tool = tools.add_tool(
            session,
            steward,
            code="saw-3",
            name=" Jigsaw ",
            category="Power Tools",
            kiosk_id="shed-1",
            slot=2,
            training="router",
            notes="Blades in the drawer",
        )
        assert (tool.code, tool.name, tool.category) == ("SAW-3", "Jigsaw", "power tools")
        assert home_of(session, tool) == ("shed-1", 2)
        (entry,) = entries(session)
    assert (entry.action, entry.target) == ("tool.add", "tool:SAW-3")
    assert entry.actor_member_id == steward.id
    assert entry.before is None
    after = json.loads(entry.after)
    assert after["code"] == "SAW-3" and after["notes"] == "Blades in the drawer"


def test_a_volunteer_may_not_add_a_tool_and_nothing_is_written(shed):
    with pytest.raises(NotSteward) as refused, transaction(shed) as session:
        tools.add_tool(
            session, member(session, "Val Volunteer"), code="X-1", name="X", category="x"
        )
    assert refused.value.field == "actor"
    with reading(shed) as session:
        assert session.exec(select(Tool)).all() == [] and entries(session) == []


def test_a_duplicate_code_is_refused_naming_code(shed):
    with transaction(shed) as session:
        a_tool(session, "DRILL-1")
    with pytest.raises(Conflict) as refused, transaction(shed) as session:
        tools.add_tool(session, OPERATOR, code="drill-1", name="Drill", category="power")
    assert refused.value.field == "code" and "DRILL-1 already exists" in refused.value.message


def test_edit_changes_only_what_is_given_and_records_before_and_after(shed):
    with transaction(shed) as session:
        tool_id = a_tool(session).id
        training_id = add_training(session, code="drill", name="Drill basics").id
        tools.edit_tool(session, OPERATOR, tool_id, name="Drill 18V", training="drill")
        tool = session.get(Tool, tool_id)
        assert (tool.name, tool.category, tool.training_id) == (
            "Drill 18V", "power tools", training_id
        )  # fmt: skip
        (entry,) = entries(session)
    assert entry.action == "tool.edit" and entry.actor_member_id is None  # the operator
    assert json.loads(entry.before)["name"] == "Cordless drill"
    assert json.loads(entry.after)["training_id"] == training_id


def test_an_edit_that_changes_nothing_records_nothing(shed):
    with transaction(shed) as session:
        tool_id = a_tool(session).id
        tools.edit_tool(session, OPERATOR, tool_id, name="Cordless drill", notes="")
        assert entries(session) == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": "  "}, "name"),
        ({"category": ""}, "category"),
        ({"training": "nope"}, "training"),
        ({"loan_days": 0}, "loan_days"),
        ({"notes": "x" * 501}, "notes"),
        ({"code": "NEW-1"}, "code"),
    ],
)
def test_a_bad_edit_is_refused_naming_the_field(shed, changes, field):
    with transaction(shed) as session:
        tool_id = a_tool(session).id
    with pytest.raises((InvalidInput, NotFound)) as refused, transaction(shed) as session:
        tools.edit_tool(session, OPERATOR, tool_id, **changes)
    assert refused.value.field == field


def test_move_to_a_free_locker_records_from_and_to(shed):
    with transaction(shed) as session:
        tool = a_tool(session)
        tools.move_tool(session, OPERATOR, tool.id, "shed-1", 3)
        assert home_of(session, tool) == ("shed-1", 3)
        (entry,) = entries(session)
    assert entry.action == "tool.move"
    assert json.loads(entry.after)["from"] == "shed-1/1"
    assert json.loads(entry.after)["to"] == "shed-1/3"


@pytest.mark.parametrize(
    ("kiosk_id", "slot", "error", "field"),
    [
        ("shed-1", 2, Conflict, "slot"),  # SAW-1 lives there
        ("shed-1", 9, NotFound, "slot"),
        ("shed-9", 1, NotFound, "kiosk_id"),
    ],
)
def test_move_to_an_occupied_or_missing_locker_is_refused_naming_it(
    shed, kiosk_id, slot, error, field
):
    with transaction(shed) as session:
        tool_id = a_tool(session).id
        a_tool(session, "SAW-1", slot=2)
    with pytest.raises(error) as refused, transaction(shed) as session:
        tools.move_tool(session, OPERATOR, tool_id, kiosk_id, slot)
    assert refused.value.field == field
    with reading(shed) as session:
        assert home_of(session, session.get(Tool, tool_id)) == ("shed-1", 1)
        assert entries(session) == []


def test_moving_a_tool_to_its_own_locker_changes_nothing(shed):
    with transaction(shed) as session:
        tool_id = a_tool(session).id
        tools.move_tool(session, OPERATOR, tool_id, "shed-1", 1)
        assert entries(session) == []


def test_retire_frees_the_locker_keeps_the_reason_and_is_audited_once(shed):
    with transaction(shed) as session:
        tool_id = a_tool(session).id
        tools.retire_tool(session, OPERATOR, tool_id, "beyond repair")
        tools.retire_tool(session, OPERATOR, tool_id, "again")  # a double submit
        tool = session.get(Tool, tool_id)
        assert (tool.status, tool.status_reason, tool.locker_id) == (
            "retired",
            "beyond repair",
            None,
        )
        (entry,) = entries(session)
    assert entry.action == "tool.retire"
    assert json.loads(entry.before)["locker_id"] is not None
    assert json.loads(entry.after) == {
        "status": "retired", "status_reason": "beyond repair", "locker_id": None, "home": "shed-1/1"
    }  # fmt: skip


def test_a_tool_on_loan_cannot_be_retired(shed):
    with transaction(shed) as session:
        tool_id = a_tool(session).id
        lend_tool(session, tool_id=tool_id, member_id=member(session, "Val Volunteer").id)
    with pytest.raises(Conflict, match="on loan") as refused, transaction(shed) as session:
        tools.retire_tool(session, OPERATOR, tool_id, "broken")
    assert refused.value.field == "tool_id"
    with reading(shed) as session:
        assert tool_by_code(session, "DRILL-1").status == ToolStatus.ON_LOAN


def test_a_retired_tool_cannot_be_moved(shed):
    with transaction(shed) as session:
        tool_id = a_tool(session).id
        tools.retire_tool(session, OPERATOR, tool_id, "gone")
        with pytest.raises(ToolUnavailable):
            tools.move_tool(session, OPERATOR, tool_id, "shed-1", 2)


def test_rename_a_category_moves_every_tool_in_it_audited_once(shed):
    with transaction(shed) as session:
        a_tool(session, "DRILL-1", slot=1)
        a_tool(session, "DRILL-2", slot=2)
        assert tools.rename_category(session, OPERATOR, "Power Tools", "power") == 2
        assert tools.categories(session) == ["power"]
        (entry,) = entries(session)
    assert (entry.action, entry.target) == ("category.rename", "category:power")
    assert json.loads(entry.after) == {"category": "power", "tools": 2}


def test_renaming_a_category_no_tool_is_in_is_refused(shed):
    with pytest.raises(NotFound) as refused, transaction(shed) as session:
        tools.rename_category(session, OPERATOR, "garden", "outdoors")
    assert refused.value.field == "category"
