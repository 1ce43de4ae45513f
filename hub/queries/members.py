"""Members as stewards read them: finding them, the trainings they hold, names for ids."""

from __future__ import annotations

import re
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import ColumnElement
from sqlmodel import Session, col, select

from hub.members.roster import Card, Member, MemberTraining, Training

# Part of a card UID as a label or reader prints it: hex bytes, maybe split by ':', '-' or ' '.
UID_PART = re.compile(r"^[0-9A-Fa-f]{2}(?:[:\- ]?[0-9A-Fa-f]{2})+$")


class HeldTraining(NamedTuple):
    """A training a member holds: which, since when, and until when if it expires."""

    code: str
    name: str
    granted_at: datetime
    expires_at: datetime | None


def find_members(
    session: Session, search: str | None = None, *, limit: int | None = None
) -> list[Member]:
    """Return members by number, those whose name or number contains ``search`` if given, or
    who hold a card (live or revoked) whose UID contains it (any UID spelling, two bytes or more).

    ``limit`` caps how many (a page shows the first hundred; the API and CLI want them all).
    """
    query = select(Member).order_by(Member.number).limit(limit)
    text = (search or "").strip()
    if text:
        query = query.where(_matching(text))
    return list(session.exec(query))


def _matching(text: str) -> ColumnElement[bool]:
    pattern = f"%{text}%"
    found = col(Member.name).ilike(pattern) | col(Member.number).like(pattern)
    if UID_PART.match(text):
        uid = re.sub(r"[:\- ]", "", text).upper()
        holders = select(Card.member_id).where(col(Card.uid).like(f"%{uid}%"))
        found = found | col(Member.id).in_(holders)
    return found


def member_numbers(session: Session, member_ids: set[int | None]) -> dict[int, str]:
    """Return 'number name' of the given members, by id."""
    ids = [member_id for member_id in member_ids if member_id is not None]
    if not ids:
        return {}
    query = select(Member.id, Member.number, Member.name).where(Member.id.in_(ids))
    rows = session.exec(query)
    return {member_id: f"{number} {name}" for member_id, number, name in rows if member_id}


def list_trainings(session: Session) -> list[Training]:
    """Return every training, by code."""
    return list(session.exec(select(Training).order_by(Training.code)))


def trainings_of(session: Session, member_id: int) -> list[HeldTraining]:
    """Return the trainings a member holds, by code, with when each was granted and expires."""
    query = (
        select(Training.code, Training.name, MemberTraining.granted_at, MemberTraining.expires_at)
        .join(Training, Training.id == MemberTraining.training_id)
        .where(MemberTraining.member_id == member_id)
        .order_by(Training.code)
    )
    return [HeldTraining(*row) for row in session.exec(query)]
