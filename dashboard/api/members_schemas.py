"""Request bodies of the members' write operations, with the rules the hub enforces declared.

Text is checked as typed (no silent stripping here: the hub strips surrounding blanks), so the
schema's lengths and patterns are the hub's own: no control characters, and a name that is not
only blanks.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from broker.messages import MEMBER_NUMBER_PATTERN, NAME_MAX, TRAINING_CODE_PATTERN
from hub.members.roster import CONTACT_MAX, NOTE_MAX, PHONE_MAX

from .schemas import Body, Day

_CONTROL = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f"
PRINTABLE = rf"^[^{_CONTROL}]*$"
NOT_BLANK = rf"^[^{_CONTROL}]*[^\s{_CONTROL}][^{_CONTROL}]*$"  # one visible character at least
# A card UID as the hub takes it: 4 or 7 bytes of hex, bare or split by ':' or '-' per byte.
UID = (
    r"^(?:[0-9A-Fa-f]{8}|[0-9A-Fa-f]{14}"
    r"|[0-9A-Fa-f]{2}(?:[:-][0-9A-Fa-f]{2}){3}|[0-9A-Fa-f]{2}(?:[:-][0-9A-Fa-f]{2}){6})$"
)

Name = Annotated[str, StringConstraints(max_length=NAME_MAX, pattern=NOT_BLANK)]
Email = Annotated[str, StringConstraints(max_length=CONTACT_MAX, pattern=PRINTABLE)]
Phone = Annotated[str, StringConstraints(max_length=PHONE_MAX, pattern=PRINTABLE)]
Label = Annotated[str, StringConstraints(max_length=NAME_MAX, pattern=PRINTABLE)]
Reason = Annotated[str, StringConstraints(max_length=NOTE_MAX, pattern=NOT_BLANK)]
RoleName = Literal["member", "volunteer", "steward", "admin"]


class NewMember(Body):
    name: Name = Field(description="Full name, as kiosks show it.")
    number: Annotated[str, StringConstraints(pattern=MEMBER_NUMBER_PATTERN)] | None = Field(
        None, description="Member number (1 to 10 digits); the next free one when left out."
    )
    email: Email | None = Field(None, description="Blank or null: none.")
    phone: Phone | None = Field(None, description="Blank or null: none.")
    roles: list[RoleName] = Field(
        default_factory=list,
        max_length=4,
        description="Roles beyond member; only roles below one's own may be granted.",
    )


class MemberEdit(Body):
    name: Name | None = Field(None, description="A new name; null or left out: unchanged.")
    email: Email | None = Field(None, description="A new email; blank or null clears it.")
    phone: Phone | None = Field(None, description="A new phone; blank or null clears it.")
    roles: list[RoleName] | None = Field(
        None, max_length=4, description="Every role the member should hold; left out: unchanged."
    )


class NewCard(Body):
    uid: Annotated[str, StringConstraints(pattern=UID)] = Field(
        description="The card's UID in hex (4 or 7 bytes), e.g. DEADBEEF or 04:A2:2B:1A:3C:5D:80."
    )
    label: Label | None = Field(None, description="e.g. 'key fob' or 'spare card'.")


class LostCard(Body):
    note: Annotated[str, StringConstraints(max_length=NOTE_MAX - 6, pattern=NOT_BLANK)] | None = (
        Field(None, description="Where or when it was lost, for the audit log.")
    )


class Why(Body):
    reason: Reason | None = Field(None, description="Why, for the audit log.")


class TrainingGrant(Body):
    training: Annotated[str, StringConstraints(pattern=TRAINING_CODE_PATTERN)] = Field(
        description="The training's code, e.g. laser."
    )
    expires_on: Day | None = Field(
        None,
        description="Valid to the end of this day (UTC), which must be after today; left out: "
        "for the training's own length, or for ever if it has none.",
    )
