"""The timebank ledger: every balance, a member's statement, the community pool, and the
stewards' corrections: reversals, credit limits, trusted fixers, transfers between members.

The ledger is open to members, but its rows carry members' names and the API has no member
sign-in yet, so here it is for stewards only.
"""

from __future__ import annotations

from sqlmodel import Session

from dashboard.auth import acting_member
from dashboard.database import reading, transaction
from hub.errors import NotFound
from hub.members import roster
from hub.members.roster import Member
from hub.timebank import ledger, statements, stewarding

from .blueprint import api
from .schemas import BalanceOut, BalanceSheet, Statement, StatementLineOut, StatementRange
from .upkeep_schemas import (
    CommunityOut,
    CreditLimit,
    CreditLimitOut,
    NewTransfer,
    Reversal,
    TransferOut,
    TrustedFixerIn,
    TrustedFixerOut,
)

ID = "<int(min=1, max=2147483647):member_id>"
TRANSFER = "<int(min=1, max=2147483647):transfer_id>"
NUMBER = "<string(maxlength=20):number>"


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


# --- corrections and steward transfers ----------------------------------------------------


@api.operation(
    "POST",
    f"/transfers/{TRANSFER}/reverse",
    body=Reversal,
    response=TransferOut,
    status=201,
    refusals=(404, 409),
    tag="ledger",
)
def reverse_transfer(transfer_id: int, body: Reversal) -> TransferOut:
    """Correct a transfer by posting its mirror image, with the reason in its description.

    A transfer is reversed once: again is a conflict (409) naming the reversal. A correction is
    not itself reversed (422: post a new transfer). The reversal obeys the credit limit of
    whoever now pays (422). Stewards only; audited.
    """
    with transaction() as db:
        correction = stewarding.reverse_transfer(db, acting_member(), transfer_id, body.reason)
        return transfer_out(db, correction)


@api.operation(
    "POST",
    "/transfers",
    body=NewTransfer,
    response=TransferOut,
    status=201,
    refusals=(404, 409),
    tag="ledger",
)
def enter_transfer(body: NewTransfer) -> TransferOut:
    """Enter a transfer of hours from one member to another (say, for a workshop taught).

    Both must be active (403 otherwise); the payer's credit limit holds (422, nothing written).
    A repeat with the same ``key`` returns the transfer already posted; the same key with
    other content is a conflict (409). Stewards only; audited.
    """
    with transaction() as db:
        payer = _numbered(db, body.payer, "payer")
        payee = _numbered(db, body.payee, "payee")
        transfer = stewarding.transfer_hours(
            db,
            acting_member(),
            payer_id=payer.id,
            payee_id=payee.id,
            hours=body.hours,
            description=body.description,
            category=body.category,
            key=body.key,
        )
        return transfer_out(db, transfer)


@api.operation(
    "PUT",
    f"/members/{NUMBER}/credit-limit",
    body=CreditLimit,
    response=CreditLimitOut,
    refusals=(404,),
    tag="ledger",
)
def set_credit_limit(number: str, body: CreditLimit) -> CreditLimitOut:
    """Set how many hours a member may owe (their balance may go down to minus that); null
    for no limit. A limit the member is already beyond is refused (422). Stewards only;
    audited."""
    with transaction() as db:
        member = _numbered(db, number, "number")
        account = stewarding.set_credit_limit(db, acting_member(), member.id, body.credit_limit)
        floor = account.credit_limit
        return CreditLimitOut(
            number=member.number,
            balance=ledger.balance(db, account.id),
            credit_limit=None if floor is None else abs(floor),  # the floor is 0 or below
        )


@api.operation(
    "POST",
    f"/members/{NUMBER}/trusted-fixer",
    body=TrustedFixerIn,
    response=TrustedFixerOut,
    refusals=(404,),
    tag="ledger",
)
def mark_trusted_fixer(number: str, body: TrustedFixerIn) -> TrustedFixerOut:
    """Trust a member's repair claims up to ``up_to`` hours each to be approved at once (again:
    a new limit). Not for oneself (422). Stewards only; audited."""
    with transaction() as db:
        member = _numbered(db, number, "number")
        fixer = stewarding.mark_trusted_fixer(db, acting_member(), member.id, body.up_to)
        return TrustedFixerOut(number=member.number, trusted=True, up_to=fixer.auto_approve_up_to)


@api.operation(
    "DELETE",
    f"/members/{NUMBER}/trusted-fixer",
    response=TrustedFixerOut,
    refusals=(404,),
    tag="ledger",
)
def unmark_trusted_fixer(number: str) -> TrustedFixerOut:
    """Stop approving a member's claims at once (422 if they were not trusted). Stewards only;
    audited."""
    with transaction() as db:
        member = _numbered(db, number, "number")
        stewarding.unmark_trusted_fixer(db, acting_member(), member.id)
        return TrustedFixerOut(number=member.number, trusted=False, up_to=None)


@api.operation("GET", "/ledger/community", response=CommunityOut, tag="ledger")
def show_community_account() -> CommunityOut:
    """Show the community pool: what it holds and its latest transfers, newest first.

    The pool pays repair credits and receives booking fees. Stewards only.
    """
    with reading() as db:
        pool = stewarding.community_account(db)
        transfers = [
            transfer_out(db, ledger.get_transfer(db, view.transfer_id)) for view in pool.transfers
        ]
    return CommunityOut(balance=pool.balance, transfers=transfers)


def _numbered(db: Session, number: str, field: str) -> Member:
    """Return member ``number``, or refuse naming ``field`` (the request's name for them)."""
    try:
        return roster.member_by_number(db, number)
    except NotFound as missing:
        raise NotFound(missing.message, field=field) from None


def transfer_out(db: Session, transfer: ledger.Transfer) -> TransferOut:
    """Return a transfer with who paid whom how much."""
    legs = ledger.transfer_legs(db, transfer.id)
    return TransferOut(
        id=transfer.id,
        kind=transfer.kind,
        description=transfer.description,
        category=transfer.category,
        hours=legs.amount,
        payer=ledger.describe_account(db, ledger.get_account(db, legs.payer_account_id)),
        payee=ledger.describe_account(db, ledger.get_account(db, legs.payee_account_id)),
        created_at=transfer.created_at,
        created_by=transfer.created_by,
        reverses_transfer_id=transfer.reverses_transfer_id,
    )
