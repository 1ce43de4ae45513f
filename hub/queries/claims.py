"""Repair credit claims as stewards read them: awaiting a decision, decided, one member's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement
from sqlmodel import Session, select

from hub.errors import NotFound
from hub.inventory.registry import Tool
from hub.maintenance.models import RepairLog
from hub.members.roster import Member
from hub.timebank.claims import ClaimStatus, CreditClaim

OLDEST_FIRST = (CreditClaim.created_at, CreditClaim.id)
NEWEST_FIRST = (CreditClaim.created_at.desc(), CreditClaim.id.desc())


@dataclass(frozen=True)
class ClaimRow:
    """A repair credit claim with the repair it is for, its tool and its claimant."""

    claim: CreditClaim
    repair: RepairLog
    tool_code: str
    member_number: str
    member_name: str

    @property
    def tool_id(self) -> int:
        return self.repair.tool_id

    @property
    def note(self) -> str:
        return self.repair.note

    @property
    def ticket_id(self) -> int | None:
        return self.repair.ticket_id


def pending_claims(session: Session) -> list[ClaimRow]:
    """Return repair claims awaiting a steward, oldest first, with claimant and tool."""
    return _claims(session, CreditClaim.status == ClaimStatus.PENDING, order=OLDEST_FIRST)


def decided_claims(session: Session, *, limit: int = 20) -> list[ClaimRow]:
    """Return the latest approved or declined claims, newest first."""
    condition = CreditClaim.status != ClaimStatus.PENDING
    return _claims(session, condition, order=(CreditClaim.id.desc(),), limit=limit)


def claims_of_member(
    session: Session, member_id: int, *, limit: int | None = None
) -> list[ClaimRow]:
    """Return a member's claims of every status, newest first."""
    return _claims(session, CreditClaim.member_id == member_id, order=NEWEST_FIRST, limit=limit)


def claim_row(session: Session, claim_id: int) -> ClaimRow:
    """Return claim ``claim_id`` with its repair, tool and claimant, or refuse."""
    rows = _claims(session, CreditClaim.id == claim_id, order=())
    if not rows:
        raise NotFound(f"Claim {claim_id} does not exist.", field="claim_id")
    return rows[0]


def _claims(
    session: Session,
    condition: ColumnElement[bool],
    *,
    order: tuple[Any, ...],
    limit: int | None = None,
) -> list[ClaimRow]:
    query = (
        select(CreditClaim, RepairLog, Tool.code, Member.number, Member.name)
        .join(Member, Member.id == CreditClaim.member_id)
        .join(RepairLog, RepairLog.id == CreditClaim.repair_id)
        .join(Tool, Tool.id == RepairLog.tool_id)
        .where(condition)
        .order_by(*order)
        .limit(limit)
    )
    return [ClaimRow(*row) for row in session.exec(query)]
