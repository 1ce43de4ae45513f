"""The timebank ledger: every balance, and one member's statement (stewards only).

The ledger is open to members, but its rows carry members' names and the API has no member
sign-in yet, so here it is for stewards only.
"""

from __future__ import annotations

from dashboard.database import reading
from hub.members import roster
from hub.timebank import ledger, statements

from .blueprint import api
from .schemas import BalanceOut, BalanceSheet, Statement, StatementLineOut, StatementRange

ID = "<int(min=1, max=2147483647):member_id>"


@api.operation("GET", "/ledger/balances", response=BalanceSheet, tag="ledger")
def list_balances() -> BalanceSheet:
    """List every account's balance in hours: the community pool first, then members by name.

    The balances always sum to zero (double entry). Stewards only: rows carry names.
    """
    with reading() as db:
        sheet = statements.balance_sheet(db)
    return BalanceSheet(balances=[BalanceOut(**vars(row)) for row in sheet])


@api.operation(
    "GET",
    f"/ledger/members/{ID}/statement",
    query=StatementRange,
    response=Statement,
    tag="ledger",
)
def show_statement(member_id: int, query: StatementRange) -> Statement:
    """Show a member's transfers, oldest first, with the running balance after each.

    ``since`` and ``until`` narrow the lines; the running balance still counts everything
    before ``since``. Stewards only.
    """
    with reading() as db:
        member = roster.get_member(db, member_id)
        lines = statements.statement(db, member.id, since=query.since, until=query.until)
        held = ledger.member_balance(db, member.id)
    return Statement(
        member_id=member.id,
        number=member.number,
        balance=held,
        lines=[StatementLineOut(**vars(line)) for line in lines],
    )
