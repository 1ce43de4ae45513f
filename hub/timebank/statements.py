"""Read the ledger for people: member statements (CSV too) and the open-ledger view.

The timebank is an open ledger: every member may see every balance and every transfer. These
functions return plain data for the dashboard; they never write.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TextIO

from sqlalchemy import func
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from hub.infra.csv_cells import write_csv
from hub.members.roster import Member, get_member
from hub.timebank.ledger import Account, Entry, Transfer, find_member_account

CSV_HEADER = [
    "date",
    "transfer",
    "kind",
    "description",
    "category",
    "counterparty",
    "hours",
    "balance",
]


@dataclass(frozen=True)
class StatementLine:
    """One transfer as a member sees it: signed hours and the balance after it."""

    at: datetime
    transfer_id: int
    kind: str
    description: str
    category: str | None
    counterparty: str
    hours: Decimal
    balance: Decimal


@dataclass(frozen=True)
class AccountBalance:
    """One row of the balance sheet."""

    account_id: int
    member_id: int | None
    number: str | None
    name: str
    balance: Decimal
    credit_limit: Decimal | None


@dataclass(frozen=True)
class TransferView:
    """One transfer as the open ledger shows it."""

    transfer_id: int
    at: datetime
    kind: str
    description: str
    category: str | None
    payer: str
    payee: str
    hours: Decimal
    reverses_transfer_id: int | None


COMMUNITY_NAME = "Community pool"


def statement(
    session: Session,
    member_id: int,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[StatementLine]:
    """Return a member's transfers, oldest first, with the running balance after each.

    With ``since``, the running balance still counts everything before it.
    """
    account = find_member_account(session, get_member(session, member_id).id)
    if account is None:
        return []
    mine, theirs = aliased(Entry), aliased(Entry)
    query = (
        select(Transfer, mine.amount, theirs.account_id)
        .join(mine, mine.transfer_id == Transfer.id)
        .join(theirs, (theirs.transfer_id == Transfer.id) & (theirs.id != mine.id))
        .where(mine.account_id == account.id)
        .order_by(Transfer.created_at, Transfer.id)
    )
    if until is not None:
        query = query.where(Transfer.created_at < until)
    names = _account_names(session)
    running, lines = Decimal("0.00"), []
    for transfer, amount, other_account_id in session.exec(query):
        running += amount
        if since is None or transfer.created_at >= since:
            lines.append(
                StatementLine(
                    transfer.created_at,
                    transfer.id,
                    transfer.kind,
                    transfer.description,
                    transfer.category,
                    names[other_account_id],
                    amount,
                    running,
                )
            )
    return lines


def write_statement_csv(
    session: Session,
    member_id: int,
    out: TextIO,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> None:
    """Write a member's statement to ``out`` as CSV (UTC times, hours with two decimals;
    member-written text defused by ``hub.infra.csv_cells``)."""
    rows = (
        [
            line.at.isoformat(),
            line.transfer_id,
            line.kind,
            line.description,
            line.category or "",
            line.counterparty,
            f"{line.hours:.2f}",
            f"{line.balance:.2f}",
        ]
        for line in statement(session, member_id, since=since, until=until)
    )
    write_csv(out, CSV_HEADER, rows, lineterminator="\r\n")


def statement_csv(
    session: Session,
    member_id: int,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> str:
    """Return a member's statement as CSV text."""
    out = io.StringIO()
    write_statement_csv(session, member_id, out, since=since, until=until)
    return out.getvalue()


def balance_sheet(session: Session) -> list[AccountBalance]:
    """Return every account's balance: the community pool first, then members by name."""
    # Two queries, not one join: the sum is then a single pass over the covering index, which
    # SQLite's planner does not manage when the grouped sum sits in a joined subquery.
    held = dict(
        session.exec(
            select(Entry.account_id, func.sum(Entry.amount)).group_by(Entry.account_id)
        ).all()
    )
    query = select(Account, Member.number, Member.name).outerjoin(
        Member, Member.id == Account.member_id
    )
    rows = [
        AccountBalance(
            account.id,
            account.member_id,
            number,
            name or COMMUNITY_NAME,
            held.get(account.id, Decimal("0.00")),
            account.credit_limit,
        )
        for account, number, name in session.exec(query)
    ]
    return sorted(rows, key=lambda row: (row.member_id is not None, row.name, row.account_id))


def sum_of_balances(session: Session) -> Decimal:
    """Return the sum of every balance, which double entry keeps at exactly zero."""
    return session.exec(select(func.sum(Entry.amount))).one() or Decimal("0.00")


def recent_transfers(
    session: Session, *, limit: int = 50, account_id: int | None = None
) -> list[TransferView]:
    """Return the latest transfers, newest first, with payer, payee and hours; optionally only
    those to or from one account."""
    paid, received = aliased(Entry), aliased(Entry)
    query = (
        select(Transfer, paid.account_id, received.account_id, received.amount)
        .join(paid, (paid.transfer_id == Transfer.id) & (paid.amount < 0))
        .join(received, (received.transfer_id == Transfer.id) & (received.amount > 0))
        .order_by(Transfer.created_at.desc(), Transfer.id.desc())
        .limit(limit)
    )
    if account_id is not None:
        query = query.where((paid.account_id == account_id) | (received.account_id == account_id))
    names = _account_names(session)
    return [
        TransferView(
            t.id,
            t.created_at,
            t.kind,
            t.description,
            t.category,
            names[payer],
            names[payee],
            hours,
            t.reverses_transfer_id,
        )
        for t, payer, payee, hours in session.exec(query)
    ]


def _account_names(session: Session) -> dict[int, str]:
    """Return a display name for every account: 'number name' or the community pool."""
    query = select(Account.id, Member.number, Member.name).outerjoin(
        Member, Member.id == Account.member_id
    )
    return {
        account_id: f"{number} {name}" if number else COMMUNITY_NAME
        for account_id, number, name in session.exec(query)
        if account_id is not None  # a stored row has its id
    }
