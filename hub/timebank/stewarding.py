"""What a steward does to the timebank: decide repair claims, trust fixers, correct the ledger.

Each takes the acting member first (``hub.members.ranks.Actor``; the CLI acts as ``OPERATOR``),
checks they are a steward, and writes its own audit entry in the caller's transaction, so a page,
the API and the CLI are checked and audited alike. The ledger stays double-entry and
append-only: a correction is a new, reversing transfer (:mod:`hub.timebank.ledger`).
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from uuid import uuid4

from sqlmodel import Session, col, select

from hub.errors import Conflict, InvalidInput, RuleViolation
from hub.infra import audit
from hub.inventory.registry import get_tool
from hub.maintenance.models import MAX_REPAIR_HOURS
from hub.maintenance.repairs import get_repair
from hub.members.ranks import Actor, require_role
from hub.members.roster import NOTE_MAX, Member, Role, clean_text, get_member
from hub.timebank import claims, ledger, statements
from hub.timebank.claims import (
    CLAIM_APPROVE,
    CLAIM_DECLINE,
    FIXER_MARK,
    FIXER_UNMARK,
    CreditClaim,
    TrustedFixer,
)
from hub.timebank.ledger import (
    CREDIT_LIMIT_SET,
    TRANSFER_ENTER,
    TRANSFER_REVERSE,
    Account,
    Transfer,
)

Hours = Decimal | int | str


def _require_steward(actor: Actor, doing: str) -> None:
    require_role(actor, Role.STEWARD, doing)


# --- repair claims ------------------------------------------------------------------------


def approve_claim(
    session: Session,
    actor: Actor,
    claim_id: int,
    *,
    return_to_service: bool,
    hours: Hours | None = None,
    reason: str | None = None,
    now: datetime | None = None,
) -> CreditClaim:
    """Approve a pending claim: the ledger moves its hours from the community pool to the fixer.

    ``return_to_service`` is the steward's explicit choice: resolve the ticket the repair was
    for, so the tool goes back into service once nothing else blocks it; or leave the ticket
    live (say, to inspect the tool first). Other hours than claimed need a reason. Refused: a
    steward's own claim, a claim already decided, a suspended fixer.
    """
    _require_steward(actor, "approve repair claims")
    claim = claims.lock_pending_claim(session, claim_id)
    if actor.id is not None and claim.member_id == actor.id:
        raise RuleViolation(
            f"Member {_number(actor)} may not approve their own claim {claim.id}.",
            field="claim_id",
        )
    approved = claim.hours if hours is None else ledger.parse_hours(hours, maximum=MAX_REPAIR_HOURS)
    why = clean_text(reason, "reason", limit=NOTE_MAX, required=approved != claim.hours)
    with audit.audited(session, actor, CLAIM_APPROVE, claim, f"claim:{claim.id}") as notes:
        claims.settle_claim(
            session,
            claim,
            hours=approved,
            steward_id=actor.id,
            reason=why,
            now=now,
            auto=False,
            resolve_ticket=return_to_service,
        )
        notes.update(_tool_after_approval(session, claim, return_to_service))
    return claim


def _tool_after_approval(
    session: Session, claim: CreditClaim, return_to_service: bool
) -> dict[str, object]:
    """Return what the audit entry says of the repaired tool and ticket after an approval."""
    repair = get_repair(session, claim.repair_id)
    tool = get_tool(session, repair.tool_id)
    return {
        "return_to_service": return_to_service,
        "ticket_id": repair.ticket_id,
        "tool_status": tool.status,
    }


def decline_claim(
    session: Session, actor: Actor, claim_id: int, reason: str, now: datetime | None = None
) -> CreditClaim:
    """Decline a pending claim with a reason; nothing is posted and its ticket stays live."""
    _require_steward(actor, "decline repair claims")
    claim = claims.lock_pending_claim(session, claim_id)
    with audit.audited(session, actor, CLAIM_DECLINE, claim, f"claim:{claim.id}"):
        claims.mark_declined(session, claim.id, by=actor.id, reason=reason, now=now)
    return claim


# --- trusted fixers -----------------------------------------------------------------------


def mark_trusted_fixer(
    session: Session,
    actor: Actor,
    member_id: int,
    up_to: Hours = claims.DEFAULT_AUTO_APPROVE_HOURS,
    now: datetime | None = None,
) -> TrustedFixer:
    """Trust a member's repair claims up to ``up_to`` hours each to be approved at once.

    Marking a trusted fixer again changes their limit. Never for oneself: that would approve
    one's own claims.
    """
    _require_steward(actor, "mark trusted fixers")
    member = get_member(session, member_id)
    if actor.id == member.id:
        raise RuleViolation(
            f"Member {member.number} may not mark themself a trusted fixer.", field="member_id"
        )
    limit = ledger.parse_hours(up_to, "up_to", maximum=MAX_REPAIR_HOURS)
    fixer = claims.trusted_fixer(session, member.id)
    if fixer is None:
        # A table model takes its fields after construction; they are all set in _trust.
        fixer = TrustedFixer(member_id=member.id)  # type: ignore[call-arg]
        _trust(session, fixer, actor, limit, now)
        audit.record(
            session,
            actor_member_id=actor.id,
            action=FIXER_MARK.name,
            target=f"member:{member.number}",
            after=audit.snapshot(fixer, *FIXER_MARK.fields),
        )
        return fixer
    with audit.audited(session, actor, FIXER_MARK, fixer, f"member:{member.number}"):
        _trust(session, fixer, actor, limit, now)
    return fixer


def _trust(
    session: Session,
    fixer: TrustedFixer,
    actor: Actor,
    limit: Decimal,
    now: datetime | None,
) -> None:
    fixer.auto_approve_up_to, fixer.granted_by = limit, actor.id
    fixer.granted_at = now or ledger.utcnow()
    session.add(fixer)
    session.flush()


def trusted_fixers(session: Session) -> list[tuple[Member, TrustedFixer]]:
    """Return every trusted fixer with their member, by member number."""
    query = (
        select(Member, TrustedFixer)
        .join(TrustedFixer, col(TrustedFixer.member_id) == col(Member.id))
        .order_by(Member.number)
    )
    return [(member, fixer) for member, fixer in session.exec(query)]


def unmark_trusted_fixer(session: Session, actor: Actor, member_id: int) -> None:
    """Stop approving a member's claims at once; their pending claims wait for a steward."""
    _require_steward(actor, "unmark trusted fixers")
    member = get_member(session, member_id)
    fixer = claims.trusted_fixer(session, member.id)
    if fixer is None:
        raise InvalidInput(f"Member {member.number} is not a trusted fixer.", field="member_id")
    audit.record(
        session,
        actor_member_id=actor.id,
        action=FIXER_UNMARK.name,
        target=f"member:{member.number}",
        before=audit.snapshot(fixer, *FIXER_UNMARK.fields),
    )
    session.delete(fixer)
    session.flush()


# --- the ledger ---------------------------------------------------------------------------


def reverse_transfer(
    session: Session,
    actor: Actor,
    transfer_id: int,
    reason: str,
    now: datetime | None = None,
) -> Transfer:
    """Correct a transfer by posting its mirror image, with a reason; once only.

    Refused: a transfer already reversed (a conflict, naming the reversal), a correction
    (post a new transfer instead), a reversal that would take the payer below its limit.
    """
    _require_steward(actor, "correct the ledger")
    original = ledger.get_transfer(session, transfer_id)
    done = ledger.reversal_of(session, original.id)
    if done is not None:
        raise Conflict(
            f"Transfer {original.id} was already reversed by transfer {done.id}.",
            field="transfer_id",
        )
    correction = ledger.post_reversal(
        session, transfer_id=original.id, by=actor.id, reason=reason, now=now
    )
    audit.record(
        session,
        actor_member_id=actor.id,
        action=TRANSFER_REVERSE.name,
        target=f"transfer:{original.id}",
        after=audit.snapshot(correction, *TRANSFER_REVERSE.fields)
        | {
            "correction_id": correction.id,
            "reason": clean_text(reason, "reason", limit=ledger.REASON_MAX),
        },
    )
    return correction


def set_credit_limit(
    session: Session, actor: Actor, member_id: int, may_owe: Hours | None
) -> Account:
    """Let a member's balance go down to minus ``may_owe`` hours (None: no limit at all).

    ``may_owe`` is 0 or more with at most two decimals; a limit the member is already below
    is refused (they must first earn back).
    """
    _require_steward(actor, "set credit limits")
    member = get_member(session, member_id)
    floor = None if may_owe is None else -parse_may_owe(may_owe)
    account = ledger.member_account(session, member.id)
    with audit.audited(session, actor, CREDIT_LIMIT_SET, account, f"member:{member.number}"):
        ledger.apply_credit_limit(session, account.id, floor)
    return account


def parse_may_owe(value: Hours) -> Decimal:
    """Return how many hours a member may owe (0 or more, two decimals at most), or refuse."""
    if not isinstance(value, bool | float):
        with suppress(InvalidOperation):
            owed = Decimal(str(value).strip())
            if owed == 0:
                return Decimal("0.00")
            if owed < 0:
                raise InvalidInput(
                    f"credit_limit is the hours a member may owe: 0 or more, not {value}.",
                    field="credit_limit",
                )
    return ledger.parse_hours(value, "credit_limit")


def transfer_hours(
    session: Session,
    actor: Actor,
    *,
    payer_id: int,
    payee_id: int,
    hours: Hours,
    description: str,
    category: str,
    key: str | None = None,
    now: datetime | None = None,
) -> Transfer:
    """Enter a transfer from one member to another (say, for a workshop taught).

    Both must be active; the payer's credit limit holds. Give ``key`` to make a repeat of the
    same request return the transfer already posted (and audited) instead of paying twice.
    """
    _require_steward(actor, "enter transfers between members")
    key = key or f"steward:{uuid4().hex}"
    posted_before = ledger.transfer_by_key(session, key)
    transfer = ledger.exchange_hours(
        session,
        key=key,
        payer_id=payer_id,
        payee_id=payee_id,
        hours=hours,
        description=description,
        category=category,
        created_by=actor.id,
        now=now,
    )
    if posted_before is None:
        legs = ledger.transfer_legs(session, transfer.id)
        audit.record(
            session,
            actor_member_id=actor.id,
            action=TRANSFER_ENTER.name,
            target=f"transfer:{transfer.id}",
            after=audit.snapshot(transfer, *TRANSFER_ENTER.fields)
            | {"hours": legs.amount, "payer_id": payer_id, "payee_id": payee_id},
        )
    return transfer


@dataclass(frozen=True)
class CommunityAccount:
    """The community pool as a steward sees it: what it holds and its latest transfers."""

    account_id: int | None  # None until the pool's first transfer opens it
    balance: Decimal
    transfers: list[statements.TransferView]


def community_account(session: Session, *, limit: int = 20) -> CommunityAccount:
    """Return the community pool's balance and its latest transfers, newest first."""
    pool = session.exec(select(Account).where(col(Account.member_id).is_(None))).first()
    if pool is None or pool.id is None:
        return CommunityAccount(None, Decimal("0.00"), [])
    return CommunityAccount(
        pool.id,
        ledger.balance(session, pool.id),
        statements.recent_transfers(session, limit=limit, account_id=pool.id),
    )


def _number(actor: Actor) -> str:
    return actor.number if isinstance(actor, Member) else "operator"
