"""Request and response models of the inventory's operations (tools, kiosks, lockers, sites).

Each field declares the rule the hub enforces (``hub.wire`` and ``hub.inventory``), so the
OpenAPI document says what will be refused before it is sent.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints
from pydantic.json_schema import SkipJsonSchema

from broker.messages import MEMBER_NUMBER_PATTERN
from broker.topics import KIOSK_ID_PATTERN, RESERVED_KIOSK_IDS, RESERVED_SITE_IDS, SITE_ID_PATTERN
from hub.inventory.registry import CATEGORY_MAX
from hub.members.roster import NAME_MAX, NOTE_MAX

from .schemas import BLANKS, NOT_BLANK, Body, Stamp

# Text with something other than blanks in it, and no NUL (PostgreSQL text cannot hold one).
NON_BLANK = NOT_BLANK  # as the contract spells it, so Python, Rust and ECMA agree
# A name a kiosk can show: no control characters but tab and newline, not blank.
_SHOWABLE = r"[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*"
PRINTABLE = rf"^{_SHOWABLE}[^\x00-\x20\x7f{BLANKS}]{_SHOWABLE}$"

ToolCode = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,23}$"),
    Field(description="The asset tag: 1-24 letters, digits or '-' (taken as uppercase)."),
]
ToolName = Annotated[str, StringConstraints(max_length=NAME_MAX, pattern=NON_BLANK)]
Category = Annotated[
    str,
    StringConstraints(max_length=CATEGORY_MAX, pattern=NON_BLANK),
    Field(description="Taken as lowercase."),
]
TrainingCode = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$"),
    Field(description="The code of a training the hub knows (taken as lowercase)."),
]
Notes = Annotated[str, StringConstraints(max_length=NOTE_MAX, pattern=r"^[^\x00]*$")]
Reason = Annotated[str, StringConstraints(max_length=NOTE_MAX, pattern=NON_BLANK)]
KioskId = Annotated[
    str,
    StringConstraints(pattern=KIOSK_ID_PATTERN),
    Field(
        description="Lowercase letters, digits and '-'; not a reserved name ('hub').",
        json_schema_extra={"not": {"enum": sorted(RESERVED_KIOSK_IDS)}},
    ),
]
SiteId = Annotated[
    str,
    StringConstraints(pattern=SITE_ID_PATTERN),
    Field(
        description="Lowercase letters, digits and '-'; not a reserved name ('hub').",
        json_schema_extra={"not": {"enum": sorted(RESERVED_SITE_IDS)}},
    ),
]
KioskName = Annotated[str, StringConstraints(max_length=NAME_MAX, pattern=PRINTABLE)]
Slot = Annotated[int, Field(ge=1, le=999)]
LoanDays = Annotated[int, Field(ge=1, le=365)]


class NewTool(Body):
    code: ToolCode
    name: ToolName
    category: Category
    kiosk_id: KioskId | None = Field(None, description="Kiosk of its home locker (with slot).")
    slot: Slot | None = Field(None, description="Slot of its home locker (with kiosk_id).")
    training: TrainingCode | None = Field(None, description="The training a borrower needs.")
    loan_days: LoanDays = 7
    notes: Notes | None = None


class ToolChanges(Body):
    """Only the fields sent change; ``training`` or ``notes`` null (or notes '') clears them."""

    # NOTE: absent means "unchanged"; null is no name, category or loan days, so the schema
    # does not offer it (and the hub refuses it, naming the field).
    name: ToolName | SkipJsonSchema[None] = None
    category: Category | SkipJsonSchema[None] = None
    training: TrainingCode | None = None
    loan_days: LoanDays | SkipJsonSchema[None] = None
    notes: Notes | None = None


class ToolMove(Body):
    kiosk_id: KioskId
    slot: Slot


class ToolRetirement(Body):
    reason: Reason


class ToolRecord(BaseModel):
    id: int
    code: str
    name: str
    category: str
    status: str
    status_reason: str | None
    kiosk_id: str | None = Field(description="Kiosk of its home locker, if it has one.")
    slot: int | None
    training: str | None = Field(description="Code of the training a borrower needs, if any.")
    loan_days: int
    notes: str | None


class CategoryRename(Body):
    category: Category
    new_name: Category = Field(description="An existing category merges the two.")


class CategoryRenamed(BaseModel):
    category: str = Field(description="Its name now.")
    tools: int = Field(description="How many tools moved to it.")


class NewKiosk(Body):
    kiosk_id: KioskId
    site: SiteId
    name: KioskName
    slots: int = Field(0, ge=0, le=999, description="Add lockers 1..slots at once.")


class KioskRename(Body):
    name: KioskName


class NewLockers(Body):
    slots: list[Slot] = Field(min_length=1, max_length=999, description="All added, or none.")
    label: Annotated[str, StringConstraints(max_length=NAME_MAX, pattern=NON_BLANK)] | None = None


class KioskChange(Body):
    """Provisioning or revoking: an optional reason ('SD card stolen'), for the audit log."""

    reason: Reason | None = Field(None, description="Why, for the audit log.")


class KioskRecord(BaseModel):
    id: str
    site: str
    name: str
    registered_at: Stamp
    provisioned_at: Stamp | None = Field(description="When its broker login was last made.")
    revoked_at: Stamp | None = Field(description="When its broker login was revoked.")
    slots: list[int] = Field(description="Its lockers' slots, in order.")


class KioskLogin(BaseModel):
    """A kiosk's broker login: the password is in this answer only, never again."""

    kiosk_id: str
    site: str
    host: str = Field(description="The broker host the kiosk connects to.")
    port: int
    username: str
    password: str
    client_id: str = Field(description="The broker refuses the kiosk under any other.")


# --- sites ---------------------------------------------------------------------------------

Policy = Annotated[
    Literal["everyone", "listed"],
    Field(description="Who may borrow there: everyone, or the members listed (stewards always)."),
]
MemberNumber = Annotated[str, StringConstraints(pattern=MEMBER_NUMBER_PATTERN)]


class NewSite(Body):
    site_id: SiteId
    name: KioskName
    policy: Policy = "everyone"


class SiteRename(Body):
    name: KioskName


class SitePolicyChange(Body):
    policy: Policy


class SiteMemberAdd(Body):
    number: MemberNumber = Field(description="The member's number.")


class SiteMemberOut(BaseModel):
    number: str
    name: str


class SiteLinkOut(BaseModel):
    connected: bool = Field(description="Whether the site's bridge is up now.")
    since: Stamp


class SiteRecord(BaseModel):
    id: str
    name: str
    policy: str
    created_at: Stamp
    bridge_provisioned_at: Stamp | None = Field(description="When its bridge login was made.")
    bridge_revoked_at: Stamp | None = Field(description="When its bridge login was revoked.")
    link: SiteLinkOut | None = Field(description="Its bridge's state as last reported, if ever.")
    kiosks: list[str]
    members: list[SiteMemberOut] = Field(description="The members listed there, by number.")
    cards: int = Field(description="How many cards its kiosks' allow-list holds.")


class SiteList(BaseModel):
    sites: list[SiteRecord]


class BridgeLoginOut(BaseModel):
    """A site bridge's login on the network's broker: the password is here only, never again."""

    site: str
    host: str = Field(description="The network's broker, as the hub knows it.")
    port: int
    username: str
    password: str
    client_id: str = Field(description="The broker refuses the bridge under any other.")
    commands: list[str] = Field(description="What to run on the site's box (the setup sheet).")
