"""Repair credit claims: list the pending ones, approve or decline one (stewards only)."""

from __future__ import annotations

from contextlib import AbstractContextManager

from sqlmodel import Session

from dashboard.auditing import audited
from dashboard.auth import current_member
from dashboard.database import reading, transaction
from hub.queries import claims as claim_rows
from hub.timebank import claims

from .blueprint import api
from .schemas import Approval, ClaimList, ClaimOut, Decision

ID = "<int(min=1, max=2147483647):claim_id>"
DECISION_FIELDS = ("status", "approved_hours", "decided_by", "decision_reason", "transfer_id")


@api.operation("GET", "/claims", response=ClaimList, tag="claims")
def list_claims() -> ClaimList:
    """List repair credit claims awaiting a steward, oldest first.

    Stewards only.
    """
    with reading() as db:
        rows = claim_rows.pending_claims(db)
    return ClaimList(claims=[claim_out(row) for row in rows])


@api.operation(
    "POST",
    f"/claims/{ID}/approve",
    body=Approval,
    response=ClaimOut,
    refusals=(409,),
    tag="claims",
)
def approve_claim(claim_id: int, body: Approval) -> ClaimOut:
    """Approve a pending claim: the ledger moves its hours from the community pool to the fixer.

    Give ``hours`` to credit other than claimed, with a ``reason``. Refused: a claim already
    decided (409), the steward's own claim (422), a suspended fixer (403). Stewards only; audited.
    """
    with transaction() as db:
        claim = claims.get_claim(db, claim_id)
        with _audited_decision(db, claim, "claim.approve"):
            claims.approve_claim(
                db, claim.id, steward_id=current_member().id, hours=body.hours, reason=body.reason
            )
        return claim_out(claim_rows.claim_row(db, claim.id))


@api.operation(
    "POST",
    f"/claims/{ID}/decline",
    body=Decision,
    response=ClaimOut,
    refusals=(409,),
    tag="claims",
)
def decline_claim(claim_id: int, body: Decision) -> ClaimOut:
    """Decline a pending claim with a reason; nothing is posted and its ticket stays live.

    A claim already decided is a conflict (409). Stewards only; audited.
    """
    with transaction() as db:
        claim = claims.get_claim(db, claim_id)
        with _audited_decision(db, claim, "claim.decline"):
            claims.decline_claim(db, claim.id, steward_id=current_member().id, reason=body.reason)
        return claim_out(claim_rows.claim_row(db, claim.id))


def _audited_decision(
    db: Session, claim: claims.CreditClaim, action: str
) -> AbstractContextManager[None]:
    return audited(db, action=action, target=f"claim:{claim.id}", row=claim, fields=DECISION_FIELDS)


def claim_out(row: claim_rows.ClaimRow) -> ClaimOut:
    """Return a claim with the repair it is for."""
    claim, repair = row.claim, row.repair
    return ClaimOut(
        id=claim.id,
        member_id=claim.member_id,
        member_number=row.member_number,
        tool_id=repair.tool_id,
        tool_code=row.tool_code,
        ticket_id=repair.ticket_id,
        hours=claim.hours,
        note=repair.note,
        status=claim.status,
        approved_hours=claim.approved_hours,
        decided_by=claim.decided_by,
        decision_reason=claim.decision_reason,
        transfer_id=claim.transfer_id,
        created_at=claim.created_at,
    )
