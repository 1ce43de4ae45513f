"""Hours for a service done through a post, moved between the two members by the ledger.

The two parties of a post are its author and a member who answered it: for an offer the author
gives the service and the answerer receives it; for a request, the other way round. Either the
giver *claims* the hours and the receiver confirms them, or the receiver confirms them at once
(``give_hours``). Only a confirmation moves hours: the receiver pays the giver through
``ledger.exchange_hours`` (zero-sum, within the receiver's credit limit, the post's category on
the transfer), keyed by the exchange so a double submit pays once.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Column
from sqlmodel import Field, Session, SQLModel, select

from hub.errors import Conflict, NotFound, RuleViolation
from hub.infra.clock import utcnow
from hub.market.posts import NOTE_MAX, Post, PostKind, get_post, has_answered
from hub.members.roster import Member, clean_text, member_by_number, require_active
from hub.timebank import ledger
from hub.timebank.ledger import HoursType, parse_hours


class NotParty(RuleViolation, PermissionError):
    """The member is not one of the two the hours would move between."""


class ExchangeStatus(StrEnum):
    CLAIMED = "claimed"
    CONFIRMED = "confirmed"


class Exchange(SQLModel, table=True):
    """Hours for a service done through a post: claimed by the giver, or confirmed."""

    __tablename__ = "market_exchange"

    id: int | None = Field(default=None, primary_key=True)
    post_id: int = Field(foreign_key="market_post.id", index=True)
    giver_id: int = Field(foreign_key="member.id", index=True)
    receiver_id: int = Field(foreign_key="member.id", index=True)
    hours: Decimal = Field(sa_column=Column(HoursType(), nullable=False))
    note: str | None = Field(default=None, max_length=NOTE_MAX)
    status: str = Field(default=ExchangeStatus.CLAIMED, max_length=12, index=True)
    claimed_at: datetime = Field(default_factory=utcnow)
    confirmed_at: datetime | None = None
    transfer_id: int | None = Field(default=None, foreign_key="ledger_transfer.id", unique=True)


def parties(post: Post, other_id: int) -> tuple[int, int]:
    """Return (giver id, receiver id) of a service between ``post``'s author and ``other_id``."""
    if post.kind == PostKind.OFFER:
        return post.author_id, other_id
    return other_id, post.author_id


def claim_hours(
    session: Session,
    giver: Member,
    post_id: int,
    *,
    receiver_number: str,
    hours: str | Decimal,
    note: str | None = None,
) -> Exchange:
    """Claim hours for a service one gave through a post; the receiver must confirm them."""
    post, receiver = get_post(session, post_id), member_by_number(session, receiver_number)
    assert giver.id is not None and receiver.id is not None
    _require_parties(session, post, giver.id, receiver.id)
    exchange = _new_exchange(post, giver.id, receiver.id, hours, note)
    session.add(exchange)
    session.flush()
    return exchange


def give_hours(
    session: Session,
    receiver: Member,
    post_id: int,
    *,
    giver_number: str,
    hours: str | Decimal,
    note: str | None = None,
) -> Exchange:
    """Confirm, as the one who received the service, hours for its giver; they move at once."""
    post, giver = get_post(session, post_id), member_by_number(session, giver_number)
    assert giver.id is not None and receiver.id is not None
    _require_parties(session, post, giver.id, receiver.id)
    exchange = _new_exchange(post, giver.id, receiver.id, hours, note)
    session.add(exchange)
    session.flush()
    return _pay(session, exchange, post)


def confirm_hours(session: Session, receiver: Member, exchange_id: int) -> Exchange:
    """Confirm hours the giver claimed from ``receiver``; the ledger moves them, once."""
    exchange = session.get(Exchange, exchange_id)
    if exchange is None:
        raise NotFound(f"Exchange {exchange_id} does not exist.", field="exchange_id")
    if exchange.receiver_id != receiver.id:
        raise NotParty(
            f"Exchange {exchange_id} is not yours to confirm: only its receiver may.",
            field="exchange_id",
        )
    if exchange.status == ExchangeStatus.CONFIRMED:
        raise Conflict(f"Exchange {exchange_id} is already confirmed.", field="exchange_id")
    return _pay(session, exchange, get_post(session, exchange.post_id, hidden_ok=True))


def exchanges_of(session: Session, member_id: int) -> list[Exchange]:
    """Return the member's exchanges, as giver or receiver, newest first."""
    query = select(Exchange).where(
        (Exchange.giver_id == member_id) | (Exchange.receiver_id == member_id)
    )
    return list(session.exec(query.order_by(Exchange.id.desc())))


def _new_exchange(
    post: Post, giver_id: int, receiver_id: int, hours: str | Decimal, note: str | None
) -> Exchange:
    assert post.id is not None
    return Exchange(
        post_id=post.id,
        giver_id=giver_id,
        receiver_id=receiver_id,
        hours=parse_hours(hours),
        note=clean_text(note, "note", limit=NOTE_MAX, required=False),
    )


def _require_parties(session: Session, post: Post, giver_id: int, receiver_id: int) -> None:
    """Refuse an exchange that is not between the post's author and one who answered it."""
    assert post.id is not None
    other = giver_id if post.author_id == receiver_id else receiver_id
    if (giver_id, receiver_id) != parties(post, other) or not has_answered(session, post.id, other):
        raise NotParty(
            f"Hours for post {post.id} move between its author and a member who answered it; "
            "you are not party to it.",
            field="post_id",
        )
    for member_id in (giver_id, receiver_id):
        require_active(session.get(Member, member_id) or _missing(member_id))


def _missing(member_id: int) -> Member:
    raise NotFound(f"Member {member_id} does not exist.", field="member")


def _pay(session: Session, exchange: Exchange, post: Post) -> Exchange:
    transfer = ledger.exchange_hours(
        session,
        key=f"market:exchange:{exchange.id}",
        payer_id=exchange.receiver_id,
        payee_id=exchange.giver_id,
        hours=exchange.hours,
        description=f"{post.title} (post {post.id})"[: ledger.DESCRIPTION_MAX],
        category=post.category,
        created_by=exchange.receiver_id,
    )
    exchange.status, exchange.confirmed_at = ExchangeStatus.CONFIRMED, utcnow()
    exchange.transfer_id = transfer.id
    session.add(exchange)
    session.flush()
    return exchange
