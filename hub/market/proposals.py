"""Deciding together: proposals open for a set time, members vote, the network's rule decides.

Rules, shown on every proposal:

- ``consent``: passes unless a member blocks it (a block needs a reason), once at least
  ``quorum`` members have voted;
- ``majority``: passes with more yes than no among at least ``quorum`` votes (blocks count as no).

A proposal may spend hours from the community account ("buy a second tile cutter: 40 h") to a
named member (who buys or does the work); it cannot ask more than the pool holds when proposed,
and once passed a steward executes the transfer (audited), checking the pool again. Votes and
who voted how are open to members. Votes change until the close; none after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Column, UniqueConstraint
from sqlmodel import Field, Session, SQLModel, col, select

from hub.errors import Conflict, InvalidInput, NotFound, RuleViolation
from hub.infra import audit
from hub.infra.clock import as_utc, utcnow
from hub.members.ranks import Actor, require_role
from hub.members.roster import Member, Role, clean_text, member_by_number, require_active
from hub.timebank import ledger
from hub.timebank.ledger import HoursType, parse_hours

TITLE_MAX, TEXT_MAX, REASON_MAX = 120, 4000, 300
LONGEST_OPEN = timedelta(days=90)
SHORTEST_OPEN = timedelta(hours=1)


class DecisionRule(StrEnum):
    CONSENT = "consent"
    MAJORITY = "majority"


class Choice(StrEnum):
    YES = "yes"
    NO = "no"
    BLOCK = "block"


class Outcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"


class Proposal(SQLModel, table=True):
    """A question put to the network, and, once closed, its outcome."""

    __tablename__ = "proposal"

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=TITLE_MAX)
    text: str = Field(max_length=TEXT_MAX)
    author_id: int = Field(foreign_key="member.id", index=True)
    rule: str = Field(max_length=12)
    quorum: int = Field(default=0)
    cost_hours: Decimal | None = Field(default=None, sa_column=Column(HoursType()))
    payee_id: int | None = Field(default=None, foreign_key="member.id")
    opened_at: datetime = Field(default_factory=utcnow)
    closes_at: datetime = Field(index=True)
    outcome: str | None = Field(default=None, max_length=8)
    outcome_note: str | None = Field(default=None, max_length=REASON_MAX)
    decided_at: datetime | None = None
    transfer_id: int | None = Field(default=None, foreign_key="ledger_transfer.id", unique=True)
    executed_by: int | None = Field(default=None, foreign_key="member.id")


class Vote(SQLModel, table=True):
    """One member's vote on a proposal (the latest counts until the close)."""

    __tablename__ = "proposal_vote"
    __table_args__ = (UniqueConstraint("proposal_id", "member_id", name="uq_vote_member"),)

    id: int | None = Field(default=None, primary_key=True)
    proposal_id: int = Field(foreign_key="proposal.id", index=True)
    member_id: int = Field(foreign_key="member.id")
    choice: str = Field(max_length=8)
    reason: str | None = Field(default=None, max_length=REASON_MAX)
    cast_at: datetime = Field(default_factory=utcnow)


@dataclass(frozen=True)
class Tally:
    """The votes as they stand, and what the rule makes of them."""

    yes: int
    no: int
    block: int
    passes: bool
    why: str


PROPOSAL_EXECUTE = audit.Action("proposal.execute", ("outcome", "transfer_id", "executed_by"))


def propose(
    session: Session,
    author: Member,
    *,
    title: str,
    text: str,
    closes_at: datetime,
    rule: str = DecisionRule.CONSENT,
    quorum: int = 0,
    cost_hours: str | Decimal | None = None,
    payee_number: str | None = None,
    now: datetime | None = None,
) -> Proposal:
    """Put a proposal to the network; a spend names who receives the hours."""
    require_active(author)
    now = now or utcnow()
    cost, payee_id = _spend(session, cost_hours, payee_number)
    assert author.id is not None
    proposal = Proposal(
        title=clean_text(title, "title", limit=TITLE_MAX),
        text=clean_text(text, "text", limit=TEXT_MAX),
        author_id=author.id,
        rule=_rule(rule),
        quorum=_quorum(quorum),
        cost_hours=cost,
        payee_id=payee_id,
        opened_at=now,
        closes_at=_closing(closes_at, now),
    )
    session.add(proposal)
    session.flush()
    return proposal


def vote(
    session: Session,
    member: Member,
    proposal_id: int,
    choice: str,
    reason: str | None = None,
    now: datetime | None = None,
) -> Vote:
    """Cast or change ``member``'s vote while the proposal is open; a block says why."""
    require_active(member)
    proposal = get_proposal(session, proposal_id)
    if as_utc(now or utcnow()) >= as_utc(proposal.closes_at) or proposal.outcome:
        raise Conflict(
            f"Proposal {proposal_id} is closed; votes are no longer taken.", field="proposal_id"
        )
    if choice not in set(Choice):
        raise InvalidInput("choice must be yes, no or block.", field="choice")
    why = clean_text(reason, "reason", limit=REASON_MAX, required=choice == Choice.BLOCK)
    assert member.id is not None
    cast = session.exec(
        select(Vote).where(Vote.proposal_id == proposal_id, Vote.member_id == member.id)
    ).first() or Vote(proposal_id=proposal_id, member_id=member.id, choice=choice)
    cast.choice, cast.reason, cast.cast_at = choice, why, now or utcnow()
    session.add(cast)
    session.flush()
    return cast


def tally(session: Session, proposal: Proposal) -> Tally:
    """Count the votes and apply the proposal's rule."""
    votes = votes_on(session, proposal.id or 0)
    yes = sum(v.choice == Choice.YES for v in votes)
    no = sum(v.choice == Choice.NO for v in votes)
    block = sum(v.choice == Choice.BLOCK for v in votes)
    if len(votes) < proposal.quorum:
        return Tally(yes, no, block, False, f"{len(votes)} of the {proposal.quorum} votes needed")
    if proposal.rule == DecisionRule.CONSENT:
        passes = block == 0
        return Tally(yes, no, block, passes, "no block" if passes else f"{block} block(s)")
    passes = yes > no + block
    return Tally(yes, no, block, passes, f"{yes} yes against {no + block} no or block")


def decide_closed(session: Session, now: datetime | None = None) -> list[Proposal]:
    """Record the outcome of every proposal whose time is up (a housekeeping job)."""
    now = now or utcnow()
    due = session.exec(
        select(Proposal).where(col(Proposal.outcome).is_(None), Proposal.closes_at <= now)
    ).all()
    for proposal in due:
        counted = tally(session, proposal)
        proposal.outcome = Outcome.PASSED if counted.passes else Outcome.FAILED
        proposal.outcome_note, proposal.decided_at = counted.why[:REASON_MAX], now
        session.add(proposal)
    session.flush()
    return list(due)


def execute_spend(session: Session, actor: Actor, proposal_id: int) -> Proposal:
    """Move a passed proposal's hours from the community account to its payee; stewards
    only, once, audited; refused if the pool no longer holds them."""
    require_role(actor, Role.STEWARD, "execute a proposal's spend")
    proposal = get_proposal(session, proposal_id)
    if proposal.cost_hours is None or proposal.payee_id is None:
        raise RuleViolation(f"Proposal {proposal_id} spends nothing.", field="proposal_id")
    if proposal.outcome != Outcome.PASSED:
        raise Conflict(f"Proposal {proposal_id} has not passed.", field="proposal_id")
    if proposal.transfer_id is not None:
        raise Conflict(f"Proposal {proposal_id} was already executed.", field="proposal_id")
    _require_pool_holds(session, proposal.cost_hours)
    with audit.audited(session, actor, PROPOSAL_EXECUTE, proposal, f"proposal:{proposal.id}"):
        transfer = ledger.credit_from_pool(
            session,
            key=f"proposal:{proposal.id}",
            member_id=proposal.payee_id,
            hours=proposal.cost_hours,
            description=f"Passed proposal {proposal.id}: {proposal.title}"[:200],
            kind=ledger.TransferKind.COMMONS_SPEND,
            created_by=actor.id,
        )
        proposal.transfer_id, proposal.executed_by = transfer.id, actor.id
        session.add(proposal)
    return proposal


def get_proposal(session: Session, proposal_id: int) -> Proposal:
    proposal = session.get(Proposal, proposal_id)
    if proposal is None:
        raise NotFound(f"Proposal {proposal_id} does not exist.", field="proposal_id")
    return proposal


def proposals(session: Session, *, limit: int = 100) -> list[Proposal]:
    """Return the proposals, open ones first, then the newest."""
    query = select(Proposal).order_by(col(Proposal.outcome).is_not(None), col(Proposal.id).desc())
    return list(session.exec(query.limit(limit)))


def votes_on(session: Session, proposal_id: int) -> list[Vote]:
    """Return who voted how (open to members), in the order they first voted."""
    return list(session.exec(select(Vote).where(Vote.proposal_id == proposal_id).order_by(Vote.id)))


def pool_holds(session: Session) -> Decimal:
    """Return the hours the community account holds (its balance; never below 0 here)."""
    return max(ledger.balance(session, ledger.community_account(session).id or 0), Decimal(0))


def _spend(
    session: Session, cost_hours: str | Decimal | None, payee_number: str | None
) -> tuple[Decimal | None, int | None]:
    if cost_hours is None or str(cost_hours).strip() == "":
        return None, None
    cost = parse_hours(cost_hours, "cost_hours")
    if not (payee_number or "").strip():
        raise InvalidInput("A spend names the member who receives the hours.", field="payee")
    payee = member_by_number(session, payee_number or "")
    require_active(payee)
    _require_pool_holds(session, cost)
    return cost, payee.id


def _require_pool_holds(session: Session, cost: Decimal) -> None:
    held = pool_holds(session)
    if cost > held:
        raise RuleViolation(
            f"The community account holds {held} h; this spends {cost} h.", field="cost_hours"
        )


def _rule(rule: str) -> str:
    if rule not in set(DecisionRule):
        raise InvalidInput("rule must be 'consent' or 'majority'.", field="rule")
    return rule


def _quorum(quorum: int) -> int:
    if not isinstance(quorum, int) or isinstance(quorum, bool) or not 0 <= quorum <= 10_000:
        raise InvalidInput("quorum must be a whole number from 0 to 10000.", field="quorum")
    return quorum


def _closing(closes_at: datetime, now: datetime) -> datetime:
    closes = as_utc(closes_at)
    if not SHORTEST_OPEN <= closes - as_utc(now) <= LONGEST_OPEN:
        raise InvalidInput(
            "closes_at must be between an hour and 90 days from now.", field="closes_at"
        )
    return closes
