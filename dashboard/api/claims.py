"""Repair credit claims: list the pending ones, approve or decline one (stewards only)."""

from __future__ import annotations

from dashboard.auth import acting_member
from dashboard.database import reading, transaction
from hub.queries import claims as claim_rows
from hub.timebank import stewarding

from .blueprint import api
from .schemas import ClaimList, ClaimOut, Decision
from .upkeep_schemas import ClaimApproval

ID = "<int(min=1, max=2147483647):claim_id>"


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
    body=ClaimApproval,
    response=ClaimOut,
    refusals=(404, 409),
    tag="claims",
)
def approve_claim(claim_id: int, body: ClaimApproval) -> ClaimOut:
    """Approve a pending claim: the ledger moves its hours from the community pool to the fixer.

    ``return_to_service`` is required, so the choice is explicit: true resolves the ticket the
    repair was for (the tool returns to service once nothing else blocks it); false leaves it
    live. Give ``hours`` to credit other than claimed, with a ``reason``. Refused: a claim
    already decided (409), the steward's own claim (422), a suspended fixer (403). Stewards
    only; audited either way.
    """
    with transaction() as db:
        claim = stewarding.approve_claim(
            db,
            acting_member(),
            claim_id,
            return_to_service=body.return_to_service,
            hours=body.hours,
            reason=body.reason,
        )
        return claim_out(claim_rows.claim_row(db, claim.id))


@api.operation(
    "POST",
    f"/claims/{ID}/decline",
    body=Decision,
    response=ClaimOut,
    refusals=(404, 409),
    tag="claims",
)
def decline_claim(claim_id: int, body: Decision) -> ClaimOut:
    """Decline a pending claim with a reason; nothing is posted and its ticket stays live.

    A claim already decided is a conflict (409). Stewards only; audited.
    """
    with transaction() as db:
        claim = stewarding.decline_claim(db, acting_member(), claim_id, body.reason)
        return claim_out(claim_rows.claim_row(db, claim.id))


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
