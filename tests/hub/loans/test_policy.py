"""The borrowing policy (hub/loans/policy.py) on both databases: stewards set it (audited,
refused by field with nothing written), loans on the hub obey it, loan lengths feed due dates,
and kiosks get what they enforce in the allow-list and config."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from hub.errors import InvalidInput, NotFound
from hub.infra.audit import AuditEntry
from hub.infra.db import reading, transaction
from hub.inventory.registry import get_kiosk
from hub.loans import policy
from hub.loans.lending import lend_tool
from hub.loans.policy import BorrowingPaused, LoanLimitReached
from hub.members.ranks import OPERATOR, NotSteward
from hub.members.roster import get_member
from hub.worker.snapshots import build_allowlist, build_config
from tests.hub.builders import a_kiosk, a_member, a_tool

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


@pytest.fixture
def shed(engine):
    with transaction(engine) as session:
        a_kiosk(session, "shed-1")
        ids = {
            "ada": a_member(session, "Ada", uid="04A1B2C3").id,
            "sam": a_member(session, "Sam", roles="member,steward").id,
        }
        for slot, code in enumerate(("DRILL-1", "SAW-1", "LAMP-1"), 1):
            ids[code] = a_tool(session, code, slot=slot).id
    return engine, ids


def lend(engine, ids, code: str, at: datetime = T0):
    with transaction(engine) as session:
        return lend_tool(session, tool_id=ids[code], member_id=ids["ada"], now=at)


def test_a_steward_sets_the_policy_audited(shed):
    engine, ids = shed
    with transaction(engine) as session:
        steward = get_member(session, ids["sam"])
        policy.set_policy(session, steward, max_loans="2", overdue_grace_days=0)
    with reading(engine) as session:
        held = policy.current_policy(session)
        assert (held.max_loans, held.overdue_grace_days, held.max_holds) == (2, 0, 3)
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == "policy.set")).one()
    assert entry.actor_member_id == ids["sam"]
    assert json.loads(entry.after)["max_loans"] == 2


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"max_loans": 0}, "max_loans"),
        ({"max_loans": "lots"}, "max_loans"),
        ({"hold_hours": None}, "hold_hours"),
        ({"overdue_grace_days": 400}, "overdue_grace_days"),
        ({"max_holds": 2, "colour": "red"}, "colour"),
    ],
)
def test_a_bad_setting_is_refused_by_field_and_nothing_is_written(shed, changes, field):
    engine, _ids = shed
    with transaction(engine) as session, pytest.raises(InvalidInput) as refused:
        policy.set_policy(session, OPERATOR, **changes)
    assert refused.value.field == field
    with reading(engine) as session:
        assert session.get(policy.BorrowingPolicy, 1) is None
        assert session.exec(select(AuditEntry)).all() == []


def test_only_a_steward_sets_the_policy(shed):
    engine, ids = shed
    with transaction(engine) as session, pytest.raises(NotSteward):
        policy.set_policy(session, get_member(session, ids["ada"]), max_loans=5)


def test_the_hub_refuses_loans_over_the_limit_and_while_overdue(shed):
    engine, ids = shed
    with transaction(engine) as session:
        policy.set_policy(session, OPERATOR, max_loans=2, overdue_grace_days=3)
    lend(engine, ids, "DRILL-1")  # due T0 + 7 days
    lend(engine, ids, "SAW-1")
    with pytest.raises(LoanLimitReached, match="has 2 tools out; the limit is 2 at once"):
        lend(engine, ids, "LAMP-1")
    with transaction(engine) as session:
        policy.set_policy(session, OPERATOR, max_loans=None)
    with pytest.raises(BorrowingPaused, match="has 2 tools out past their due date") as paused:
        lend(engine, ids, "LAMP-1", at=T0 + timedelta(days=11))
    assert paused.value.field == "member_id"
    lend(engine, ids, "LAMP-1", at=T0 + timedelta(days=10))  # within the grace: lent


def test_loan_length_by_tool_beats_category_beats_the_tools_own(shed):
    engine, ids = shed
    with transaction(engine) as session:
        policy.set_loan_length(session, OPERATOR, category="power tools", days=3)
        policy.set_loan_length(session, OPERATOR, tool_code="SAW-1", days=14)
    drill, saw = lend(engine, ids, "DRILL-1"), lend(engine, ids, "SAW-1")
    assert drill.due_at == T0 + timedelta(days=3)
    assert saw.due_at == T0 + timedelta(days=14)
    with transaction(engine) as session:
        config = build_config(session, get_kiosk(session, "shed-1"))
        assert {s: t.loan_days for s, t in config.lockers.items() if t} == {1: 3, 2: 14, 3: 3}
        assert policy.set_loan_length(session, OPERATOR, category="power tools", days=None) is None
        with pytest.raises(NotFound):
            policy.set_loan_length(session, OPERATOR, category="power tools", days=None)
        with pytest.raises(InvalidInput) as refused:
            policy.set_loan_length(session, OPERATOR, tool_code="SAW-1", days=0)
        assert refused.value.field == "days"


def test_the_allow_list_carries_limits_and_due_times_only_when_set(shed):
    engine, ids = shed
    lend(engine, ids, "DRILL-1")
    with reading(engine) as session:
        plain = build_allowlist(session, now=T0)
    assert plain.limits is None and plain.reservations is None
    assert all(entry.loans_due is None for entry in plain.entries.values())
    with transaction(engine) as session:
        policy.set_policy(session, OPERATOR, max_loans=4, overdue_grace_days=1)
    with reading(engine) as session:
        allowlist = build_allowlist(session, now=T0)
    assert allowlist.limits.max_loans == 4 and allowlist.limits.overdue_grace_days == 1
    assert allowlist.entries["04A1B2C3"].loans_due == {"DRILL-1": T0 + timedelta(days=7)}
