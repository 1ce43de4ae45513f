"""Request and response bodies of the upkeep doors: plans, services, tickets, claims, ledger.

Hours are decimals sent as strings ("1.50"), more than 0 and with at most two decimals, as the
ledger keeps them; the schemas say so, so the OpenAPI document tells the truth.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)
from pydantic.json_schema import JsonDict

from hub.members.roster import NAME_MAX
from hub.timebank.ledger import CATEGORY_MAX, DESCRIPTION_MAX, KEY_MAX, REASON_MAX

from .schemas import NOT_BLANK, Body, Id, Note, RepairHours, Stamp

Text = Annotated[str, StringConstraints(min_length=1, max_length=NAME_MAX, pattern=NOT_BLANK)]
Category = Annotated[
    str,
    StringConstraints(min_length=1, max_length=CATEGORY_MAX, pattern=NOT_BLANK),
]
Description = Annotated[
    str,
    StringConstraints(min_length=1, max_length=DESCRIPTION_MAX, pattern=NOT_BLANK),
]
Reason = Annotated[
    str,
    StringConstraints(min_length=1, max_length=REASON_MAX, pattern=NOT_BLANK),
]
Key = Annotated[str, StringConstraints(min_length=1, max_length=KEY_MAX, pattern=NOT_BLANK)]
Every = Annotated[int, Field(ge=1, le=100_000)]
# Hours as text: up to 1000, at most two decimals ("1.5", "12.25"); as a number, the same.
UP_TO_1000 = r"(?:\d{1,3}(?:\.\d{1,2})?|1000(?:\.0{1,2})?)"
ABOVE_ZERO = rf"^(?!0*(?:\.0*)?$){UP_TO_1000}$"
ZERO_OR_MORE = rf"^{UP_TO_1000}$"


def _hours_schema(pattern: str, minimum: dict[str, float]) -> WithJsonSchema:
    number = {"type": "number", "maximum": 1000, "multipleOf": 0.01} | minimum
    return WithJsonSchema(
        {"anyOf": [number, {"type": "string", "pattern": pattern}]}, mode="validation"
    )


def _text_like(pattern: str) -> BeforeValidator:
    """Refuse hours sent as text that the schema's pattern would not allow ("1e2", " 1")."""

    def check(value: object) -> object:
        if isinstance(value, str) and not re.fullmatch(pattern, value):
            raise ValueError("hours are written like 1.5 or 12.25: at most two decimals, to 1000")
        return value

    return BeforeValidator(check)


TransferHours = Annotated[
    Decimal,
    _text_like(ABOVE_ZERO),
    Field(gt=0, le=1000, decimal_places=2),
    _hours_schema(ABOVE_ZERO, {"exclusiveMinimum": 0}),
]
MayOwe = Annotated[
    Decimal,
    _text_like(ZERO_OR_MORE),
    Field(ge=0, le=1000, decimal_places=2),
    _hours_schema(ZERO_OR_MORE, {"minimum": 0}),
]
MemberNumber = Annotated[str, StringConstraints(min_length=1, max_length=20, pattern=r"^\d+$")]


# --- plans and services -------------------------------------------------------------------


INTERVALS = ("every_loans", "every_days", "every_use_hours")
# What the validator below checks, said in the schema too: exactly one target, an interval.
PLAN_RULES: JsonDict = {
    "oneOf": [
        {"required": [name], "properties": {name: {"type": kind}}}
        for name, kind in (("tool_id", "integer"), ("category", "string"))
    ],
    "anyOf": [
        {"required": [name], "properties": {name: {"type": "integer"}}} for name in INTERVALS
    ],
}


class PlanFields(Body):
    model_config = ConfigDict(extra="forbid", json_schema_extra=PLAN_RULES)

    name: Text = Field(description="What the service is, e.g. 'Sharpen and oil'.")
    tool_id: Id | None = Field(None, description="The one tool it covers; or give category.")
    category: Category | None = Field(None, description="Every tool of this category; or tool_id.")
    every_loans: Every | None = Field(None, description="Due after this many loans.")
    every_days: Every | None = Field(None, description="Due after this many days.")
    every_use_hours: Every | None = Field(None, description="Due after this many hours on loan.")
    blocks_when_overdue: bool = Field(False, description="Stop lending the tool while due.")

    @model_validator(mode="after")
    def _one_target_and_an_interval(self) -> PlanFields:
        if (self.tool_id is None) == (self.category is None):
            raise ValueError("give exactly one of tool_id and category")
        if self.every_loans is None and self.every_days is None and self.every_use_hours is None:
            raise ValueError("give at least one of every_loans, every_days, every_use_hours")
        return self


class NewPlan(PlanFields):
    """A plan falls due by whichever interval comes first since the tool's last service."""


class PlanChange(Body):
    """Only the fields given change; send null to clear an interval or switch the target."""

    name: Text | None = None
    tool_id: Id | None = None
    category: Category | None = None
    every_loans: Every | None = None
    every_days: Every | None = None
    every_use_hours: Every | None = None
    blocks_when_overdue: bool | None = None


class PlanOut(BaseModel):
    id: int
    name: str
    tool_id: int | None
    category: str | None
    every_loans: int | None
    every_days: int | None
    every_use_hours: int | None
    blocks_when_overdue: bool
    created_at: datetime


class PlanList(BaseModel):
    plans: list[PlanOut]


class NewService(Body):
    plan_id: Id = Field(description="The plan the tool was serviced under.")
    note: Note | None = Field(None, description="What was done.")


class ServiceOut(BaseModel):
    id: int
    plan_id: int
    tool_id: int
    serviced_at: datetime
    serviced_by: int | None
    note: str | None


# --- tickets ------------------------------------------------------------------------------


class Start(Body):
    """Nothing to send but {} (an empty body is {} too)."""


class WontFix(Body):
    note: Note = Field(description="Why the ticket is closed without a fix.")


class Blocking(Body):
    blocking: bool = Field(description="true: keep the tool out of service until closed.")


# --- claims -------------------------------------------------------------------------------


class ClaimApproval(Body):
    return_to_service: bool = Field(
        description="true: also resolve the repaired ticket, so the tool returns to service "
        "once nothing else blocks it; false: leave the ticket live (to inspect the tool first)."
    )
    hours: RepairHours | None = Field(None, description="Hours to credit, if not those claimed.")
    reason: Note | None = Field(None, description="Required when the hours differ from the claim.")


# --- the ledger ---------------------------------------------------------------------------


class Reversal(Body):
    reason: Reason = Field(description="Why the transfer is corrected; shown in the ledger.")


class NewTransfer(Body):
    payer: MemberNumber = Field(description="Member number of who pays.")
    payee: MemberNumber = Field(description="Member number of who is paid.")
    hours: TransferHours = Field(description="More than 0, at most two decimals.")
    description: Description = Field(description="What for, e.g. 'Taught the welding workshop'.")
    category: Category = Field(description="What kind of service, e.g. 'workshop'.")
    key: Key | None = Field(
        None, description="Idempotency key: a repeat with the same key returns the first transfer."
    )


class TransferOut(BaseModel):
    id: int
    kind: str
    description: str
    category: str | None
    hours: Decimal
    payer: str
    payee: str
    created_at: datetime
    created_by: int | None
    reverses_transfer_id: int | None


class CreditLimit(Body):
    credit_limit: MayOwe | None = Field(
        description="Hours the member may owe: their balance may go down to minus this "
        "(0: no debt at all). null: no limit."
    )


class CreditLimitOut(BaseModel):
    number: str
    balance: Decimal
    credit_limit: Decimal | None = Field(description="Hours the member may owe; null: no limit.")


class TrustedFixerIn(Body):
    up_to: RepairHours = Field(
        Decimal("2.00"), description="Claims up to this many hours are approved at once."
    )


class TrustedFixerOut(BaseModel):
    number: str
    trusted: bool
    up_to: Decimal | None


class CommunityOut(BaseModel):
    balance: Decimal = Field(description="What the pool holds; it pays repair credits.")
    transfers: list[TransferOut]


class DeskReturn(Body):
    """A tool handed back at the desk, with the return's one question answered."""

    condition: Literal["ok", "needs_repair"] = Field(
        description="needs_repair opens a blocking ticket, and needs a note (422 without one)."
    )
    note: Note | None = Field(default=None, description="What is wrong, for needs_repair.")


class DeskReturnOut(BaseModel):
    loan_id: Id
    tool_id: Id
    tool_code: str
    returned_at: Stamp
    condition: str
    ticket_id: Id | None = Field(description="The blocking ticket a needs_repair return opened.")
