"""The steward's Loans page: conflicts listed and resolved with a reason, a loan ended by an
audited correction; the CLI's `loan` commands do the same; the kiosks page flags a skewed
clock. On the demo library, both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlmodel import select

from broker import messages as wire
from commonshed.cli import main
from hub.infra import audit
from hub.infra.db import reading, transaction
from hub.inventory.registry import tool_by_code
from hub.loans.kiosk import Stamp, record_loan_out
from hub.loans.records import Loan, open_loan
from hub.members.roster import card_by_uid, get_member
from hub.worker.events import apply_event
from tests.dashboard.conftest import csrf_token

RAVI = "C0DE0006"


@pytest.fixture
def conflict(app, engine) -> tuple[int, int]:
    """Return (the conflicting loan, TENT-1's earlier loan): shed-2 lent TENT-1 to Ravi."""
    now = datetime.now(UTC)
    with transaction(engine) as session:
        tent = tool_by_code(session, "TENT-1")
        ravi = get_member(session, card_by_uid(session, RAVI).member_id)
        earlier = open_loan(session, tent.id)
        recorded = record_loan_out(session, Stamp("shed-2", "e-1", 7, 0, now, now), ravi, tent)
        return recorded.loan.id, earlier.id


@pytest.fixture
def post(steward):
    token = csrf_token(steward, "/steward/loans")

    def send(url: str, **form):
        return steward.post(url, data={"csrf_token": token, **form})

    return send


def test_the_front_page_and_the_loans_page_show_the_conflict(steward, conflict):
    front = steward.get("/steward/").get_data(as_text=True)
    assert "loan conflicts" in front and "TENT-1 taken by" in front
    page = steward.get("/steward/loans").get_data(as_text=True)
    assert "while on loan to 1005 since" in page and "check the locker" in page
    assert f'action="/steward/loans/{conflict[0]}/resolve"' in page


def test_resolving_needs_a_reason_and_changes_nothing_without_one(post, engine, conflict):
    response = post(f"/steward/loans/{conflict[0]}/resolve", keep="new", reason=" ")
    assert response.status_code == 422 and "<code>reason</code>" in response.get_data(True)
    with reading(engine) as session:
        assert session.get(Loan, conflict[0]).in_conflict
        assert session.get(Loan, conflict[1]).returned_at is None


def test_keeping_the_earlier_loan_voids_the_conflicting_one(post, engine, conflict):
    response = post(f"/steward/loans/{conflict[0]}/resolve", keep="earlier", reason="in locker")
    assert response.status_code == 302
    with reading(engine) as session:
        void, kept = session.get(Loan, conflict[0]), session.get(Loan, conflict[1])
        assert not void.in_conflict and void.returned_at is not None
        assert void.conflict_resolution == "kept the earlier loan: in locker"
        assert kept.returned_at is None
        assert audit.recent(session, limit=1)[0].action == "loan.resolve_conflict"


def test_ending_a_loan_by_correction_is_audited_with_the_steward(post, engine, conflict):
    response = post(f"/steward/loans/{conflict[1]}/end", reason="Lost on a camping trip")
    assert response.status_code == 302
    with reading(engine) as session:
        ended = session.get(Loan, conflict[1])
        assert ended.correction_reason == "Lost on a camping trip"
        entry = audit.recent(session, limit=1)[0]
        assert (entry.action, entry.target) == ("loan.correct", f"loan:{conflict[1]}")
        assert entry.actor_member_id == ended.corrected_by


def test_the_cli_lists_and_resolves_conflicts(database_url, engine, conflict, tmp_path):
    def run(*args: str):
        hub = ["hub", "--data-dir", str(tmp_path), "--database-url", database_url]
        return CliRunner().invoke(main, [*hub, "loan", *args])

    listed = run("list", "--conflicts")
    assert listed.exit_code == 0 and f"{conflict[0]:<6} TENT-1 taken by" in listed.output
    refused = run(
        "resolve", str(conflict[0]), "--keep", "new", "--steward", "1005", "--reason", "x"
    )
    assert refused.exit_code == 1 and "Only stewards may correct loans" in refused.output
    done = run("resolve", str(conflict[0]), "--keep", "new", "--steward", "1001", "--reason", "ok")
    assert done.exit_code == 0, done.output
    with reading(engine) as session:
        assert session.get(Loan, conflict[1]).corrected_by is not None
        assert session.exec(select(Loan).where(Loan.in_conflict.is_(True))).all() == []


def test_the_kiosks_page_flags_a_kiosk_clock_an_hour_fast(steward, engine):
    door = wire.DoorClosedEvent(
        event_id=wire.new_message_id(),
        kiosk_id="shed-1",
        seq=0,
        kiosk_time=datetime.now(UTC) + timedelta(hours=1),
        body=wire.DoorChange(locker_slot=1),
    )
    with transaction(engine) as session:
        apply_event(session, door)
    page = steward.get("/steward/kiosks").get_data(as_text=True)
    assert "about 60 min ahead of the hub" in page and "clock off" in page


# --- a tool handed back at the desk ---------------------------------------------------------


def test_a_tool_handed_back_at_the_desk_closes_its_loan_and_is_audited(steward, post, engine):
    with reading(engine) as session:
        tent = tool_by_code(session, "TENT-1")
        loan = open_loan(session, tent.id)
    page = steward.get("/steward/loans").get_data(as_text=True)
    assert f'action="/steward/tools/{tent.id}/return"' in page
    assert 'data-confirm="Record TENT-1 as handed back by' in page
    refused = post(f"/steward/tools/{tent.id}/return", condition="needs_repair", note=" ")
    assert refused.status_code == 422 and "<code>note</code>" in refused.get_data(True)
    with reading(engine) as session:
        assert open_loan(session, tent.id).id == loan.id
    answer = post(f"/steward/tools/{tent.id}/return", condition="needs_repair", note="Pole bent")
    assert answer.status_code == 302
    with reading(engine) as session:
        closed = session.get(Loan, loan.id)
        assert closed.returned_at is not None and closed.return_condition == "needs_repair"
        assert tool_by_code(session, "TENT-1").status == "out_of_service"
        entries = [e for e in audit.recent(session, limit=50) if e.action == "loan.return_at_desk"]
    assert [(e.target, e.actor_member_id) for e in entries] == [(f"loan:{loan.id}", 1)]
    again = post(f"/steward/tools/{tent.id}/return", condition="ok")
    assert again.status_code == 404 and "is not on loan" in again.get_data(True)
