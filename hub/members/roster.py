"""Members, their cards, and the trainings that gate tools and machines."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal, overload

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, Session, SQLModel, select

# The wire's limits, re-exported: every room takes them from here.
from broker.messages import NAME_MAX as NAME_MAX
from broker.messages import NOTE_MAX as NOTE_MAX
from hub.errors import Conflict, InvalidInput, MemberSuspended, NotFound, TrainingRequired
from hub.infra.clock import utcnow
from hub.infra.rows import find_unique
from hub.infra.sync import KioskVisible
from hub.wire import parse_member_number, parse_name, parse_training_code, parse_uid

CONTACT_MAX = 200
PHONE_MAX = 40


class Role(StrEnum):
    MEMBER = "member"
    VOLUNTEER = "volunteer"
    STEWARD = "steward"
    ADMIN = "admin"


class MemberStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


class Member(SQLModel, KioskVisible, table=True):
    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=10, unique=True, index=True)
    name: str = Field(max_length=NAME_MAX)
    email: str | None = Field(default=None, max_length=CONTACT_MAX)
    phone: str | None = Field(default=None, max_length=PHONE_MAX)
    status: str = Field(default=MemberStatus.ACTIVE, max_length=16)
    status_reason: str | None = Field(default=None, max_length=NOTE_MAX)
    roles: str = Field(default=Role.MEMBER, max_length=64)
    joined_at: datetime = Field(default_factory=utcnow)

    @property
    def role_set(self) -> frozenset[Role]:
        """Return the member's roles as a set."""
        return frozenset(Role(r) for r in self.roles.split())

    def has_role(self, role: Role) -> bool:
        """Tell whether the member holds ``role``; admins hold every steward power too."""
        roles = self.role_set
        return role in roles or (role == Role.STEWARD and Role.ADMIN in roles)

    @property
    def is_active(self) -> bool:
        return self.status == MemberStatus.ACTIVE


class Card(SQLModel, KioskVisible, table=True):
    id: int | None = Field(default=None, primary_key=True)
    uid: str = Field(max_length=14, unique=True, index=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    label: str | None = Field(default=None, max_length=NAME_MAX)
    issued_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None


class Training(SQLModel, KioskVisible, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True, index=True)
    name: str = Field(max_length=NAME_MAX)
    valid_days: int | None = None


class MemberTraining(SQLModel, KioskVisible, table=True):
    __table_args__ = (UniqueConstraint("member_id", "training_id"),)

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    training_id: int = Field(foreign_key="training.id", index=True)
    granted_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime | None = None
    granted_by: int | None = Field(default=None, foreign_key="member.id")


# --- validation ---------------------------------------------------------------------------


@overload
def clean_text(value: str | None, field: str, *, limit: int) -> str: ...


@overload
def clean_text(value: str | None, field: str, *, limit: int, required: Literal[True]) -> str: ...


@overload
def clean_text(value: str | None, field: str, *, limit: int, required: bool) -> str | None: ...


def clean_text(value: str | None, field: str, *, limit: int, required: bool = True) -> str | None:
    """Strip ``value`` and refuse it when empty (if required) or longer than ``limit``."""
    text = (value or "").strip()
    if not text:
        if required:
            raise InvalidInput(f"{field} is required.", field=field)
        return None
    if len(text) > limit:
        raise InvalidInput(f"{field} is {len(text)} characters; the limit is {limit}.", field=field)
    return text


def parse_roles(value: str | list[str] | None) -> str:
    """Return roles as the stored space-separated string; refuse unknown roles by name."""
    items = value.replace(",", " ").replace(";", " ").split() if isinstance(value, str) else value
    roles = {Role.MEMBER}
    for item in items or []:
        try:
            roles.add(Role(item.strip().lower()))
        except ValueError:
            known = ", ".join(r.value for r in Role)
            raise InvalidInput(
                f"Unknown role {item!r}; roles are {known}.", field="roles"
            ) from None
    return " ".join(r.value for r in Role if r in roles)


# --- members ------------------------------------------------------------------------------


def add_member(
    session: Session,
    *,
    name: str,
    number: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    roles: str | list[str] | None = None,
) -> Member:
    """Enrol a member; a number is allotted when none is given."""
    member = new_member(session, name=name, number=number, email=email, phone=phone, roles=roles)
    session.add(member)
    session.flush()
    return member


def new_member(
    session: Session,
    *,
    name: str,
    number: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    roles: str | list[str] | None = None,
) -> Member:
    """Return (not yet added) a member with these details; refuse a number already taken."""
    member = Member(
        number=parse_member_number(number) if number else next_member_number(session),
        name=parse_name(name),
        email=parse_email(email),
        phone=parse_phone(phone),
        roles=parse_roles(roles),
    )
    if session.exec(select(Member.id).where(Member.number == member.number)).first():
        raise Conflict(f"Member number {member.number} is already taken.", field="number")
    return member


def parse_email(value: str | None) -> str | None:
    """Return an email address as typed (stripped), None when blank; refuse one too long."""
    return clean_text(value, "email", limit=CONTACT_MAX, required=False)


def parse_phone(value: str | None) -> str | None:
    """Return a phone number as typed (stripped), None when blank; refuse one too long."""
    return clean_text(value, "phone", limit=PHONE_MAX, required=False)


def next_member_number(session: Session) -> str:
    """Return the next free member number (one past the highest numeric one)."""
    numbers = session.exec(select(Member.number)).all()
    return str(max((int(n) for n in numbers), default=1000) + 1)


def get_member(session: Session, member_id: int) -> Member:
    """Return member ``member_id`` or refuse."""
    member = session.get(Member, member_id)
    if member is None:
        raise NotFound(f"Member {member_id} does not exist.", field="member_id")
    return member


def member_by_number(session: Session, number: str) -> Member:
    """Return the member with ``number`` or refuse."""
    member = session.exec(select(Member).where(Member.number == str(number).strip())).first()
    if member is None:
        raise NotFound(f"Member number {number} does not exist.", field="number")
    return member


def require_active(member: Member) -> None:
    """Refuse a suspended member, saying why they were suspended."""
    if not member.is_active:
        why = f": {member.status_reason}" if member.status_reason else ""
        raise MemberSuspended(f"Member {member.number} ({member.name}) is suspended{why}.")


# --- cards --------------------------------------------------------------------------------


def assign_card(session: Session, member_id: int, uid: str, *, label: str | None = None) -> Card:
    """Give member ``member_id`` the card ``uid``; a card belongs to one member only."""
    card = new_card(session, get_member(session, member_id), uid, label=label)
    session.add(card)
    session.flush()
    return card


def new_card(session: Session, member: Member, uid: str, *, label: str | None = None) -> Card:
    """Return (not yet added) the card ``uid`` for ``member``; refuse a UID anyone holds."""
    canonical = parse_uid(uid)
    existing = session.exec(select(Card).where(Card.uid == canonical)).first()
    if existing is not None:
        holder = session.get(Member, existing.member_id)
        whose = "this member" if existing.member_id == member.id else "another member"
        number = f" ({holder.number})" if holder is not None else ""
        raise Conflict(f"Card {canonical} already belongs to {whose}{number}.", field="uid")
    return Card(
        uid=canonical,
        member_id=member.id,
        label=clean_text(label, "label", limit=NAME_MAX, required=False),
    )


def card_by_uid(session: Session, uid: str) -> Card:
    """Return the card with ``uid`` (any UID spelling) or refuse."""
    canonical = parse_uid(uid)
    card = find_unique(session, Card, Card.uid, canonical)
    if card is None:
        raise NotFound(f"Card {canonical} is not known.", field="uid")
    return card


def member_for_card(session: Session, uid: str) -> Member:
    """Return the member holding the live card ``uid``; revoked cards are refused."""
    card = card_by_uid(session, uid)
    if card.revoked_at is not None:
        raise NotFound(f"Card {card.uid} was revoked on {card.revoked_at:%Y-%m-%d}.", field="uid")
    return get_member(session, card.member_id)


def cards_of(session: Session, member_id: int) -> list[Card]:
    """Return all cards, live and revoked, of a member."""
    return list(session.exec(select(Card).where(Card.member_id == member_id).order_by(Card.id)))


# --- trainings ----------------------------------------------------------------------------


def add_training(
    session: Session, *, code: str, name: str, valid_days: int | None = None
) -> Training:
    """Define a training (an induction) that tools and machines may require."""
    code = parse_training_code(code)
    if session.exec(select(Training.id).where(Training.code == code)).first():
        raise Conflict(f"Training {code} already exists.", field="code")
    if valid_days is not None and valid_days <= 0:
        raise InvalidInput("valid_days must be positive.", field="valid_days")
    training = Training(
        code=code, name=clean_text(name, "name", limit=NAME_MAX), valid_days=valid_days
    )
    session.add(training)
    session.flush()
    return training


def training_by_code(session: Session, code: str) -> Training:
    """Return training ``code`` or refuse."""
    training = session.exec(select(Training).where(Training.code == code.strip().lower())).first()
    if training is None:
        raise NotFound(f"Training {code!r} does not exist.", field="training")
    return training


def grant_training(
    session: Session,
    member_id: int,
    code: str,
    *,
    granted_by: int | None = None,
    now: datetime | None = None,
) -> MemberTraining:
    """Record that a member passed a training; renewing it moves its expiry forward."""
    member, training = get_member(session, member_id), training_by_code(session, code)
    held = training_held_by(session, member, training) or MemberTraining(
        member_id=member.id, training_id=training.id
    )
    now = now or utcnow()
    expires_at = now + timedelta(days=training.valid_days) if training.valid_days else None
    held.granted_at, held.expires_at, held.granted_by = now, expires_at, granted_by
    session.add(held)
    session.flush()
    return held


def training_held_by(session: Session, member: Member, training: Training) -> MemberTraining | None:
    """Return ``member``'s record of ``training``, if they hold it."""
    query = select(MemberTraining).where(
        MemberTraining.member_id == member.id, MemberTraining.training_id == training.id
    )
    return session.exec(query).first()


def require_training(
    session: Session, member: Member, training_id: int | None, *, now: datetime | None = None
) -> None:
    """Refuse a member who lacks training ``training_id`` or whose training has expired."""
    if training_id is None:
        return
    training = session.get(Training, training_id)
    held = session.exec(
        select(MemberTraining).where(
            MemberTraining.member_id == member.id, MemberTraining.training_id == training_id
        )
    ).first()
    if held is None:
        raise TrainingRequired(f"Member {member.number} has not done the {training.code} training.")
    if held.expires_at is not None and held.expires_at <= (now or utcnow()):
        expired = f"{held.expires_at:%Y-%m-%d}"
        raise TrainingRequired(
            f"Member {member.number}'s {training.code} training expired on {expired}."
        )
