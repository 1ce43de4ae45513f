"""Bodies of the member's own API (/api/v1/me/...): what a member sends and gets back."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from hub.mail.choices import MailKind
from hub.timebank.gifts import GIFT_KEY
from hub.timebank.ledger import DESCRIPTION_MAX

from .schemas import NOT_BLANK, Body, Moment, Stamp, StatementLineOut
from .upkeep_schemas import TransferHours

# More than 0, at most 1000, two decimals: as text or a JSON number (the ledger's own bounds).
GiftHours = TransferHours
MemberNumber = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{1,10}$")]
GiftNote = Annotated[
    str,
    StringConstraints(min_length=1, max_length=DESCRIPTION_MAX, pattern=NOT_BLANK),
]
GiftKey = Annotated[str, StringConstraints(pattern=GIFT_KEY.pattern)]


class RenewIn(Body):
    """Renew a loan; with the due date last seen, a repeat of the same request renews once."""

    seen_due: Moment | None = Field(
        None,
        description="The loan's due date as you saw it: if it is due later already, it was "
        "renewed by an earlier request and is answered as it stands.",
    )


class MeOut(BaseModel):
    id: int
    number: str
    name: str
    email: str | None
    status: str = Field(
        description="active or suspended: a suspended member reads, but gives nothing."
    )


class MyLoanOut(BaseModel):
    id: int
    tool_code: str
    tool_name: str
    out_at: Stamp
    due_at: Stamp
    overdue: bool
    renewals: int = Field(ge=0)
    renewable: bool
    renew_refusal: str | None = Field(description="Why it cannot be renewed now, if it cannot.")


class MyLoans(BaseModel):
    loans: list[MyLoanOut]


class PastLoanOut(BaseModel):
    id: int
    tool_code: str
    tool_name: str
    out_at: Stamp
    returned_at: Stamp
    return_condition: str | None


class MyHistory(BaseModel):
    loans: list[PastLoanOut]


class MyHoursOut(BaseModel):
    balance: Decimal
    credit_limit: Decimal | None = Field(description="The lowest the balance may go (None: none).")
    available: Decimal | None = Field(description="Hours that could be given now (None: no limit).")
    statement: list[StatementLineOut] = Field(description="Every transfer, oldest first.")


class GiftIn(Body):
    """Hours to give to another member; the key (here or as an Idempotency-Key header) makes a
    repeat of the same request move the hours once."""

    to: MemberNumber = Field(description="The member number of who gets the hours.")
    hours: GiftHours = Field(description='More than 0, at most two decimals ("1.50").')
    note: GiftNote = Field(description="What the hours are for.")
    idempotency_key: GiftKey | None = Field(
        None, description="8-64 letters, digits, '.', '_', ':' or '-'; or the header."
    )


class GiftOut(BaseModel):
    transfer_id: int
    to: str
    hours: Decimal
    note: str
    balance: Decimal = Field(description="The giver's balance after the gift.")


class MyClaimOut(BaseModel):
    id: int
    tool_code: str
    hours: Decimal
    status: str
    approved_hours: Decimal | None
    decision_reason: str | None
    created_at: Stamp
    decided_at: Stamp | None


class MyClaims(BaseModel):
    claims: list[MyClaimOut]


class MyBookingOut(BaseModel):
    id: int
    resource_code: str
    resource_name: str
    starts_at: Stamp
    ends_at: Stamp
    status: str


class MyBookings(BaseModel):
    bookings: list[MyBookingOut]
    paused_until: Stamp | None = Field(description="Booking rights are paused until then.")
    pause_reason: str | None


class ReminderOut(BaseModel):
    kind: MailKind
    label: str
    on: bool


class MyReminders(BaseModel):
    email: str | None = Field(description="Where reminders go (None: nothing is sent).")
    reminders: list[ReminderOut]


class RemindersIn(Body):
    """The kinds of reminder email wanted; every other kind is turned off (empty: all off)."""

    on: list[MailKind] = Field(max_length=len(MailKind))
