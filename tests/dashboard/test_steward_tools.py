"""The tool pages' doors: add a tool, edit, move and retire it; each audited by the hub's
service as the signed-in steward; a refused form comes back as typed, naming its field."""

from __future__ import annotations

import json
import re

import pytest
from sqlmodel import select

from hub.infra.audit import AuditEntry
from hub.infra.db import reading, transaction
from hub.inventory.registry import Tool, ToolStatus, add_locker, tool_by_code
from hub.loans.lending import lend_tool
from hub.members.roster import member_by_number
from hub.queries.tools import home_of
from tests.dashboard.conftest import csrf_token, sign_in_by_session

STEWARD_NUMBER = "1001"


@pytest.fixture
def post(steward):
    """Return a function that posts a form as steward 1001, CSRF token included."""
    token = csrf_token(steward, "/steward/tools")

    def send(url: str, **form):
        return steward.post(url, data={"csrf_token": token, **form})

    return send


def tool_audit(engine) -> list[AuditEntry]:
    with reading(engine) as session:
        rows = session.exec(select(AuditEntry).order_by(AuditEntry.id))
        return [e for e in rows if e.action.startswith("tool.")]


def steward_id(engine) -> int:
    with reading(engine) as session:
        return member_by_number(session, STEWARD_NUMBER).id


def marked_wrong(page: str, name: str) -> bool:
    """Tell whether the page's input (or select, textarea) ``name`` is marked invalid."""
    tag = re.search(rf'<(?:input|select|textarea)[^>]*name="{name}"[^>]*>', page)
    return tag is not None and 'aria-invalid="true"' in tag.group(0)


def available_tool(engine) -> Tool:
    with reading(engine) as session:
        query = select(Tool).where(Tool.status == ToolStatus.AVAILABLE).order_by(Tool.code)
        return session.exec(query).first()


def test_the_board_links_the_add_form(steward):
    assert 'href="/steward/tools/new"' in steward.get("/steward/tools").get_data(as_text=True)
    page = steward.get("/steward/tools/new").get_data(as_text=True)
    assert 'name="code"' in page and "Router and table-saw induction" in page


def test_add_a_tool_audited_as_the_steward(post, engine):
    with transaction(engine) as session:
        add_locker(session, "shed-1", 9)
    answer = post(
        "/steward/tools", code="rake-1", name="Garden rake", category="garden",
        kiosk_id="shed-1", slot="9", training="ladder", loan_days="3", notes="Tines bent",
    )  # fmt: skip
    assert answer.status_code == 302
    with reading(engine) as session:
        rake = tool_by_code(session, "RAKE-1")
        assert home_of(session, rake) == ("shed-1", 9)
        assert (rake.loan_days, rake.notes) == (3, "Tines bent")
    assert answer.headers["Location"].endswith(f"/steward/tools/{rake.id}")
    (entry,) = tool_audit(engine)
    assert (entry.action, entry.actor_member_id) == ("tool.add", steward_id(engine))


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"code": "drill-1"}, "code"),  # taken
        ({"code": "no way"}, "code"),
        ({"name": " "}, "name"),
        ({"kiosk_id": "shed-1", "slot": "1"}, "slot"),  # DRILL-1 lives there
        ({"kiosk_id": "shed-1", "slot": "x"}, "slot"),
        ({"loan_days": "400"}, "loan_days"),
        ({"loan_days": "0"}, "loan_days"),
        ({"training": "juggling"}, "training"),
    ],
)
def test_a_refused_tool_comes_back_as_typed_naming_the_field(post, engine, form, field):
    typed = {"code": "RAKE-1", "name": "Garden rake", "category": "garden"} | form
    answer = post("/steward/tools", **typed)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert marked_wrong(page, field), page
    assert f'value="{typed["name"]}"' in page and 'value="garden"' in page
    assert tool_audit(engine) == []


def test_edit_move_and_retire_from_the_tool_page(post, steward, engine):
    tool = available_tool(engine)
    with transaction(engine) as session:
        add_locker(session, "shed-2", 9)
    page = steward.get(f"/steward/tools/{tool.id}").get_data(as_text=True)
    assert 'data-confirm="Retire' in page
    assert post(
        f"/steward/tools/{tool.id}/edit", name="Renamed", category=tool.category,
        loan_days="10", notes="Keep dry",
    ).status_code == 302  # fmt: skip
    assert post(f"/steward/tools/{tool.id}/move", kiosk_id="shed-2", slot="9").status_code == 302
    assert post(f"/steward/tools/{tool.id}/retire", reason="worn out").status_code == 302
    with reading(engine) as session:
        changed = session.get(Tool, tool.id)
        assert (changed.name, changed.loan_days, changed.notes) == ("Renamed", 10, "Keep dry")
        assert (changed.status, changed.locker_id) == ("retired", None)
    edit, move, retire = tool_audit(engine)
    assert [edit.action, move.action, retire.action] == ["tool.edit", "tool.move", "tool.retire"]
    assert json.loads(move.after)["to"] == "shed-2/9"
    assert {e.actor_member_id for e in (edit, move, retire)} == {steward_id(engine)}


def test_a_move_to_an_occupied_locker_is_refused_on_the_page_as_typed(post, engine):
    tool = available_tool(engine)
    answer = post(f"/steward/tools/{tool.id}/move", kiosk_id="shed-2", slot="1")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert "already holds tool" in page and marked_wrong(page, "slot")
    assert re.search(r'name="kiosk_id" type="text" value="shed-2"', page)
    assert tool_audit(engine) == []


def test_a_tool_on_loan_is_not_retired(post, engine):
    tool = available_tool(engine)
    with transaction(engine) as session:
        lend_tool(session, tool_id=tool.id, member_id=member_by_number(session, "1002").id)
    answer = post(f"/steward/tools/{tool.id}/retire", reason="broken")
    assert answer.status_code == 422
    assert "is on loan; retire it once it is back" in answer.get_data(as_text=True)
    with reading(engine) as session:
        assert session.get(Tool, tool.id).status == ToolStatus.ON_LOAN


def test_a_volunteer_cannot_reach_the_tool_doors(client, engine):
    sign_in_by_session(client, "1004")
    token = csrf_token(client, "/")
    answer = client.post(
        "/steward/tools",
        data={"csrf_token": token, "code": "X-1", "name": "X", "category": "x"},
    )
    assert answer.status_code == 403
    with reading(engine) as session:
        assert session.exec(select(Tool).where(Tool.code == "X-1")).first() is None


def test_rename_a_category_from_the_board(post, steward, engine):
    assert 'id="categories"' in steward.get("/steward/tools").get_data(as_text=True)
    assert post("/steward/categories/rename", category="garden", new_name="Yard").status_code == 302
    blank = post("/steward/categories/rename", category="yard", new_name=" ")
    assert blank.status_code == 422 and marked_wrong(blank.get_data(as_text=True), "new_name")
    with reading(engine) as session:
        assert tool_by_code(session, "PRUNE-1").category == "yard"
        (entry,) = session.exec(select(AuditEntry).where(AuditEntry.action == "category.rename"))
    assert entry.actor_member_id == steward_id(engine)
