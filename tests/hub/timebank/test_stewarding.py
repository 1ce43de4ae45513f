"""The stewards' timebank doors: claims, trusted fixers, reversals, credit limits, transfers."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from sqlmodel import func, select

from hub.errors import Conflict, InvalidInput, RuleViolation
from hub.infra import audit
from hub.infra.db import reading, transaction
from hub.inventory.registry import ToolStatus, get_tool
from hub.maintenance import tickets
from hub.members.ranks import OPERATOR, NotSteward
from hub.members.roster import get_member
from hub.timebank import claims, ledger, stewarding
from hub.timebank.ledger import Entry, Transfer
from tests.hub.builders import a_kiosk, a_member, a_tool

H = Decimal


@pytest.fixture
def shed(engine):
    """A steward, a volunteer, two members (Ada, Bob), a drill with a blocking ticket and a
    pending claim by Bob for repairing it."""
    with transaction(engine) as session:
        a_kiosk(session)
        tool = a_tool(session)
        steward = a_member(session, "Sam Steward", roles="steward")
        volunteer = a_member(session, "Val Volunteer", roles="volunteer")
        ada, bob = a_member(session, "Ada Lovelace"), a_member(session, "Bob Builder")
        ticket = tickets.open_ticket(
            session,
            tool_id=tool.id,
            note="Chuck slips",
            source="steward",
            opened_by=steward.id,
            blocking=True,
        )
        claim = claims.log_repair(
            session,
            member_id=bob.id,
            tool_id=tool.id,
            hours="1.50",
            note="New chuck",
            source="kiosk",
            ticket_id=ticket.id,
        )
        ids = dict(steward=steward.id, volunteer=volunteer.id, ada=ada.id, bob=bob.id)
        return Shed(engine, ids, tool.id, ticket.id, claim.id)


class Shed:
    def __init__(self, engine, ids, tool_id, ticket_id, claim_id):
        self.engine, self.ids = engine, ids
        self.tool_id, self.ticket_id, self.claim_id = tool_id, ticket_id, claim_id

    def act(self, service, who, *args, **kwargs):
        """Run ``service`` as ``who`` (a name in ``ids``, or "operator") in one transaction."""
        with transaction(self.engine) as session:
            actor = OPERATOR if who == "operator" else get_member(session, self.ids[who])
            return service(session, actor, *args, **kwargs)

    def entries(self) -> list[audit.AuditEntry]:
        with reading(self.engine) as session:
            return audit.recent(session, limit=1000)[::-1]

    def balance(self, who) -> Decimal:
        with reading(self.engine) as session:
            return ledger.member_balance(session, self.ids[who])

    def ledger_rows(self) -> tuple[int, int]:
        with reading(self.engine) as session:
            count = func.count()
            return (
                session.exec(select(count).select_from(Transfer)).one(),
                session.exec(select(count).select_from(Entry)).one(),
            )

    def tool_and_ticket(self):
        with reading(self.engine) as session:
            return (
                get_tool(session, self.tool_id).status,
                tickets.get_ticket(session, self.ticket_id).status,
            )


# --- claims -------------------------------------------------------------------------------


def test_approve_and_return_the_tool_to_service_is_audited_with_the_choice(shed):
    shed.act(stewarding.approve_claim, "steward", shed.claim_id, return_to_service=True)
    assert shed.balance("bob") == H("1.50")
    assert shed.tool_and_ticket() == (ToolStatus.AVAILABLE, "resolved")
    (entry,) = shed.entries()
    assert (entry.action, entry.target, entry.actor_member_id) == (
        "claim.approve",
        f"claim:{shed.claim_id}",
        shed.ids["steward"],
    )
    after = json.loads(entry.after)
    assert (after["status"], after["approved_hours"]) == ("approved", "1.50")
    assert (after["return_to_service"], after["ticket_id"], after["tool_status"]) == (
        True,
        shed.ticket_id,
        "available",
    )
    assert json.loads(entry.before)["status"] == "pending"


def test_approve_and_keep_the_tool_out_leaves_the_ticket_live_and_says_so(shed):
    shed.act(stewarding.approve_claim, "operator", shed.claim_id, return_to_service=False)
    assert shed.balance("bob") == H("1.50")
    assert shed.tool_and_ticket() == (ToolStatus.OUT_OF_SERVICE, "in_progress")
    (entry,) = shed.entries()
    assert entry.actor_member_id is None
    after = json.loads(entry.after)
    assert (after["return_to_service"], after["tool_status"]) == (False, "out_of_service")
    with reading(shed.engine) as session:
        assert claims.get_claim(session, shed.claim_id).auto_approved is False


def test_decline_is_audited_and_a_decided_claim_is_a_conflict(shed):
    shed.act(stewarding.decline_claim, "steward", shed.claim_id, "not a repair")
    assert shed.tool_and_ticket() == (ToolStatus.OUT_OF_SERVICE, "in_progress")
    with pytest.raises(Conflict):
        shed.act(stewarding.approve_claim, "steward", shed.claim_id, return_to_service=True)
    (entry,) = shed.entries()
    assert entry.action == "claim.decline"
    assert json.loads(entry.after)["decision_reason"] == "not a repair"
    assert shed.ledger_rows() == (0, 0)


def test_claim_refusals_name_the_field_and_write_nothing(shed):
    with pytest.raises(NotSteward):
        shed.act(stewarding.approve_claim, "volunteer", shed.claim_id, return_to_service=True)
    with pytest.raises(RuleViolation) as own:
        shed.act(stewarding.approve_claim, "bob", shed.claim_id, return_to_service=True)
    assert own.value.field in ("actor", "claim_id")
    with pytest.raises(InvalidInput) as no_reason:
        shed.act(
            stewarding.approve_claim, "steward", shed.claim_id, return_to_service=True, hours="1"
        )
    assert no_reason.value.field == "reason"
    with pytest.raises(InvalidInput) as blank:
        shed.act(stewarding.decline_claim, "steward", shed.claim_id, "   ")
    assert blank.value.field == "reason"
    assert shed.entries() == [] and shed.ledger_rows() == (0, 0)


# --- trusted fixers -----------------------------------------------------------------------


def test_mark_change_and_unmark_a_trusted_fixer_each_audited(shed):
    shed.act(stewarding.mark_trusted_fixer, "operator", shed.ids["ada"])
    shed.act(stewarding.mark_trusted_fixer, "steward", shed.ids["ada"], "3.50")
    shed.act(stewarding.unmark_trusted_fixer, "steward", shed.ids["ada"])
    marked, changed, unmarked = shed.entries()
    assert [e.action for e in (marked, changed, unmarked)] == [
        "fixer.mark",
        "fixer.mark",
        "fixer.unmark",
    ]
    assert marked.before is None
    assert json.loads(marked.after) == {"auto_approve_up_to": "2.00", "granted_by": None}
    assert json.loads(changed.after) == {
        "auto_approve_up_to": "3.50",
        "granted_by": shed.ids["steward"],
    }
    assert unmarked.after is None and json.loads(unmarked.before)["auto_approve_up_to"] == "3.50"
    with reading(shed.engine) as session:
        assert claims.trusted_fixer(session, shed.ids["ada"]) is None
    with pytest.raises(InvalidInput):
        shed.act(stewarding.unmark_trusted_fixer, "steward", shed.ids["ada"])
    with pytest.raises(RuleViolation):
        shed.act(stewarding.mark_trusted_fixer, "steward", shed.ids["steward"])
    with pytest.raises(NotSteward):
        shed.act(stewarding.mark_trusted_fixer, "volunteer", shed.ids["ada"])


# --- reversals ----------------------------------------------------------------------------


def _paid(shed, hours="2.00"):
    """Ada pays Bob ``hours``; return the transfer."""
    return shed.act(
        stewarding.transfer_hours,
        "steward",
        payer_id=shed.ids["ada"],
        payee_id=shed.ids["bob"],
        hours=hours,
        description="Taught the lathe workshop",
        category="workshop",
    )


def test_a_steward_transfer_and_its_reversal_each_audited_once(shed):
    paid = _paid(shed)
    assert (shed.balance("ada"), shed.balance("bob")) == (H("-2.00"), H("2.00"))
    correction = shed.act(stewarding.reverse_transfer, "steward", paid.id, "wrong member")
    assert (shed.balance("ada"), shed.balance("bob")) == (H("0.00"), H("0.00"))
    assert correction.reverses_transfer_id == paid.id
    with pytest.raises(Conflict) as twice:
        shed.act(stewarding.reverse_transfer, "steward", paid.id, "wrong member")
    assert twice.value.field == "transfer_id"
    assert f"already reversed by transfer {correction.id}" in twice.value.message
    entered, reversed_ = shed.entries()
    assert (entered.action, entered.target) == ("transfer.enter", f"transfer:{paid.id}")
    assert json.loads(entered.after)["hours"] == "2.00"
    assert (reversed_.action, reversed_.target) == ("transfer.reverse", f"transfer:{paid.id}")
    assert json.loads(reversed_.after)["correction_id"] == correction.id
    assert json.loads(reversed_.after)["reason"] == "wrong member"
    assert shed.ledger_rows() == (2, 4)


def test_a_repeated_transfer_key_pays_and_audits_once(shed):
    for _ in range(2):
        shed.act(
            stewarding.transfer_hours,
            "steward",
            payer_id=shed.ids["ada"],
            payee_id=shed.ids["bob"],
            hours="1.00",
            description="Workshop",
            category="workshop",
            key="form-123",
        )
    assert shed.ledger_rows() == (1, 2) and len(shed.entries()) == 1


def test_a_transfer_beyond_the_payers_limit_is_refused_and_nothing_is_written(shed):
    shed.act(stewarding.set_credit_limit, "steward", shed.ids["ada"], "1.00")
    count = len(shed.entries())
    with pytest.raises(RuleViolation) as refused:
        _paid(shed, "1.50")
    assert refused.value.field == "hours" and "below its limit" in refused.value.message
    assert shed.ledger_rows() == (0, 0) and len(shed.entries()) == count


def test_volunteers_may_not_correct_the_ledger(shed):
    paid = _paid(shed)
    with pytest.raises(NotSteward):
        shed.act(stewarding.reverse_transfer, "volunteer", paid.id, "oops")
    with pytest.raises(NotSteward):
        shed.act(stewarding.set_credit_limit, "volunteer", shed.ids["ada"], "5")
    with pytest.raises(NotSteward):
        shed.act(
            stewarding.transfer_hours,
            "volunteer",
            payer_id=shed.ids["ada"],
            payee_id=shed.ids["bob"],
            hours="1",
            description="x",
            category="x",
        )
    assert shed.ledger_rows() == (1, 2)


# --- credit limits ------------------------------------------------------------------------


def test_credit_limit_is_the_hours_a_member_may_owe_audited(shed):
    shed.act(stewarding.set_credit_limit, "steward", shed.ids["ada"], "4.50")
    shed.act(stewarding.set_credit_limit, "operator", shed.ids["ada"], None)
    shed.act(stewarding.set_credit_limit, "steward", shed.ids["ada"], "0")
    first, unlimited, zero = shed.entries()
    assert (first.action, first.target) == ("ledger.credit_limit", "member:1003")
    assert json.loads(first.before) == {"credit_limit": "-10.00"}
    assert json.loads(first.after) == {"credit_limit": "-4.50"}
    assert json.loads(unlimited.after) == {"credit_limit": None}
    assert json.loads(zero.after) == {"credit_limit": "0.00"}


@pytest.mark.parametrize("may_owe", ["-1", "-0.5", "1.234", "lots", 1.5])
def test_a_bad_credit_limit_is_refused_naming_the_field(shed, may_owe):
    with pytest.raises(InvalidInput) as refused:
        shed.act(stewarding.set_credit_limit, "steward", shed.ids["ada"], may_owe)
    assert refused.value.field == "credit_limit"
    assert shed.entries() == []


def test_a_limit_the_member_is_already_beyond_is_refused(shed):
    _paid(shed, "3.00")
    with pytest.raises(RuleViolation) as refused:
        shed.act(stewarding.set_credit_limit, "steward", shed.ids["ada"], "2")
    assert refused.value.field == "credit_limit"


# --- the community account ----------------------------------------------------------------


def test_the_community_account_shows_its_balance_and_its_own_transfers(shed):
    with reading(shed.engine) as session:
        empty = stewarding.community_account(session)
    assert (empty.account_id, empty.balance, empty.transfers) == (None, H("0.00"), [])
    shed.act(stewarding.approve_claim, "steward", shed.claim_id, return_to_service=True)
    _paid(shed)  # between members: not the pool's
    with reading(shed.engine) as session:
        pool = stewarding.community_account(session)
    assert pool.balance == H("-1.50")
    assert [(t.payer, t.hours) for t in pool.transfers] == [("Community pool", H("1.50"))]
