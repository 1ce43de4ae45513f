"""Care for the commons earns hours: repair claims, their approval, and trusted fixers.

A member who repairs a tool logs it (:func:`log_repair`), which records the repair and opens a
pending credit claim. A steward other than the claimant approves it, perhaps editing the hours
with a reason, or declines it with a reason (:mod:`hub.timebank.stewarding`, which checks and
audits). Approval moves the hours from the community pool
to the fixer in the ledger and resolves the ticket the repair was for. Members marked as trusted
fixers have small claims approved at once, up to their own limit.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Column
from sqlmodel import Field, Session, SQLModel, select

from hub.errors import Conflict, NotFound
from hub.infra import audit
from hub.infra.clock import utcnow
from hub.inventory.registry import get_tool
from hub.maintenance.models import TicketStatus
from hub.maintenance.repairs import get_repair, record_repair
from hub.maintenance.tickets import close_ticket, get_ticket
from hub.members.roster import NOTE_MAX, clean_text
from hub.timebank.ledger import (
    HoursType,
    TransferKind,
    credit_from_pool,
)

DEFAULT_AUTO_APPROVE_HOURS = Decimal("2.00")
REPAIR_CATEGORY = "repair"


class ClaimStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"


class CreditClaim(SQLModel, table=True):
    __tablename__ = "repair_claim"

    id: int | None = Field(default=None, primary_key=True)
    repair_id: int = Field(foreign_key="repair_log.id", unique=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    hours: Decimal = Field(sa_column=Column(HoursType(), nullable=False))
    status: str = Field(default=ClaimStatus.PENDING, max_length=16, index=True)
    approved_hours: Decimal | None = Field(default=None, sa_column=Column(HoursType()))
    auto_approved: bool = Field(default=False)
    decided_by: int | None = Field(default=None, foreign_key="member.id")
    decided_at: datetime | None = None
    decision_reason: str | None = Field(default=None, max_length=NOTE_MAX)
    transfer_id: int | None = Field(default=None, foreign_key="ledger_transfer.id")
    created_at: datetime


CLAIM_FIELDS = ("status", "hours", "approved_hours", "decided_by", "decision_reason", "transfer_id")
CLAIM_APPROVE = audit.Action("claim.approve", CLAIM_FIELDS)
CLAIM_DECLINE = audit.Action("claim.decline", CLAIM_FIELDS)


class TrustedFixer(SQLModel, table=True):
    __tablename__ = "trusted_fixer"

    member_id: int = Field(foreign_key="member.id", primary_key=True)
    auto_approve_up_to: Decimal = Field(sa_column=Column(HoursType(), nullable=False))
    granted_by: int | None = Field(default=None, foreign_key="member.id")  # None: the operator
    granted_at: datetime


FIXER_MARK = audit.Action("fixer.mark", ("auto_approve_up_to", "granted_by"))
FIXER_UNMARK = audit.Action("fixer.unmark", ("auto_approve_up_to", "granted_by"))


# --- claims -------------------------------------------------------------------------------


def log_repair(
    session: Session,
    *,
    member_id: int,
    tool_id: int,
    hours: Decimal | int | str,
    note: str,
    source: str,
    ticket_id: int | None = None,
    now: datetime | None = None,
) -> CreditClaim:
    """Record a repair and claim its hours; a trusted fixer's small claim is approved at once.

    Refuse hours that are not more than 0, over 24 or finer than hundredths, a suspended
    member, an unknown tool or ticket, and a ticket already closed or about another tool.
    """
    now = now or utcnow()
    repair = record_repair(
        session,
        member_id=member_id,
        tool_id=tool_id,
        hours=hours,
        note=note,
        source=source,
        ticket_id=ticket_id,
        now=now,
    )
    claim = CreditClaim(
        repair_id=repair.id, member_id=repair.member_id, hours=repair.hours, created_at=now
    )
    session.add(claim)
    session.flush()
    if _may_auto_approve(session, claim):
        settle_claim(session, claim, hours=claim.hours, steward_id=None, reason=None, now=now)
    return claim


def _may_auto_approve(session: Session, claim: CreditClaim) -> bool:
    """Tell whether the claimant is a trusted fixer whose limit covers this claim."""
    fixer = trusted_fixer(session, claim.member_id)
    return fixer is not None and claim.hours <= fixer.auto_approve_up_to


def settle_claim(
    session: Session,
    claim: CreditClaim,
    *,
    hours: Decimal,
    steward_id: int | None,
    reason: str | None,
    now: datetime | None,
    auto: bool | None = None,
    resolve_ticket: bool = True,
) -> CreditClaim:
    """Post the claim's hours to the ledger, mark it approved and, unless told not to, resolve
    the ticket the repair was for (which returns the tool to service if nothing else blocks it).

    ``auto`` (default: no steward) marks a trusted fixer's claim approved at once.
    """
    now = now or utcnow()
    repair = get_repair(session, claim.repair_id)
    tool = get_tool(session, repair.tool_id)
    transfer = credit_from_pool(
        session,
        key=f"repair-claim:{claim.id}",
        member_id=claim.member_id,
        hours=hours,
        description=f"Repair of tool {tool.code} (repair {repair.id})",
        kind=TransferKind.REPAIR_CREDIT,
        category=REPAIR_CATEGORY,
        created_by=steward_id,
        now=now,
    )
    claim.status, claim.approved_hours, claim.transfer_id = ClaimStatus.APPROVED, hours, transfer.id
    claim.auto_approved = steward_id is None if auto is None else auto
    claim.decided_by, claim.decided_at, claim.decision_reason = steward_id, now, reason
    session.add(claim)
    if resolve_ticket and repair_ticket_is_live(session, claim):
        assert repair.ticket_id is not None  # a live ticket has an id
        close_ticket(
            session,
            repair.ticket_id,
            status=TicketStatus.RESOLVED,
            by=claim.member_id,
            note=f"repaired (repair {repair.id})",
            now=now,
        )
    return claim


def repair_ticket_is_live(session: Session, claim: CreditClaim) -> bool:
    """Tell whether the repair claimed for was for a ticket still open or in progress."""
    repair = get_repair(session, claim.repair_id)
    return repair.ticket_id is not None and not get_ticket(session, repair.ticket_id).is_closed


def mark_declined(
    session: Session, claim_id: int, *, by: int | None, reason: str, now: datetime | None = None
) -> CreditClaim:
    """Decline a pending claim (the caller has checked who may)."""
    reason = clean_text(reason, "reason", limit=NOTE_MAX)
    claim = lock_pending_claim(session, claim_id)
    claim.status, claim.decided_by = ClaimStatus.DECLINED, by
    claim.decided_at, claim.decision_reason = now or utcnow(), reason
    session.add(claim)
    return claim


def lock_pending_claim(session: Session, claim_id: int) -> CreditClaim:
    """Return the claim locked until commit, refusing one already decided.

    Two stewards approving at once queue on this lock; the second then sees the first's
    decision. (The ledger's unique transfer key would stop a double payment regardless.)
    """
    query = (
        select(CreditClaim)
        .where(CreditClaim.id == claim_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    claim = session.exec(query).first()
    if claim is None:
        raise NotFound(f"Claim {claim_id} does not exist.", field="claim_id")
    if claim.status != ClaimStatus.PENDING:
        raise Conflict(f"Claim {claim.id} is already {claim.status}.", field="claim_id")
    return claim


def get_claim(session: Session, claim_id: int) -> CreditClaim:
    """Return claim ``claim_id`` or refuse."""
    claim = session.get(CreditClaim, claim_id)
    if claim is None:
        raise NotFound(f"Claim {claim_id} does not exist.", field="claim_id")
    return claim


# --- trusted fixers -----------------------------------------------------------------------


def trusted_fixer(session: Session, member_id: int) -> TrustedFixer | None:
    """Return the member's trusted-fixer standing, if they have one."""
    return session.get(TrustedFixer, member_id)
