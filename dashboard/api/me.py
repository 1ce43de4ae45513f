"""The member's own API at /api/v1/me/...: what /me shows, for a member's scripts.

Any member's session or API token opens it (a ``member``-scoped token is made for this); every
answer is about the member the token speaks for, never about one named in the request.
"""

from __future__ import annotations

from flask import abort, request

from dashboard.database import reading, transaction
from dashboard.me.access import me, member_api_required, now
from hub import bookings
from hub.loans import renewals
from hub.mail import choices
from hub.queries import claims as claim_rows
from hub.queries import mine
from hub.queries.mine import MyLoan
from hub.timebank import gifts, ledger, statements

from .blueprint import api
from .me_schemas import (
    GiftIn,
    GiftOut,
    MeOut,
    MyBookingOut,
    MyBookings,
    MyClaimOut,
    MyClaims,
    MyHistory,
    MyHoursOut,
    MyLoanOut,
    MyLoans,
    MyReminders,
    PastLoanOut,
    ReminderOut,
    RemindersIn,
)
from .schemas import StatementLineOut

ID = "<int(min=1, max=2147483647):loan_id>"
IDEMPOTENCY_HEADER = "Idempotency-Key"


@api.operation("GET", "/me", response=MeOut, tag="me", guard=member_api_required)
def show_me() -> MeOut:
    """Show who the token or session speaks for."""
    member = me()
    return MeOut(
        id=member.id or 0,
        number=member.number,
        name=member.name,
        email=member.email,
        status=member.status,
    )


@api.operation("GET", "/me/loans", response=MyLoans, tag="me", guard=member_api_required)
def list_my_loans() -> MyLoans:
    """List my open loans, due soonest first, each saying whether it may be renewed now."""
    with reading() as db:
        rows = mine.my_loans(db, me(), now=now())
    return MyLoans(loans=[_loan_out(row) for row in rows])


@api.operation("GET", "/me/history", response=MyHistory, tag="me", guard=member_api_required)
def list_my_history() -> MyHistory:
    """List the loans I brought back, latest return first (at most 100)."""
    with reading() as db:
        rows = mine.my_history(db, me())
    return MyHistory(
        loans=[
            PastLoanOut(
                id=loan.id or 0,
                tool_code=tool.code,
                tool_name=tool.name,
                out_at=loan.out_at,
                returned_at=loan.returned_at,
                return_condition=loan.return_condition,
            )
            for loan, tool in rows
            if loan.returned_at is not None
        ]
    )


@api.operation(
    "POST",
    f"/me/loans/{ID}/renew",
    response=MyLoanOut,
    refusals=(404, 422),
    tag="me",
    guard=member_api_required,
)
def renew_my_loan(loan_id: int) -> MyLoanOut:
    """Renew one of my loans: it is due a loan length from now.

    Refused (422, naming the rule): a loan overdue by more than the policy allows, one
    renewed the most times a loan may be; another member's loan is unknown (404); a suspended
    member may not renew (403). Audited.
    """
    with transaction() as db:
        loan = renewals.renew_loan(db, me(), loan_id, now=now())
        row = next(r for r in mine.my_loans(db, me(), now=now()) if r.loan.id == loan.id)
    return _loan_out(row)


@api.operation("GET", "/me/hours", response=MyHoursOut, tag="me", guard=member_api_required)
def show_my_hours() -> MyHoursOut:
    """Show my balance, my credit limit, what I could give now, and my statement."""
    with reading() as db:
        held = mine.my_hours(db, me())
        lines = statements.statement(db, me().id or 0)
    return MyHoursOut(
        balance=held.balance,
        credit_limit=held.credit_limit,
        available=held.available,
        statement=[StatementLineOut(**vars(line)) for line in lines],
    )


@api.operation(
    "POST",
    "/me/gifts",
    body=GiftIn,
    response=GiftOut,
    status=201,
    refusals=(404, 409, 422),
    tag="me",
    guard=member_api_required,
)
def give_my_hours(body: GiftIn) -> GiftOut:
    """Give hours to another member, by number, with a note.

    Send an ``Idempotency-Key`` header (or ``idempotency_key``): the same key again answers
    with the gift already made and moves nothing more; the same key with other content is a
    conflict (409). Refused (422, naming the field): more hours than my credit limit allows,
    myself, a suspended member (403), an unknown number (404). A suspended member gives nothing.
    """
    key = request.headers.get(IDEMPOTENCY_HEADER) or body.idempotency_key
    if not key:
        abort(422, f"Send an {IDEMPOTENCY_HEADER} header (or idempotency_key) with a gift.")
    with transaction() as db:
        transfer = gifts.give_hours(
            db, me(), to_number=body.to, hours=body.hours, note=body.note, key=key, now=now()
        )
        legs = ledger.transfer_legs(db, transfer.id or 0)
        held = ledger.member_balance(db, me().id or 0)
    return GiftOut(
        transfer_id=transfer.id or 0,
        to=body.to,
        hours=legs.amount,
        note=transfer.description,
        balance=held,
    )


@api.operation("GET", "/me/claims", response=MyClaims, tag="me", guard=member_api_required)
def list_my_claims() -> MyClaims:
    """List my repair claims and where each stands, newest first (at most 100)."""
    with reading() as db:
        rows = claim_rows.claims_of_member(db, me().id or 0, limit=100)
    return MyClaims(
        claims=[
            MyClaimOut(
                id=row.claim.id or 0,
                tool_code=row.tool_code,
                hours=row.claim.hours,
                status=row.claim.status,
                approved_hours=row.claim.approved_hours,
                decision_reason=row.claim.decision_reason,
                created_at=row.claim.created_at,
                decided_at=row.claim.decided_at,
            )
            for row in rows
        ]
    )


@api.operation("GET", "/me/bookings", response=MyBookings, tag="me", guard=member_api_required)
def list_my_bookings() -> MyBookings:
    """List my machine bookings from a week ago on, soonest first, and any booking pause."""
    with reading() as db:
        rows = bookings.bookings_of_member(db, me().id or 0, now=now())
        pause = bookings.booking_pause_of(db, me().id or 0, now=now())
    return MyBookings(
        bookings=[
            MyBookingOut(
                id=row.booking.id or 0,
                resource_code=row.resource.code,
                resource_name=row.resource.name,
                starts_at=row.booking.starts_at,
                ends_at=row.booking.ends_at,
                status=row.booking.status,
            )
            for row in rows
        ],
        paused_until=pause.ends_at if pause else None,
        pause_reason=pause.reason if pause else None,
    )


@api.operation("GET", "/me/reminders", response=MyReminders, tag="me", guard=member_api_required)
def show_my_reminders() -> MyReminders:
    """Show which reminder emails I get, and where they go."""
    with reading() as db:
        wanted = choices.kinds_wanted(db, me().id or 0)
    return _reminders_out(wanted)


@api.operation(
    "PUT",
    "/me/reminders",
    body=RemindersIn,
    response=MyReminders,
    tag="me",
    guard=member_api_required,
)
def choose_my_reminders(body: RemindersIn) -> MyReminders:
    """Keep exactly the reminder kinds listed in ``on``; an empty list turns them all off."""
    with transaction() as db:
        wanted = choices.choose_kinds(db, me(), [kind.value for kind in body.on], now=now())
    return _reminders_out(wanted)


def _reminders_out(wanted: frozenset[choices.MailKind]) -> MyReminders:
    return MyReminders(
        email=me().email,
        reminders=[
            ReminderOut(kind=kind, label=label, on=kind in wanted)
            for kind, label in choices.KIND_LABELS.items()
        ],
    )


def _loan_out(row: MyLoan) -> MyLoanOut:
    return MyLoanOut(
        id=row.loan.id or 0,
        tool_code=row.tool_code,
        tool_name=row.tool_name,
        out_at=row.loan.out_at,
        due_at=row.loan.due_at,
        overdue=row.overdue,
        renewals=row.renewals,
        renewable=row.renewable,
        renew_refusal=row.renew_refusal.message if row.renew_refusal else None,
    )
