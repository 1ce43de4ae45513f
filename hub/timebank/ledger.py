"""The timebank's double-entry ledger: accounts, transfers and their two entries.

Every transfer is exactly two entries, one taking hours from the payer and one giving the same
hours to the payee, so the sum of all balances is always zero. Entries and transfers are never
updated or deleted (database triggers refuse it); a correction is a new transfer that reverses
the original. Balances are derived from the entries, never stored.

A repeated request is safe: each transfer carries a caller-chosen key, and posting the same key
with the same content returns the transfer already recorded instead of paying twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Column, Dialect, Index, Numeric, func, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.types import TypeDecorator, TypeEngine
from sqlmodel import Field, Session, SQLModel, select
from sqlmodel.sql.expression import SelectOfScalar

from hub.errors import Conflict, InvalidInput, NotFound, RuleViolation
from hub.infra import audit
from hub.infra.clock import utcnow
from hub.members.roster import Member, Role, clean_text, get_member, require_active

CENT = Decimal("0.01")
DEFAULT_MEMBER_CREDIT_LIMIT = Decimal("-10.00")
COMMUNITY_CREDIT_LIMIT: Decimal | None = None  # the pool may run negative without limit
MAX_TRANSFER_HOURS = Decimal("1000")
KEY_MAX = 100
DESCRIPTION_MAX = 200
CATEGORY_MAX = 60
REASON_MAX = 150  # fits in a correction's description after "Correction of transfer N: "
COMMUNITY_ONLY = text("member_id IS NULL")


class HoursType(TypeDecorator[Decimal]):
    """Store hours exactly: NUMERIC(12,2) on PostgreSQL, whole hundredths on SQLite."""

    # NOTE: SQLite has no decimal type; a NUMERIC column there keeps 0.10 as a binary double and
    # SUM of ten of them is 0.9999999999999999. Integer hundredths add up exactly.
    impl = Numeric(12, 2)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(12, 2, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Decimal | int | None:
        if value is None or dialect.name != "sqlite":
            return value
        return int(Decimal(value).scaleb(2).to_integral_exact())

    def process_result_value(self, value: object, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        hours = Decimal(value).scaleb(-2) if dialect.name == "sqlite" else Decimal(value)
        return hours.quantize(CENT)


class AccountKind(StrEnum):
    MEMBER = "member"
    COMMUNITY = "community"


class TransferKind(StrEnum):
    REPAIR_CREDIT = "repair_credit"
    EXCHANGE = "exchange"
    CORRECTION = "correction"
    BOOKING_FEE = "booking_fee"
    OPENING = "opening"
    COMMONS_SPEND = "commons_spend"  # a passed proposal spends the pool (hub.market)


class Account(SQLModel, table=True):
    __tablename__ = "ledger_account"
    # One community account at most: the only account without a member.
    __table_args__ = (
        Index(
            "uq_ledger_account_community",
            "kind",
            unique=True,
            sqlite_where=COMMUNITY_ONLY,
            postgresql_where=COMMUNITY_ONLY,
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)
    member_id: int | None = Field(default=None, foreign_key="member.id", unique=True)
    # The lowest balance the account may reach; None means no limit.
    credit_limit: Decimal | None = Field(default=None, sa_column=Column(HoursType()))
    created_at: datetime = Field(default_factory=utcnow)


class Transfer(SQLModel, table=True):
    __tablename__ = "ledger_transfer"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=KEY_MAX, unique=True)
    kind: str = Field(max_length=16, index=True)
    description: str = Field(max_length=DESCRIPTION_MAX)
    category: str | None = Field(default=None, max_length=CATEGORY_MAX)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    created_by: int | None = Field(default=None, foreign_key="member.id")
    # Unique: a transfer is reversed at most once.
    reverses_transfer_id: int | None = Field(
        default=None, foreign_key="ledger_transfer.id", unique=True
    )


TRANSFER_FIELDS = ("kind", "description", "category", "created_by", "reverses_transfer_id")
# A steward corrects the ledger (a reversal) or enters a transfer between two members.
TRANSFER_REVERSE = audit.Action("transfer.reverse", TRANSFER_FIELDS)
TRANSFER_ENTER = audit.Action("transfer.enter", TRANSFER_FIELDS)
CREDIT_LIMIT_SET = audit.Action("ledger.credit_limit", ("credit_limit",))


class Entry(SQLModel, table=True):
    __tablename__ = "ledger_entry"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="ck_ledger_entry_nonzero"),
        # Covering: a balance is summed from the index alone, without visiting the table.
        Index("ix_ledger_entry_account_amount", "account_id", "amount"),
    )

    id: int | None = Field(default=None, primary_key=True)
    transfer_id: int = Field(foreign_key="ledger_transfer.id", index=True)
    account_id: int = Field(foreign_key="ledger_account.id")
    amount: Decimal = Field(sa_column=Column(HoursType(), nullable=False))


@dataclass(frozen=True)
class Legs:
    """What a transfer moved: ``amount`` hours from ``payer_account_id`` to ``payee_account_id``."""

    payer_account_id: int
    payee_account_id: int
    amount: Decimal


# --- validation ---------------------------------------------------------------------------


def parse_hours(
    value: Decimal | int | str, field: str = "hours", *, maximum: Decimal = MAX_TRANSFER_HOURS
) -> Decimal:
    """Return ``value`` as positive hours with at most two decimals, up to ``maximum``."""
    if isinstance(value, bool | float):
        # NOTE: a float has already lost the exact value; callers pass Decimal, int or text.
        raise InvalidInput(
            f"{field} must be given as a decimal or text, not {value!r}.", field=field
        )
    try:
        hours = Decimal(str(value).strip())
    except InvalidOperation:
        raise InvalidInput(f"{field} {value!r} is not a number of hours.", field=field) from None
    if not hours.is_finite() or hours <= 0:
        raise InvalidInput(f"{field} must be more than 0 hours, not {value}.", field=field)
    if hours != hours.quantize(CENT):
        raise InvalidInput(f"{field} {value} has more than two decimal places.", field=field)
    if hours > maximum:
        raise InvalidInput(
            f"{field} {value} is more than the {maximum} hours allowed.", field=field
        )
    return hours.quantize(CENT)


def parse_key(value: str) -> str:
    """Return an idempotency key (1-100 characters) or refuse it."""
    return clean_text(value, "key", limit=KEY_MAX)


# --- accounts -----------------------------------------------------------------------------


def community_account(session: Session) -> Account:
    """Return the community pool's account, opening it on first use."""
    query = select(Account).where(Account.member_id.is_(None))
    return session.exec(query).first() or _open_account(
        session, Account(kind=AccountKind.COMMUNITY, credit_limit=COMMUNITY_CREDIT_LIMIT), query
    )


def member_account(session: Session, member_id: int) -> Account:
    """Return member ``member_id``'s account, opening it on first use."""
    member = get_member(session, member_id)
    query = select(Account).where(Account.member_id == member.id)
    return session.exec(query).first() or _open_account(
        session,
        Account(
            kind=AccountKind.MEMBER, member_id=member.id, credit_limit=DEFAULT_MEMBER_CREDIT_LIMIT
        ),
        query,
    )


def find_member_account(session: Session, member_id: int) -> Account | None:
    """Return member ``member_id``'s account if it was opened, without opening it."""
    return session.exec(select(Account).where(Account.member_id == member_id)).first()


def _open_account(session: Session, account: Account, query: SelectOfScalar[Account]) -> Account:
    """Insert ``account``; if a concurrent transaction opened it first, return theirs."""
    try:
        with session.begin_nested():
            session.add(account)
    except IntegrityError:
        return session.exec(query).one()
    return account


def get_account(session: Session, account_id: int) -> Account:
    """Return account ``account_id`` or refuse."""
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound(f"Ledger account {account_id} does not exist.", field="account_id")
    return account


def apply_credit_limit(session: Session, account_id: int, limit: Decimal | None) -> Account:
    """Set the lowest balance an account may reach (None: no limit), refusing one below what
    the account already holds (the caller has checked who may:
    :func:`hub.timebank.stewarding.set_credit_limit`)."""
    account = _lock_account(session, account_id)
    limit = _parse_limit(limit)
    held = balance(session, account.id)
    if limit is not None and held < limit:
        raise RuleViolation(
            f"Account {account.id} holds {held} hours, below the proposed credit limit of {limit}.",
            field="credit_limit",
        )
    account.credit_limit = limit
    session.add(account)
    return account


def _parse_limit(limit: Decimal | int | str | None) -> Decimal | None:
    """Return a credit limit (zero or negative hours) or refuse it."""
    if limit is None:
        return None
    floor = Decimal(str(limit))
    if floor > 0:
        raise InvalidInput(
            f"A credit limit is zero or negative hours, not {limit}.", field="credit_limit"
        )
    return -parse_hours(-floor, "credit_limit") if floor else Decimal("0.00")


def _lock_account(session: Session, account_id: int) -> Account:
    """Return the account row locked until commit, so balance checks on it are serialised."""
    # NOTE: FOR NO KEY UPDATE, not FOR UPDATE: entries pointing at the account take a key-share
    # lock, and FOR UPDATE would make two opposite transfers deadlock. SQLite ignores the clause;
    # its BEGIN IMMEDIATE already serialises writers.
    query = (
        select(Account)
        .where(Account.id == account_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    account = session.exec(query).first()
    if account is None:
        raise NotFound(f"Ledger account {account_id} does not exist.", field="account_id")
    return account


def balance(session: Session, account_id: int) -> Decimal:
    """Return an account's balance: the sum of its entries."""
    total = session.exec(select(func.sum(Entry.amount)).where(Entry.account_id == account_id))
    return total.one() or Decimal("0.00")


def member_balance(session: Session, member_id: int) -> Decimal:
    """Return a member's balance (zero before their account exists)."""
    account = find_member_account(session, member_id)
    return balance(session, account.id) if account else Decimal("0.00")


# --- posting ------------------------------------------------------------------------------


def post_transfer(
    session: Session,
    *,
    key: str,
    kind: str,
    payer_account_id: int,
    payee_account_id: int,
    hours: Decimal | int | str,
    description: str,
    category: str | None = None,
    created_by: int | None = None,
    reverses_transfer_id: int | None = None,
    now: datetime | None = None,
) -> Transfer:
    """Move ``hours`` from payer to payee as one transfer of two entries.

    Return the recorded transfer when ``key`` was already posted with the same content; refuse
    a key reused for different content, a transfer to the payer itself, and a payment that would
    take the payer below its credit limit.
    """
    transfer = Transfer(
        key=parse_key(key),
        kind=_parse_kind(kind),
        description=clean_text(description, "description", limit=DESCRIPTION_MAX),
        category=_parse_category(category),
        created_by=created_by,
        reverses_transfer_id=reverses_transfer_id,
        created_at=now or utcnow(),
    )
    legs = Legs(payer_account_id, payee_account_id, parse_hours(hours))
    if payer_account_id == payee_account_id:
        raise InvalidInput(f"Account {payer_account_id} cannot pay itself.", field="payee")
    get_account(session, payee_account_id)
    payer = _lock_account(session, payer_account_id)
    return _already_posted(session, transfer, legs) or _insert(session, transfer, legs, payer)


def _insert(session: Session, transfer: Transfer, legs: Legs, payer: Account) -> Transfer:
    """Check the payer's credit limit, then write the transfer and its two entries."""
    _require_within_limit(session, payer, legs.amount)
    try:
        with session.begin_nested():
            session.add(transfer)
            session.flush()
            session.add_all(
                [
                    Entry(
                        transfer_id=transfer.id,
                        account_id=legs.payer_account_id,
                        amount=-legs.amount,
                    ),
                    Entry(
                        transfer_id=transfer.id,
                        account_id=legs.payee_account_id,
                        amount=legs.amount,
                    ),
                ]
            )
    except IntegrityError:
        # A concurrent request with the same key (or reversing the same transfer) won the race.
        existing = _already_posted(session, transfer, legs)
        if existing is None:
            raise
        return existing
    return transfer


def _require_within_limit(session: Session, payer: Account, amount: Decimal) -> None:
    """Refuse a payment that would take ``payer`` below its credit limit."""
    if payer.credit_limit is None:
        return
    current = balance(session, payer.id)
    if current - amount < payer.credit_limit:
        raise RuleViolation(
            f"Credit limit: account {payer.id} ({describe_account(session, payer)}) holds "
            f"{current} hours; paying {amount} would take it below its limit of "
            f"{payer.credit_limit}.",
            field="hours",
        )


def _already_posted(session: Session, transfer: Transfer, legs: Legs) -> Transfer | None:
    """Return the transfer already posted under this key, refusing it if its content differs."""
    existing = transfer_by_key(session, transfer.key)
    if existing is None:
        return None
    if _content(existing) != _content(transfer) or transfer_legs(session, existing.id) != legs:
        raise Conflict(
            f"Transfer key {transfer.key!r} was already used for transfer "
            f"{existing.id} with different content.",
            field="key",
        )
    return existing


def _content(transfer: Transfer) -> tuple[object, ...]:
    """Return what makes two postings the same request (not when or by whom)."""
    return (transfer.kind, transfer.description, transfer.category, transfer.reverses_transfer_id)


def _parse_kind(value: str) -> TransferKind:
    """Return the transfer kind or refuse it by name."""
    try:
        return TransferKind(value)
    except ValueError:
        known = ", ".join(k.value for k in TransferKind)
        raise InvalidInput(
            f"Transfer kind {value!r} is not one of {known}.", field="kind"
        ) from None


def _parse_category(value: str | None) -> str | None:
    """Return a category, lowercased, or None."""
    category = clean_text(value, "category", limit=CATEGORY_MAX, required=False)
    return category.lower() if category else None


# --- reading transfers --------------------------------------------------------------------


def transfer_by_key(session: Session, key: str) -> Transfer | None:
    """Return the transfer posted under ``key``, if any."""
    return session.exec(select(Transfer).where(Transfer.key == key)).first()


def get_transfer(session: Session, transfer_id: int) -> Transfer:
    """Return transfer ``transfer_id`` or refuse."""
    transfer = session.get(Transfer, transfer_id)
    if transfer is None:
        raise NotFound(f"Transfer {transfer_id} does not exist.", field="transfer_id")
    return transfer


def transfer_legs(session: Session, transfer_id: int) -> Legs:
    """Return who paid whom how much in transfer ``transfer_id``."""
    entries = session.exec(select(Entry).where(Entry.transfer_id == transfer_id)).all()
    payer = next(e for e in entries if e.amount < 0)
    payee = next(e for e in entries if e.amount > 0)
    return Legs(payer.account_id, payee.account_id, payee.amount)


def reversal_of(session: Session, transfer_id: int) -> Transfer | None:
    """Return the correction that reversed transfer ``transfer_id``, if one did."""
    return session.exec(
        select(Transfer).where(Transfer.reverses_transfer_id == transfer_id)
    ).first()


def describe_account(session: Session, account: Account) -> str:
    """Return a short human name for an account: the member's number and name, or the pool."""
    if account.member_id is None:
        return "community pool"
    member = session.get(Member, account.member_id)
    return f"member {member.number} {member.name}"


# --- the timebank's own moves -------------------------------------------------------------


def exchange_hours(
    session: Session,
    *,
    key: str,
    payer_id: int,
    payee_id: int,
    hours: Decimal | int | str,
    description: str,
    category: str,
    created_by: int | None = None,
    now: datetime | None = None,
) -> Transfer:
    """Pay a member for a service exchanged; both members must be active.

    ``created_by`` defaults to the payer; anyone else entering it must be a steward.
    """
    if payer_id == payee_id:
        raise InvalidInput(f"Member {payer_id} cannot pay themself.", field="payee_id")
    payer, payee = get_member(session, payer_id), get_member(session, payee_id)
    require_active(payer)
    require_active(payee)
    if created_by is not None and created_by != payer_id:
        require_steward(session, created_by, "enter an exchange for another member")
    if not (category or "").strip():
        raise InvalidInput("An exchange needs a category (what kind of service).", field="category")
    return post_transfer(
        session,
        key=key,
        kind=TransferKind.EXCHANGE,
        payer_account_id=member_account(session, payer.id).id,
        payee_account_id=member_account(session, payee.id).id,
        hours=hours,
        description=description,
        category=category,
        created_by=created_by or payer_id,
        now=now,
    )


def credit_from_pool(
    session: Session,
    *,
    key: str,
    member_id: int,
    hours: Decimal | int | str,
    description: str,
    kind: str = TransferKind.REPAIR_CREDIT,
    category: str | None = None,
    created_by: int | None = None,
    now: datetime | None = None,
) -> Transfer:
    """Pay a member from the community pool (repair credits, opening balances).

    A suspended member may not be credited (see :class:`hub.errors.MemberSuspended`).
    """
    require_active(get_member(session, member_id))
    return post_transfer(
        session,
        key=key,
        kind=kind,
        payer_account_id=community_account(session).id,
        payee_account_id=member_account(session, member_id).id,
        hours=hours,
        description=description,
        category=category,
        created_by=created_by,
        now=now,
    )


def charge_to_pool(
    session: Session,
    *,
    key: str,
    member_id: int,
    hours: Decimal | int | str,
    description: str,
    kind: str = TransferKind.BOOKING_FEE,
    category: str | None = None,
    created_by: int | None = None,
    now: datetime | None = None,
) -> Transfer:
    """Charge a member for the commons (booking fees): hours go to the community pool."""
    return post_transfer(
        session,
        key=key,
        kind=kind,
        payer_account_id=member_account(session, member_id).id,
        payee_account_id=community_account(session).id,
        hours=hours,
        description=description,
        category=category,
        created_by=created_by,
        now=now,
    )


def post_reversal(
    session: Session,
    *,
    transfer_id: int,
    by: int | None,
    reason: str,
    key: str | None = None,
    now: datetime | None = None,
) -> Transfer:
    """Correct a transfer by posting its mirror image, linked to it (the caller has checked
    who may: :func:`hub.timebank.stewarding.reverse_transfer`).

    A transfer is reversed at most once and a correction is not itself reversed (post a new
    transfer instead). The reversal obeys the credit limit of whoever now pays.
    """
    original = get_transfer(session, transfer_id)
    if original.kind == TransferKind.CORRECTION:
        raise RuleViolation(
            f"Transfer {original.id} is itself a correction; post a new "
            "transfer instead of reversing it.",
            field="transfer_id",
        )
    key = parse_key(key or f"reversal:{original.id}")
    done = reversal_of(session, original.id)
    if done is not None and done.key != key:
        raise Conflict(
            f"Transfer {original.id} was already reversed by transfer {done.id}.",
            field="transfer_id",
        )
    legs = transfer_legs(session, original.id)
    reason = clean_text(reason, "reason", limit=REASON_MAX)
    return post_transfer(
        session,
        key=key,
        kind=TransferKind.CORRECTION,
        payer_account_id=legs.payee_account_id,
        payee_account_id=legs.payer_account_id,
        hours=legs.amount,
        description=f"Correction of transfer {original.id}: {reason}",
        category=original.category,
        created_by=by,
        reverses_transfer_id=original.id,
        now=now,
    )


def require_steward(session: Session, member_id: int, action: str) -> Member:
    """Return member ``member_id`` if they are an active steward, else refuse naming ``action``."""
    member = get_member(session, member_id)
    if not member.has_role(Role.STEWARD):
        raise RuleViolation(
            f"Only stewards may {action}; member {member.number} is not one.", field="steward_id"
        )
    require_active(member)
    return member
