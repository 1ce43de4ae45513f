"""The API's request and response bodies as pydantic models; the OpenAPI schemas come from them.

Hours are decimals sent as strings ("1.50") so no binary float ever rounds them; times are UTC
with an offset.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

from hub.errors import RuleViolation
from hub.infra.clock import EARLIEST_DAY, LATEST_DAY, as_utc
from hub.members.roster import NOTE_MAX
from hub.members.tokens import TokenScope

MAX_ID = 2**31 - 1  # the largest id PostgreSQL's INTEGER keys hold
EARLIEST, LATEST = EARLIEST_DAY, LATEST_DAY  # hub.infra.clock: the days the hub keeps
LONGEST_RANGE_DAYS = 92
NO_NUL = r"^[^\x00]*$"  # PostgreSQL text cannot hold NUL
# A character that is not blank by Python's str.strip() (what the hub's services strip) nor by
# JSON Schema's \s, written so that Python's, Rust's (pydantic) and ECMA's regexes agree.
_BLANK = r"\t\n\x0b\x0c\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
NOT_BLANK = rf"^[^\x00]*[^{_BLANK}\x00][^\x00]*$"  # some text besides blanks, and no NUL
BLANKS = _BLANK  # the blank characters, spelled alike for Python, Rust and ECMA
# The years the hub keeps (hub.infra.clock), as written at the start of a date or a time.
YEAR = rf"(?:20\d\d|{LATEST.year})"
assert EARLIEST.year == 2000 and LATEST.year < 2200, "YEAR spells 2000 to 2199 only"


@dataclass(frozen=True)
class Written:
    """Take only a JSON string matching ``pattern``, then parse it as the annotated type.

    The OpenAPI document says exactly this (``type: string``, the pattern, and ``extra``
    keywords such as ``format``), so what the document calls valid is what the API accepts:
    without it pydantic would also take numbers for a decimal or a date, and no JSON Schema
    keyword can state a decimal's places or a date's years. Put it last in ``Annotated``.
    Python objects (a model built in code) pass unchecked.
    """

    pattern: str
    description: str
    extra: tuple[tuple[str, str], ...] = ()

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_before_validator_function(self._check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"type": "string", "pattern": self.pattern, "description": self.description} | dict(
            self.extra
        )

    def _check(self, value: Any) -> Any:
        if isinstance(value, str) and re.fullmatch(self.pattern, value):
            return value
        if isinstance(value, str | int | float | bool) or value is None:
            raise ValueError(f"it must be {self.description}")
        return value


def decimal_pattern(maximum: int, places: int) -> str:
    """Return the pattern of decimals above 0 and at most ``maximum``, with ``places`` at most."""
    below = "|".join(str(whole) for whole in range(1, maximum))
    fraction, zeros = rf"(?:\.\d{{1,{places}}})?", rf"(?:\.0{{1,{places}}})?"
    tiny = rf"0?\.(?=\d{{0,{places - 1}}}[1-9])\d{{1,{places}}}"  # 0.01 ... 0.99
    return rf"^(?:(?:{below}){fraction}|{maximum}{zeros}|{tiny})$"


Note = Annotated[
    str,
    # NOTE: not stripped here (services strip), so maxLength means the same as in the document.
    StringConstraints(min_length=1, max_length=NOTE_MAX, pattern=NOT_BLANK),
]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
RepairHours = Annotated[
    Decimal,
    Field(gt=0, le=24, decimal_places=2),
    Written(decimal_pattern(24, 2), 'hours above 0 and at most 24, as "1.50"'),
]


def _utc_moment(value: datetime) -> datetime:
    """Return ``value`` in UTC (naive means UTC), refusing years the hub does not keep."""
    if not EARLIEST.year <= value.year <= LATEST.year:
        raise ValueError(f"the year must be from {EARLIEST.year} to {LATEST.year}")
    return as_utc(value)


Moment = Annotated[
    datetime,
    AfterValidator(_utc_moment),
    Written(
        rf"^{YEAR}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{{1,6}})?(?:Z|[+-]\d\d:\d\d)?$",
        f"a time from year {EARLIEST.year} to {LATEST.year}, as 2026-05-04T09:30:00Z",
        (("format", "date-time"),),
    ),
]
Day = Annotated[
    date,
    Field(ge=EARLIEST, le=LATEST),
    Written(
        rf"^{YEAR}-\d\d-\d\d$",
        f"a day from {EARLIEST} to {LATEST}, YYYY-MM-DD",
        (("format", "date"),),
    ),
]


def _utc(value: datetime) -> datetime:
    return as_utc(value)


Stamp = Annotated[datetime, AfterValidator(_utc)]  # what the hub stored, shown in UTC


class Body(BaseModel):
    """A request body: unknown fields are refused, so a misspelt name is not silently ignored."""

    model_config = ConfigDict(extra="forbid")


class Query(BaseModel):
    """A query string: parameters the API does not know are ignored."""

    model_config = ConfigDict(extra="ignore")


# --- requests -----------------------------------------------------------------------------


class MemberSearch(Query):
    q: str = Field("", max_length=100, pattern=NO_NUL, description="Part of a name or number.")


class LoanFilter(Query):
    state: Literal["open", "overdue", "conflict"] = Field(
        "open", description="All open loans, the overdue ones, or the conflicts to resolve."
    )


class TicketFilter(Query):
    tool_id: Id | None = Field(None, description="Only this tool's tickets.")


class StatementRange(Query):
    since: Moment | None = Field(None, description="From this time (ISO 8601; naive is UTC).")
    until: Moment | None = Field(None, description="Before this time (ISO 8601; naive is UTC).")


class BookingRange(Query):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    first: Day = Field(alias="from", description="First local day (YYYY-MM-DD).")
    last: Day = Field(
        alias="to", description=f"Last local day; at most {LONGEST_RANGE_DAYS} days on."
    )

    @field_validator("last")
    @classmethod
    def _within_range(cls, last: date, info: ValidationInfo) -> date:
        """Refuse a range no JSON Schema can state: a rule between two fields, so not a 422
        of the model (which the document would have to announce) but a rule of the hub's."""
        first = info.data.get("first")
        if first is not None and not first <= last <= first + timedelta(days=LONGEST_RANGE_DAYS):
            raise RuleViolation(
                f"to: must be from 'from' to {LONGEST_RANGE_DAYS} days after it", field="to"
            )
        return last


class Suspension(Body):
    reason: Note = Field(description="Why; the member is told this at the kiosk.")


class Reinstatement(Body):
    reason: Note | None = Field(None, description="Why, for the audit log.")


class Revocation(Body):
    reason: Note | None = Field(None, description="Why, for the audit log.")


class RoleChange(Body):
    roles: list[Literal["member", "volunteer", "steward", "admin"]] = Field(
        max_length=4, description="Every role the member should hold; member is always held."
    )


class Decision(Body):
    reason: Note = Field(description="Why the claim is declined.")


class NewTicket(Body):
    tool_id: Id
    note: Note = Field(description="What is wrong.")
    blocking: bool = Field(False, description="Take the tool out of service until resolved.")


class Resolution(Body):
    note: Note | None = Field(None, description="What was done.")


class ConflictResolution(Body):
    keep: Literal["new", "earlier"] = Field(
        description="new: the conflicting loan stands and the earlier one ends now; "
        "earlier: the conflicting loan never happened (it ends where it began)."
    )
    reason: Note = Field(description="What the steward found at the locker.")


class LoanCorrection(Body):
    reason: Note = Field(description="Why the loan ends without a return.")


class Cancellation(Body):
    reason: Note = Field(description="Why; the member sees it.")


# --- responses ----------------------------------------------------------------------------


class FieldError(BaseModel):
    field: str
    error: str


class Error(BaseModel):
    """A refusal: what was refused, and which input was at fault when one was."""

    error: str
    field: str | None = None
    errors: list[FieldError] | None = None


class MemberOut(BaseModel):
    id: int
    number: str
    name: str
    status: str
    roles: list[str]


class MemberList(BaseModel):
    members: list[MemberOut]


class TokenOut(BaseModel):
    id: int
    holder: str = Field(description="The holder's member number and name.")
    name: str
    scope: TokenScope
    created_at: Stamp
    expires_at: Stamp
    revoked_at: Stamp | None
    last_used_at: Stamp | None
    live: bool


class TokenList(BaseModel):
    tokens: list[TokenOut]


class CardOut(BaseModel):
    uid: str
    label: str | None
    issued_at: Stamp
    revoked_at: Stamp | None


class TrainingOut(BaseModel):
    code: str
    name: str
    granted_at: Stamp
    expires_at: Stamp | None


class MemberDetail(MemberOut):
    email: str | None
    phone: str | None
    status_reason: str | None
    joined_at: Stamp
    cards: list[CardOut]
    trainings: list[TrainingOut]


class ToolOut(BaseModel):
    id: int
    code: str
    name: str
    category: str
    status: str
    status_reason: str | None
    kiosk_id: str | None
    slot: int | None
    loan_days: int


class ToolList(BaseModel):
    tools: list[ToolOut]


class HistoryLine(BaseModel):
    loan_id: int
    member_number: str
    out_at: Stamp
    due_at: Stamp
    returned_at: Stamp | None
    return_condition: str | None


class ToolDetail(ToolOut):
    history: list[HistoryLine]


class LoanOut(BaseModel):
    id: int
    tool_id: int
    tool_code: str
    member_id: int
    member_number: str
    out_at: Stamp
    due_at: Stamp
    overdue: bool
    returned_at: Stamp | None = None
    in_conflict: bool = False
    conflict_of: int | None = Field(None, description="The loan this one collided with.")
    conflict: str | None = Field(None, description="What collided, as stewards read it.")
    corrected_by: int | None = None
    correction_reason: str | None = None


class LoanList(BaseModel):
    loans: list[LoanOut]


class TicketOut(BaseModel):
    id: int
    tool_id: int
    tool_code: str
    status: str
    source: str
    note: str
    blocking: bool
    opened_by: int | None
    opened_at: Stamp
    resolved_at: Stamp | None
    resolved_by: int | None
    resolution_note: str | None


class TicketList(BaseModel):
    tickets: list[TicketOut]


class ClaimOut(BaseModel):
    id: int
    member_id: int
    member_number: str
    tool_id: int
    tool_code: str
    ticket_id: int | None
    hours: Decimal
    note: str
    status: str
    approved_hours: Decimal | None
    decided_by: int | None
    decision_reason: str | None
    transfer_id: int | None
    created_at: Stamp


class ClaimList(BaseModel):
    claims: list[ClaimOut]


class BalanceOut(BaseModel):
    account_id: int
    member_id: int | None
    number: str | None
    name: str
    balance: Decimal
    credit_limit: Decimal | None


class BalanceSheet(BaseModel):
    balances: list[BalanceOut]


class StatementLineOut(BaseModel):
    at: Stamp
    transfer_id: int
    kind: str
    description: str
    category: str | None
    counterparty: str
    hours: Decimal
    balance: Decimal


class Statement(BaseModel):
    member_id: int
    number: str
    balance: Decimal
    lines: list[StatementLineOut]


class AlarmOut(BaseModel):
    id: int
    locker_slot: int
    kind: str
    raised_at: Stamp


class KioskOut(BaseModel):
    id: str
    site: str
    name: str
    online: bool
    healthy: bool
    state: str
    last_seen_at: Stamp | None
    outbox_backlog: int | None
    allowlist_version: int | None
    allowlist_behind: bool
    open_alarms: list[AlarmOut]
    clock_offset_s: float | None = Field(
        None, description="How far the kiosk's clock runs ahead of the hub's (negative: behind)."
    )
    clock_skewed: bool = Field(False, description="Off by more than the configured bound.")
    site_cut_off_since: Stamp | None = Field(
        None,
        description="Since when the kiosk's site has been cut off from the network's broker "
        "(null: linked); meanwhile the kiosk's last report is all the hub knows.",
    )


class Fleet(BaseModel):
    kiosks: list[KioskOut]


class ResourceOut(BaseModel):
    id: int
    code: str
    name: str
    timezone: str
    paused: bool
    site: str | None = Field(description="The site it stands at (null: none given).")


class ResourceList(BaseModel):
    resources: list[ResourceOut]


class BookingOut(BaseModel):
    id: int
    resource_id: int
    member_id: int
    member_number: str
    starts_at: Stamp
    ends_at: Stamp
    status: str
    cancelled_at: Stamp | None
    cancel_reason: str | None


class BookingList(BaseModel):
    bookings: list[BookingOut]


class DeadLetterOut(BaseModel):
    id: int
    received_at: Stamp
    topic: str
    kiosk_id: str | None
    reason: str = Field(description="Why the hub could not take it.")
    settled_at: Stamp | None = Field(description="When a steward settled it; null: waiting.")
    settlement: str | None = Field(description="'applied again (...)' or 'set aside: why'.")


class DeadLetterList(BaseModel):
    waiting: int = Field(description="How many wait for a steward.")
    letters: list[DeadLetterOut]


class LetterQuery(Query):
    waiting_only: bool = Field(False, description="Only the letters no steward has settled.")


class ApplyAgain(Body):
    note: Note | None = Field(None, description="What changed, e.g. the fix deployed.")


class SetAside(Body):
    note: Note = Field(description="Why the letter is settled without applying it.")
