"""The maintenance and ledger pages' steward doors: each change audited by the hub's service, each
refused form back with what was typed and the field named, nothing half-written."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from sqlmodel import select

from hub.infra import audit
from hub.infra.db import reading, transaction
from hub.inventory.registry import Tool, ToolStatus, get_tool
from hub.maintenance import tickets
from hub.maintenance.models import MaintenancePlan
from hub.members.roster import member_by_number
from hub.timebank import claims, ledger
from hub.timebank.ledger import Entry
from tests.dashboard.conftest import csrf_token, sign_in_by_session
from tests.dashboard.steward_fixtures import add_steward_work


@pytest.fixture
def work(app, engine):
    with transaction(engine) as session:
        return add_steward_work(session)


@pytest.fixture
def post(steward):
    """Return a function that posts a form as the signed-in steward, CSRF token included."""
    token = csrf_token(steward, "/steward/members")

    def send(url: str, **form):
        return steward.post(url, data={"csrf_token": token, **form})

    return send


def audit_log(engine) -> list[audit.AuditEntry]:
    with reading(engine) as session:
        return audit.recent(session, limit=1000)[::-1]


def entry_count(engine) -> int:
    with reading(engine) as session:
        return len(session.exec(select(Entry.id)).all())


def plan_named(engine, name) -> MaintenancePlan | None:
    with reading(engine) as session:
        return session.exec(select(MaintenancePlan).where(MaintenancePlan.name == name)).first()


# --- the maintenance page -----------------------------------------------------------------


def test_add_edit_and_remove_a_plan_from_the_page(post, steward, engine):
    answer = post(
        "/steward/plans",
        name="Sharpen the blade",
        tool_code="saw-1",
        every_loans="20",
        every_days="90",
        blocks_when_overdue="on",
    )
    assert answer.status_code == 302 and answer.location.endswith("/steward/maintenance#plans")
    plan = plan_named(engine, "Sharpen the blade")
    assert (plan.every_loans, plan.every_days, plan.blocks_when_overdue) == (20, 90, True)
    page = steward.get(f"/steward/maintenance?edit={plan.id}").get_data(as_text=True)
    assert "Edit plan" in page and 'value="SAW-1"' in page and 'value="20"' in page
    post(f"/steward/plans/{plan.id}", name="Sharpen the blade", category="Saws", every_days="60")
    edited = plan_named(engine, "Sharpen the blade")
    assert (edited.tool_id, edited.category, edited.every_loans, edited.every_days) == (
        None,
        "saws",
        None,
        60,
    )
    assert edited.blocks_when_overdue is False  # the box was not ticked this time
    post(f"/steward/plans/{plan.id}/remove")
    assert plan_named(engine, "Sharpen the blade") is None
    log = audit_log(engine)
    assert [(e.action, e.actor_member_id) for e in log] == [
        ("plan.add", 1),
        ("plan.edit", 1),
        ("plan.remove", 1),
    ]


@pytest.mark.parametrize(
    "form, field",
    [
        ({"name": "Oil", "tool_code": "NOPE-1", "every_days": "7"}, "tool_code"),
        ({"name": "Oil", "tool_code": "SAW-1"}, "every_loans"),
        ({"name": "Oil", "category": "saws", "every_days": "seven"}, "every_days"),
        ({"name": "Oil", "category": "saws", "every_days": "0"}, "every_days"),
        ({"name": "  ", "category": "saws", "every_days": "7"}, "name"),
        ({"name": "Oil", "every_days": "7"}, "tool_id"),
    ],
)
def test_a_refused_plan_keeps_what_was_typed_and_names_the_field(post, engine, form, field):
    answer = post("/steward/plans", **form)
    page = answer.get_data(as_text=True)
    assert answer.status_code in (404, 422), page[:300]
    assert f'id="plan-{field}-error"' in page or (field == "tool_id" and "one tool" in page)
    for value in form.values():
        if value.strip():
            assert f'value="{value}"' in page
    assert plan_named(engine, "Oil") is None and audit_log(engine) == []


def test_log_a_service_from_the_page(post, work, engine):
    with reading(engine) as session:
        plan = session.exec(select(MaintenancePlan)).first()
        code = session.exec(select(Tool.code).where(Tool.category == plan.category)).first()
    answer = post("/steward/services", plan_id=str(plan.id), tool_code=code, note="cords fine")
    assert answer.status_code == 302
    (entry,) = audit_log(engine)
    assert entry.action == "service.log" and json.loads(entry.after)["note"] == "cords fine"
    refused = post("/steward/services", plan_id=str(plan.id), tool_code="NOPE-1", note="x")
    assert refused.status_code == 404
    assert 'id="service-tool_code-error"' in refused.get_data(as_text=True)


def test_ticket_actions_from_the_maintenance_page(post, steward, work, engine):
    page = steward.get("/steward/maintenance").get_data(as_text=True)
    assert f'data-ticket="{work.ticket_id}"' in page and "Stop blocking" in page
    back = "/steward/maintenance"
    post(f"/steward/tickets/{work.ticket_id}/not-blocking", next=back)
    with reading(engine) as session:
        assert get_tool(session, work.tool_id).status == ToolStatus.AVAILABLE
    post(f"/steward/tickets/{work.ticket_id}/blocking", next=back)
    with reading(engine) as session:
        assert get_tool(session, work.tool_id).status == ToolStatus.OUT_OF_SERVICE
    answer = post(f"/steward/tickets/{work.ticket_id}/wont-fix", note="sander retired", next=back)
    assert answer.location == back
    with reading(engine) as session:
        assert tickets.get_ticket(session, work.ticket_id).status == "wont_fix"
    assert [e.action for e in audit_log(engine)] == [
        "ticket.unblock",
        "ticket.block",
        "ticket.wont_fix",
    ]


def test_approve_shows_the_return_to_service_choice_ticked_with_confirmations(steward, work):
    page = steward.get("/steward/maintenance").get_data(as_text=True)
    assert f"Also return the tool to service (resolves ticket {work.ticket_id})" in page
    assert 'name="return_to_service" value="on" checked' in page
    assert f'data-confirm="Approve claim {work.claim_id}' in page
    assert f'data-confirm="Decline claim {work.claim_id}' in page


def test_approve_without_the_box_keeps_the_tool_out_and_says_so(post, work, engine):
    answer = post(f"/steward/claims/{work.claim_id}/approve", hours="1.50")
    assert answer.status_code == 302
    with reading(engine) as session:
        assert claims.get_claim(session, work.claim_id).status == "approved"
        assert ledger.member_balance(session, work.fixer_id) == Decimal("1.50")
        assert tickets.get_ticket(session, work.ticket_id).status == "in_progress"
        assert get_tool(session, work.tool_id).status == ToolStatus.OUT_OF_SERVICE
    (entry,) = audit_log(engine)
    assert entry.action == "claim.approve"
    assert json.loads(entry.after)["return_to_service"] is False


def test_decline_from_the_page_is_audited(post, work, engine):
    post(f"/steward/claims/{work.claim_id}/decline", reason="no repair seen")
    (entry,) = audit_log(engine)
    assert (entry.action, json.loads(entry.after)["decision_reason"]) == (
        "claim.decline",
        "no repair seen",
    )


def test_a_volunteer_cannot_reach_the_upkeep_doors(client, work, engine):
    with reading(engine) as session:
        volunteer = member_by_number(session, "1004")
    sign_in_by_session(client, volunteer.number)
    token = csrf_token(client, "/signin")
    for url, form in [
        ("/steward/plans", {"name": "x", "category": "y", "every_days": "1"}),
        (f"/steward/claims/{work.claim_id}/approve", {"return_to_service": "on"}),
        ("/steward/ledger/credit-limits", {"number": "1005", "may_owe": "3"}),
    ]:
        answer = client.post(url, data={"csrf_token": token, **form})
        assert answer.status_code in (302, 403), url
    assert audit_log(engine) == []


# --- the ledger page ----------------------------------------------------------------------


def test_the_ledger_page_shows_the_pool_the_forms_and_reverse_buttons(post, steward, work):
    post(f"/steward/claims/{work.claim_id}/approve", hours="1.50", return_to_service="on")
    page = steward.get("/steward/ledger").get_data(as_text=True)
    assert 'id="community"' in page and "-1.50 h" in page
    assert "Enter a transfer between members" in page and 'name="key" value="form:' in page
    assert 'data-confirm="Reverse transfer' in page


def test_steward_transfer_then_reverse_it_from_the_page(post, steward, engine):
    page = steward.get("/steward/ledger").get_data(as_text=True)
    key = page.split('name="key" value="')[1].split('"')[0]
    before = entry_count(engine)
    form = dict(
        payer="1005", payee="1006", hours="2.5", description="Taught welding", category="workshop"
    )
    for _ in range(2):  # a double submit posts once
        assert post("/steward/ledger/transfers", key=key, **form).status_code == 302
    assert entry_count(engine) == before + 2
    with reading(engine) as session:
        transfer = ledger.transfer_by_key(session, key)
    refused = post(f"/steward/ledger/transfers/{transfer.id}/reverse", reason="  ")
    assert refused.status_code == 422
    answer = post(f"/steward/ledger/transfers/{transfer.id}/reverse", reason="wrong teacher")
    assert answer.status_code == 302
    twice = post(f"/steward/ledger/transfers/{transfer.id}/reverse", reason="again")
    assert twice.status_code == 409 and "already reversed" in twice.get_data(as_text=True)
    assert entry_count(engine) == before + 4
    assert [e.action for e in audit_log(engine)] == ["transfer.enter", "transfer.reverse"]


def test_a_refused_transfer_keeps_what_was_typed_and_writes_nothing(post, engine):
    post("/steward/ledger/credit-limits", number="1005", may_owe="1")
    before = entry_count(engine)
    form = dict(payer="1005", payee="1006", hours="3", description="Welding", category="workshop")
    answer = post("/steward/ledger/transfers", key="k-1", **form)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422 and 'id="transfer-hours-error"' in page
    assert "below its limit" in page and 'value="Welding"' in page and 'value="1006"' in page
    assert entry_count(engine) == before
    bad = post("/steward/ledger/transfers", key="k-2", **(form | {"payee": "9999"}))
    assert 'id="transfer-payee-error"' in bad.get_data(as_text=True)


def test_credit_limit_and_trusted_fixer_from_the_page(post, steward, engine):
    negative = post("/steward/ledger/credit-limits", number="1005", may_owe="-3")
    page = negative.get_data(as_text=True)
    assert negative.status_code == 422 and 'id="limit-may_owe-error"' in page
    assert 'value="-3"' in page and audit_log(engine) == []
    post("/steward/ledger/credit-limits", number="1005", may_owe="4")
    post("/steward/ledger/trusted-fixers", number="1005", up_to="1.5")
    page = steward.get("/steward/ledger").get_data(as_text=True)
    assert "up to 1.50 h" in page
    with reading(engine) as session:
        member = member_by_number(session, "1005")
        assert ledger.member_account(session, member.id).credit_limit == Decimal("-4.00")
    post(f"/steward/ledger/trusted-fixers/{member.id}/remove")
    assert [e.action for e in audit_log(engine)] == [
        "ledger.credit_limit",
        "fixer.mark",
        "fixer.unmark",
    ]
