"""Bodies of the market's API (/api/v1/market/..., /api/v1/proposals/...)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from hub.market import posts, proposals

from .schemas import NO_NUL, Body, Moment, Query, Stamp
from .upkeep_schemas import TransferHours

# Some text that is not only blanks, and no NUL (PostgreSQL text cannot hold one): declared as
# a pattern so the OpenAPI document says what the hub refuses.
SOME_TEXT = r"^[^\x00]*[^\s\x00][^\x00]*$"


def _text(limit: int) -> StringConstraints:
    """Text that is not only blanks, up to ``limit`` characters."""
    return StringConstraints(max_length=limit, pattern=SOME_TEXT)


Hours = TransferHours  # above 0, at most 1000, two places, sent as text: as upkeep's
MemberNumber = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{1,10}$")]
Slug = Annotated[str, StringConstraints(pattern=posts.SLUG.pattern)]
Kind = Literal["offer", "request"]


class PostIn(Body):
    kind: Kind
    category: Slug
    title: Annotated[str, _text(posts.TITLE_MAX)]
    text: Annotated[str, _text(posts.TEXT_MAX)]
    where_when: Annotated[str, _text(posts.WHERE_MAX)] | None = None
    tool_code: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9-]{1,24}$")] | None = None


class PostSearch(Query):
    q: Annotated[str, StringConstraints(max_length=100, pattern=NO_NUL)] | None = None
    kind: Kind | None = None
    category: Slug | None = None


class PostOut(BaseModel):
    id: int
    kind: str
    category: str
    title: str
    text: str
    where_when: str | None
    tool_id: int | None
    status: str
    author_number: str
    author_first_name: str
    created_at: Stamp


class AnswerOut(BaseModel):
    id: int
    member_number: str
    member_first_name: str
    note: str
    created_at: Stamp


class PostDetail(PostOut):
    answers: list[AnswerOut]


class PostList(BaseModel):
    posts: list[PostOut]


class AnswerIn(Body):
    note: Annotated[str, _text(posts.NOTE_MAX)]


class ClaimIn(Body):
    """Claim hours for a service I gave; the receiver confirms them."""

    receiver_number: MemberNumber
    hours: Hours
    note: Annotated[str, _text(posts.NOTE_MAX)] | None = None


class GiveIn(Body):
    """Confirm hours, as the receiver, for the member who gave me the service."""

    giver_number: MemberNumber
    hours: Hours
    note: Annotated[str, _text(posts.NOTE_MAX)] | None = None


class ExchangeOut(BaseModel):
    id: int
    post_id: int
    giver_number: str
    receiver_number: str
    hours: Decimal
    status: str
    transfer_id: int | None


class HideIn(Body):
    reason: Annotated[str, _text(posts.REASON_MAX)]


class CategoryIn(Body):
    slug: Slug
    name: Annotated[str, _text(60)]


class CategoryOut(BaseModel):
    slug: str
    name: str


class Categories(BaseModel):
    categories: list[CategoryOut]


class SkillsIn(Body):
    skills: list[Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,29}$")]] = Field(
        max_length=20
    )


class SkillsOut(BaseModel):
    skills: list[str]


class ProposalIn(Body):
    title: Annotated[str, _text(proposals.TITLE_MAX)]
    text: Annotated[str, _text(proposals.TEXT_MAX)]
    closes_at: Moment = Field(description="Between an hour and 90 days from now.")
    rule: Literal["consent", "majority"] = "consent"
    quorum: int = Field(0, ge=0, le=10_000)
    cost_hours: Hours | None = Field(None, description="Hours from the community account.")
    payee_number: MemberNumber | None = Field(None, description="Who receives the hours.")


class VoteIn(Body):
    choice: Literal["yes", "no", "block"]
    reason: Annotated[str, _text(proposals.REASON_MAX)] | None = Field(
        None, description="Required with a block."
    )


class VoteOut(BaseModel):
    member_number: str
    member_first_name: str
    choice: str
    reason: str | None
    cast_at: Stamp


class ProposalOut(BaseModel):
    id: int
    title: str
    text: str
    rule: str
    quorum: int
    cost_hours: Decimal | None
    payee_number: str | None
    opened_at: Stamp
    closes_at: Stamp
    outcome: str | None
    outcome_note: str | None
    yes: int
    no: int
    block: int
    passes_now: bool = Field(description="What the rule makes of the votes as they stand.")
    executed: bool


class ProposalDetail(ProposalOut):
    votes: list[VoteOut]


class ProposalList(BaseModel):
    proposals: list[ProposalOut]


class FixerOut(BaseModel):
    number: str
    name: str
    reasons: list[str]


class FixerList(BaseModel):
    tool_code: str
    tool_status: str
    fixers: list[FixerOut]


class AskIn(Body):
    members: list[MemberNumber] = Field(min_length=1, max_length=50)


class AskOut(BaseModel):
    mailed: list[str] = Field(
        description="Those a mail was queued for; the others have no "
        "address or turned these emails off."
    )
