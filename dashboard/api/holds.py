"""Holds and the borrowing policy: a member's own holds (``/me/holds``, a member-scoped token
is enough), the stewards' view of every queue and its reordering, and the policy they set.

Every refusal comes from the hub's services (``hub.loans.holds``, ``hub.loans.policy``),
which check roles and write the audit entries, so the pages, this API and the CLI agree.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, ParamSpec

from flask import abort, request
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlmodel import Session

from dashboard.auth import acting_member, current_member, token_scope
from dashboard.database import reading, transaction
from hub.infra.clock import as_utc
from hub.loans import holds, policy
from hub.loans.holds import HoldView
from hub.members.roster import Member
from hub.members.tokens import TokenScope

from .blueprint import SAFE_METHODS, api
from .schemas import NOT_BLANK

P = ParamSpec("P")
HOLD_ID = "<int(min=1, max=2147483647):hold_id>"
ToolCode = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,23}$")
]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HoldRequest(_Body):
    """A hold to place: the tool's code (its asset tag)."""

    tool_code: ToolCode


class HoldMove(_Body):
    """Where a waiting hold goes in its tool's queue of waiting holds (1: next in line)."""

    position: Annotated[int, Field(ge=1, le=10_000)]


class QueueFilter(BaseModel):
    model_config = ConfigDict(extra="ignore")

    tool_code: ToolCode | None = None


class PolicyChange(_Body):
    """The settings to change; those left out stay as they are. ``max_loans`` and
    ``overdue_grace_days`` may be null: no limit, never pause."""

    max_loans: Annotated[int, Field(ge=1, le=100)] | None = None
    overdue_grace_days: Annotated[int, Field(ge=0, le=365)] | None = None
    max_holds: Annotated[int, Field(ge=1, le=50)] | None = None
    hold_hours: Annotated[int, Field(ge=1, le=336)] | None = None


class LoanLengthChange(_Body):
    """How many days loans of one tool, or of one category, last (null ``days``: remove)."""

    tool_code: ToolCode | None = None
    category: (
        Annotated[str, StringConstraints(min_length=1, max_length=60, pattern=NOT_BLANK)] | None
    ) = None
    days: Annotated[int, Field(ge=1, le=365)] | None


class HoldOut(BaseModel):
    id: int
    tool_code: str
    tool_name: str
    member_number: str
    status: str
    place: int | None = Field(description="Place in the tool's queue (1: next, or kept now).")
    placed_at: datetime
    kept_until: datetime | None = Field(description="While ready: the tool is kept until then.")
    note: str | None


class HoldList(BaseModel):
    holds: list[HoldOut]


class LoanLengthOut(BaseModel):
    tool_code: str | None
    category: str | None
    days: int


class PolicyOut(BaseModel):
    max_loans: int | None
    overdue_grace_days: int | None
    max_holds: int
    hold_hours: int
    loan_lengths: list[LoanLengthOut]


# --- a member's own holds -----------------------------------------------------------------


def member_required(view: Callable[P, ResponseReturnValue]) -> Callable[P, ResponseReturnValue]:
    """Let any signed-in member through (a member-scoped token is enough); a read-only token
    only reads."""

    @functools.wraps(view)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
        member = current_member()
        if member is None:
            abort(401, "Sign in or send 'Authorization: Bearer <token>'.")
        if token_scope() == TokenScope.READ and request.method not in SAFE_METHODS:
            abort(403, "This API token is read-only: it may not place or cancel holds.")
        return view(*args, **kwargs)

    return guarded


def _member() -> Member:
    """Return the member the guard let through."""
    member = current_member()
    assert member is not None, "member_required lets only members through"
    return member


@api.operation("GET", "/me/holds", response=HoldList, tag="me", guard=member_required)
def my_holds() -> HoldList:
    """List my holds: where I stand in each queue, and until when a tool is kept for me.

    For any signed-in member (a member-scoped token is enough).
    """
    member = _member()
    with reading() as db:
        rows = holds.views_of(db, holds.holds_of_member(db, member.id or 0))
    return HoldList(holds=[hold_out(row) for row in rows])


@api.operation(
    "POST",
    "/me/holds",
    body=HoldRequest,
    response=HoldOut,
    status=201,
    tag="me",
    guard=member_required,
    refusals=(404, 409, 422),
)
def place_my_hold(body: HoldRequest) -> HoldOut:
    """Put my name down for a tool; if it is in and nobody waits, it is kept for me at once.

    Refused: an unknown tool (404), one I hold a place for or have out (409), a retired tool
    or more holds than the policy allows (422), a suspended member (403).
    """
    member = _member()
    with transaction() as db:
        hold = holds.place_hold(db, member, member_id=member.id or 0, tool_code=body.tool_code)
        return hold_out(holds.views_of(db, [hold])[0])


@api.operation(
    "DELETE",
    f"/me/holds/{HOLD_ID}",
    response=HoldOut,
    tag="me",
    guard=member_required,
    refusals=(404, 409),
)
def cancel_my_hold(hold_id: int) -> HoldOut:
    """Cancel one of my holds; a tool kept for me goes to the next in line."""
    member = _member()
    with transaction() as db:
        if holds.get_hold(db, hold_id).member_id != member.id:
            abort(404, f"Hold {hold_id} is not one of yours.")
        hold = holds.cancel_hold(db, member, hold_id)
        return hold_out(holds.views_of(db, [hold])[0])


# --- stewards: queues and policy ----------------------------------------------------------


@api.operation("GET", "/holds", query=QueueFilter, response=HoldList, tag="holds", refusals=(404,))
def list_queues(query: QueueFilter) -> HoldList:
    """List every tool's queue of live holds (or one tool's), in order. Stewards only."""
    with reading() as db:
        rows = holds.queues(db, query.tool_code)
    return HoldList(holds=[hold_out(row) for row in rows])


@api.operation("POST", f"/holds/{HOLD_ID}/move", body=HoldMove, response=HoldList, tag="holds")
def move_hold(hold_id: int, body: HoldMove) -> HoldList:
    """Move a waiting hold to ``position`` among its tool's waiting holds; return the queue.

    Stewards only; audited.
    """
    with transaction() as db:
        queue = holds.move_hold(db, acting_member(), hold_id, body.position)
        return HoldList(holds=[hold_out(row) for row in holds.views_of(db, queue)])


@api.operation("DELETE", f"/holds/{HOLD_ID}", response=HoldOut, tag="holds")
def cancel_hold(hold_id: int) -> HoldOut:
    """Cancel any member's hold; a tool kept for them goes to the next. Stewards; audited."""
    with transaction() as db:
        hold = holds.cancel_hold(db, acting_member(), hold_id)
        return hold_out(holds.views_of(db, [hold])[0])


@api.operation("GET", "/policy", response=PolicyOut, tag="holds")
def show_policy() -> PolicyOut:
    """Show the borrowing policy and the loan lengths set per tool or category."""
    with reading() as db:
        return policy_out(db)


@api.operation("PUT", "/policy", body=PolicyChange, response=PolicyOut, tag="holds")
def set_policy(body: PolicyChange) -> PolicyOut:
    """Change the settings named in the body. Stewards only; audited."""
    with transaction() as db:
        policy.set_policy(db, acting_member(), **body.model_dump(exclude_unset=True))
        return policy_out(db)


@api.operation(
    "PUT",
    "/policy/loan-lengths",
    body=LoanLengthChange,
    response=PolicyOut,
    tag="holds",
    refusals=(404,),
)
def set_loan_length(body: LoanLengthChange) -> PolicyOut:
    """Set (or with null ``days`` remove) the loan length of a tool or a category; it feeds
    the due date of new loans. Stewards only; audited."""
    with transaction() as db:
        policy.set_loan_length(
            db, acting_member(), days=body.days, tool_code=body.tool_code, category=body.category
        )
        return policy_out(db)


# --- shapes -------------------------------------------------------------------------------


def hold_out(view: HoldView) -> HoldOut:
    hold = view.hold
    kept = hold.expires_at if hold.status == holds.HoldStatus.READY else None
    return HoldOut(
        id=hold.id or 0,
        tool_code=view.tool_code,
        tool_name=view.tool_name,
        member_number=view.member_number,
        status=hold.status,
        place=view.place,
        placed_at=as_utc(hold.placed_at),
        kept_until=as_utc(kept) if kept else None,
        note=hold.note,
    )


def policy_out(db: Session) -> PolicyOut:
    held = policy.current_policy(db)
    lengths = [
        LoanLengthOut(tool_code=code, category=rule.category, days=rule.days)
        for rule, code in policy.loan_lengths_with_codes(db)
    ]
    return PolicyOut(
        max_loans=held.max_loans,
        overdue_grace_days=held.overdue_grace_days,
        max_holds=held.max_holds,
        hold_hours=held.hold_hours,
        loan_lengths=lengths,
    )
