"""``commonshed hub plan|service|ticket|claim|transfer|credit-limit|fixer``: the upkeep doors
from the shell, on SQLite and PostgreSQL, each acting as the operator and audited."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from click.testing import CliRunner
from sqlmodel import select

from commonshed.cli import main
from hub.infra import audit
from hub.infra.db import reading, transaction
from hub.loans.lending import lend_tool
from hub.loans.records import Loan
from hub.maintenance import tickets
from hub.maintenance.models import MaintenancePlan
from hub.timebank import claims, ledger
from hub.timebank.ledger import Entry, Transfer
from tests.hub.builders import a_kiosk, a_member, a_tool


@pytest.fixture
def shed(engine):
    """A drill with a blocking ticket and Bob's pending claim for it; Ada and Bob (1001, 1002)."""
    with transaction(engine) as session:
        a_kiosk(session)
        tool = a_tool(session)
        ada, bob = a_member(session, "Ada Lovelace"), a_member(session, "Bob Builder")
        ticket = tickets.open_ticket(
            session, tool_id=tool.id, note="Slips", source="kiosk", opened_by=ada.id, blocking=True
        )
        claim = claims.log_repair(
            session,
            member_id=bob.id,
            tool_id=tool.id,
            hours="1.25",
            note="New chuck",
            source="kiosk",
            ticket_id=ticket.id,
        )
        return engine, ticket.id, claim.id


@pytest.fixture
def run(database_url, tmp_path):
    """Return a function that runs ``commonshed hub ...`` on the test's database."""
    runner = CliRunner()

    def invoke(*args: str):
        base = ["hub", "--data-dir", str(tmp_path / "data"), "--database-url", database_url]
        return runner.invoke(main, [*base, *args])

    return invoke


def actions(engine) -> list[tuple[str, int | None]]:
    with reading(engine) as session:
        return [(e.action, e.actor_member_id) for e in audit.recent(session, limit=100)[::-1]]


def test_plans_and_services_from_the_shell(shed, run):
    engine, _, _ = shed
    added = run("plan", "add", "Oil the chuck", "--tool", "drill-1", "--every-loans", "10")
    assert added.exit_code == 0, added.output
    assert run("plan", "add", "Check cords", "--category", "power tools", "--every-days", "30",
               "--blocking").exit_code == 0  # fmt: skip
    listing = run("plan", "list").output
    assert "Oil the chuck" in listing and "every 10 loans" in listing and "blocking" in listing
    with reading(engine) as session:
        plan = session.exec(select(MaintenancePlan).order_by(MaintenancePlan.id)).first()
    logged = run("service", "log", str(plan.id), "DRILL-1", "--note", "oiled")
    assert logged.exit_code == 0 and "recorded under plan" in logged.output
    refused = run("plan", "add", "Nothing", "--tool", "DRILL-1")
    assert refused.exit_code == 1 and "[every_loans]" in refused.output
    assert actions(engine) == [("plan.add", None), ("plan.add", None), ("service.log", None)]


def test_resolve_a_ticket_and_decide_claims_from_the_shell(shed, run):
    engine, ticket_id, claim_id = shed
    unsaid = run("claim", "approve", str(claim_id))
    assert unsaid.exit_code == 2 and "--return-to-service or --keep-out-of-service" in unsaid.output
    kept = run("claim", "approve", str(claim_id), "--keep-out-of-service")
    assert kept.exit_code == 0 and "1.25 h credited; tool left as it is" in kept.output
    with reading(engine) as session:
        assert tickets.get_ticket(session, ticket_id).status == "in_progress"
    assert run("ticket", "resolve", str(ticket_id), "--note", "checked").exit_code == 0
    again = run("claim", "decline", str(claim_id), "--reason", "late")
    assert again.exit_code == 1 and "already approved" in again.output
    assert actions(engine) == [("claim.approve", None), ("ticket.resolve", None)]


def test_ledger_corrections_from_the_shell(shed, run):
    engine, _, claim_id = shed
    run("claim", "approve", str(claim_id), "--return-to-service")
    with reading(engine) as session:
        paid = session.exec(select(Transfer)).one()
    reversed_ = run("transfer", "reverse", str(paid.id), "--reason", "duplicate claim")
    assert reversed_.exit_code == 0, reversed_.output
    twice = run("transfer", "reverse", str(paid.id), "--reason", "again")
    assert twice.exit_code == 1 and "already reversed" in twice.output
    negative = run("credit-limit", "set", "1001", "--", "-3")
    assert negative.exit_code == 1 and "[credit_limit]" in negative.output
    assert (
        run("credit-limit", "set", "1001", "2.5").output == "Member 1001: may owe up to 2.50 h.\n"
    )
    marked = run("fixer", "mark", "1002", "--up-to", "1.5")
    assert marked.output == "Member 1002 is a trusted fixer up to 1.50 h.\n"
    with reading(engine) as session:
        assert ledger.member_balance(session, 2) == Decimal("0.00")  # credited, then reversed
        assert len(session.exec(select(Entry)).all()) == 4
        fixer = claims.trusted_fixer(session, 2)
        assert fixer is not None and fixer.granted_by is None  # the operator
    log = actions(engine)
    assert [name for name, _ in log] == [
        "claim.approve",
        "transfer.reverse",
        "ledger.credit_limit",
        "fixer.mark",
    ]
    with reading(engine) as session:
        limit = audit.recent(session, limit=2)[1]
    assert json.loads(limit.after) == {"credit_limit": "-2.50"}


def test_loan_return_records_a_tool_handed_back_at_the_desk(run, engine):
    with transaction(engine) as session:
        a_kiosk(session)
        tool = a_tool(session, "SAW-1")
        ada = a_member(session, "Ada Lovelace")
        loan = lend_tool(session, tool_id=tool.id, member_id=ada.id)
        tool_id, loan_id = tool.id, loan.id
    refused = run("loan", "return", "SAW-1", "--condition", "needs_repair")
    assert refused.exit_code == 1 and "note" in refused.output
    returned = run("loan", "return", "saw-1", "--condition", "needs_repair", "--note", "Blunt")
    assert returned.exit_code == 0, returned.output
    assert f"SAW-1 is back: loan {loan_id} closed; ticket" in returned.output
    with reading(engine) as session:
        assert session.get(Loan, loan_id).return_condition == "needs_repair"
        assert [t.note for t in tickets.live_tickets(session) if t.tool_id == tool_id] == ["Blunt"]
    assert actions(engine)[-1] == ("loan.return_at_desk", None)
    again = run("loan", "return", "SAW-1", "--condition", "ok")
    assert again.exit_code == 1 and "SAW-1 is not on loan" in again.output
