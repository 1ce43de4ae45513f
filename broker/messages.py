"""Every MQTT payload of protocol v1, as strict pydantic models, with encode and decode.

Payloads are UTF-8 JSON objects that state their schema version ``"v": 1``. Decoding is the
only way bytes from the wire become objects, and it fails in exactly one way:
``MalformedMessage``, whose text names the field at fault. See ``broker/PROTOCOL.md``.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Final, Literal, Self, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    SerializerFunctionWrapHandler,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    model_serializer,
    model_validator,
)

from broker.topics import (
    KIOSK_ID_PATTERN,
    SITE_ID_PATTERN,
    Channel,
    validate_kiosk_id,
    validate_site_id,
)
from broker.uids import CANONICAL_UID_PATTERN

SCHEMA_VERSION: Final = 1
# The protocol's version as PROTOCOL.md states it: the wire is ``"v": 1``; the minor version
# counts the optional fields added since (1.2: reservations, borrowing limits, loans' due times,
# the site's time zone).
PROTOCOL_VERSION: Final = "1.2"
MAX_PAYLOAD_BYTES = 64 * 1024
# An allow-list carries every member of the network; 4 MiB holds some 15,000 members.
MAX_ALLOWLIST_BYTES = 4 * 1024 * 1024
NOTE_MAX = 500
NAME_MAX = 120
REASON_MAX = 500
MAX_INT64 = 2**63 - 1  # the database's BIGINT: a larger number must not get that far
# The broker's max_packet_size (broker/mosquitto.conf.template): the id of an event up to this
# size is read, so that even an oversized event is acked ``rejected`` (rule 7).
MAX_PACKET_BYTES = 5 * 1024 * 1024
ECHOED_ID_MAX = 64
MAX_ACKS_PER_MESSAGE = 200
FEATURE_PATTERN = r"^[a-z][a-z0-9_]{0,31}$"
# What a kiosk advertises in its status to get several acks in one message (``EventAcks``).
BATCHED_ACKS: Final = "batched_acks"

TOOL_CODE_PATTERN = r"^[A-Z0-9][A-Z0-9-]{0,23}$"
TRAINING_CODE_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,39}$"
MEMBER_NUMBER_PATTERN = r"^[0-9]{1,10}$"
UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
SHA256_PATTERN = r"^[0-9a-f]{64}$"
ERROR_CODE_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
# NUL and other control characters break PostgreSQL text and terminals; tabs and newlines are
# fine in notes.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class MalformedMessage(ValueError):
    """A payload that is not a valid protocol v1 message; the text names the field at fault."""


# --- field types ---------------------------------------------------------------------------


def _printable(value: str) -> str:
    """Refuse control characters (other than tab and newline) and blank text."""
    if _CONTROL_CHARACTERS.search(value):
        raise ValueError("must not contain control characters")
    if not value.strip():
        raise ValueError("must not be blank")
    return value


def _utc(moment: datetime) -> datetime:
    """Refuse a time that is not stated in UTC, so that all parties compare like with like."""
    if moment.utcoffset() != timedelta(0):
        raise ValueError("must be in UTC (end with 'Z' or '+00:00')")
    return moment


CardUid = Annotated[str, StringConstraints(pattern=CANONICAL_UID_PATTERN)]
ToolCode = Annotated[str, StringConstraints(pattern=TOOL_CODE_PATTERN)]
TrainingCode = Annotated[str, StringConstraints(pattern=TRAINING_CODE_PATTERN)]
# The topic's rules too (reserved names), so a payload and its topic agree on every id.
KioskId = Annotated[
    str, StringConstraints(pattern=KIOSK_ID_PATTERN), AfterValidator(validate_kiosk_id)
]
SiteId = Annotated[
    str, StringConstraints(pattern=SITE_ID_PATTERN), AfterValidator(validate_site_id)
]
MessageId = Annotated[str, StringConstraints(pattern=UUID_PATTERN)]
# An id the hub echoes back (acks, responses): whatever id it could read from the message, so
# that even a message whose id is not a UUID is answered and leaves the kiosk's outbox.
EchoedId = Annotated[
    str,
    StringConstraints(min_length=1, max_length=ECHOED_ID_MAX),
    AfterValidator(_printable),
]
Sha256Hex = Annotated[str, StringConstraints(pattern=SHA256_PATTERN)]
UtcTime = Annotated[AwareDatetime, AfterValidator(_utc)]
LockerSlot = Annotated[int, Field(ge=1, le=999)]
# An IANA time zone name ("Europe/London"); the kiosk checks it against its own tz database.
TimeZoneName = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+){0,2}$", max_length=64),
]
LoanDays = Annotated[int, Field(ge=1, le=365)]
MemberNumber = Annotated[str, StringConstraints(pattern=MEMBER_NUMBER_PATTERN)]
Version = Annotated[int, Field(ge=1, le=MAX_INT64)]
# Non-blank, printable text of at most so many characters.
Note = Annotated[
    str, StringConstraints(min_length=1, max_length=NOTE_MAX), AfterValidator(_printable)
]
Name = Annotated[
    str, StringConstraints(min_length=1, max_length=NAME_MAX), AfterValidator(_printable)
]
Reason = Annotated[
    str, StringConstraints(min_length=1, max_length=REASON_MAX), AfterValidator(_printable)
]
Hours = Annotated[Decimal, Field(gt=0, le=24, decimal_places=2, allow_inf_nan=False)]
Role = Literal["member", "volunteer", "steward", "admin"]
RefusalReason = Literal[
    "unknown_card",
    "member_suspended",
    "training_required",
    "training_expired",
    "tool_out_of_service",
    "steward_required",
    "locker_empty",
    "allowlist_missing",
    # protocol 1.2: a tool kept for another member, and the borrowing policy
    "tool_reserved",
    "loan_limit",
    "borrowing_paused",
]


class _Model(BaseModel):
    """Strict: no coercion, no unknown fields, no mutation after validation."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, allow_inf_nan=False)


class Message(_Model):
    """A top-level payload: it states its schema version."""

    v: Literal[1] = SCHEMA_VERSION
    max_bytes: ClassVar[int] = MAX_PAYLOAD_BYTES
    # Fields added after v1.0, left off the wire while null, so a v1.0 peer still decodes it.
    added_fields: ClassVar[frozenset[str]] = frozenset()
    channel: ClassVar[Channel]  # the channel whose topic carries this message

    def unset_additions(self) -> dict[str, Any]:
        """Return the pydantic ``exclude`` of the added fields that are null here: they stay
        off the wire and out of the content hash, so a v1.0 peer still decodes the message."""
        return {name: True for name in self.added_fields if getattr(self, name) is None}


# --- kiosk events --------------------------------------------------------------------------


class LoanOut(_Model):
    """A member took a tool out of its locker."""

    card_uid: CardUid
    tool_code: ToolCode
    locker_slot: LockerSlot


class ToolReturn(_Model):
    """A member put a tool back and answered: is it OK?"""

    card_uid: CardUid
    tool_code: ToolCode
    locker_slot: LockerSlot
    condition: Literal["ok", "needs_repair"]
    note: Note | None = None

    @model_validator(mode="after")
    def _needs_repair_says_why(self) -> Self:
        if self.condition == "needs_repair" and self.note is None:
            raise ValueError("note is required when condition is 'needs_repair'")
        return self


class RepairLogged(_Model):
    """A member logged the hours spent repairing a tool; a steward approves them on the hub."""

    card_uid: CardUid
    tool_code: ToolCode
    hours: Hours
    note: Note


class MaintenanceOpened(_Model):
    """A steward opened a maintenance ticket at the kiosk."""

    card_uid: CardUid
    tool_code: ToolCode
    note: Note


class DoorChange(_Model):
    """A locker door opened, closed, stayed open too long, or opened without a pulse."""

    locker_slot: LockerSlot


class CardRefused(_Model):
    """The kiosk refused a card, and why."""

    card_uid: CardUid
    reason: RefusalReason
    tool_code: ToolCode | None = None


class _Event(Message):
    """The envelope every kiosk event shares; ``type`` selects the body."""

    event_id: MessageId
    kiosk_id: KioskId
    seq: Annotated[int, Field(ge=0, le=MAX_INT64)]
    kiosk_time: UtcTime
    channel: ClassVar[Channel] = Channel.EVENTS


class LoanOutEvent(_Event):
    type: Literal["loan_out"] = "loan_out"
    body: LoanOut


class ToolReturnEvent(_Event):
    type: Literal["tool_return"] = "tool_return"
    body: ToolReturn


class RepairLoggedEvent(_Event):
    type: Literal["repair_logged"] = "repair_logged"
    body: RepairLogged


class MaintenanceOpenedEvent(_Event):
    type: Literal["maintenance_opened"] = "maintenance_opened"
    body: MaintenanceOpened


class DoorOpenedEvent(_Event):
    type: Literal["door_opened"] = "door_opened"
    body: DoorChange


class DoorClosedEvent(_Event):
    type: Literal["door_closed"] = "door_closed"
    body: DoorChange


class DoorLeftOpenEvent(_Event):
    type: Literal["door_left_open"] = "door_left_open"
    body: DoorChange


class DoorForcedEvent(_Event):
    type: Literal["door_forced"] = "door_forced"
    body: DoorChange


class CardRefusedEvent(_Event):
    type: Literal["card_refused"] = "card_refused"
    body: CardRefused


Event = Annotated[
    LoanOutEvent
    | ToolReturnEvent
    | RepairLoggedEvent
    | MaintenanceOpenedEvent
    | DoorOpenedEvent
    | DoorClosedEvent
    | DoorLeftOpenEvent
    | DoorForcedEvent
    | CardRefusedEvent,
    Field(discriminator="type"),
]
EVENT_CLASSES: tuple[type[_Event], ...] = (
    LoanOutEvent,
    ToolReturnEvent,
    RepairLoggedEvent,
    MaintenanceOpenedEvent,
    DoorOpenedEvent,
    DoorClosedEvent,
    DoorLeftOpenEvent,
    DoorForcedEvent,
    CardRefusedEvent,
)
EVENT_TYPES: tuple[str, ...] = tuple(c.model_fields["type"].default for c in EVENT_CLASSES)


AckStatus = Literal["applied", "duplicate", "rejected"]


class EventAck(Message):
    """The hub's answer to one event, sent after the transaction that applied it committed.

    ``duplicate`` (the id was seen before) carries the original outcome: ``reason`` is null if
    the event was applied, and the original reason if it was rejected.
    """

    event_id: EchoedId
    status: AckStatus
    reason: Reason | None = None
    channel: ClassVar[Channel] = Channel.ACKS

    @model_validator(mode="after")
    def _rejection_says_why(self) -> Self:
        _check_reason(self.status, self.reason)
        return self

    @property
    def rejected(self) -> bool:
        """Whether the hub will never apply the event (rejected now, or when first seen)."""
        return self.status == "rejected" or (self.status == "duplicate" and self.reason is not None)


class AckEntry(_Model):
    """One event's acknowledgement inside ``EventAcks``: the fields of an ``EventAck``."""

    event_id: EchoedId
    status: AckStatus
    reason: Reason | None = None

    @model_validator(mode="after")
    def _rejection_says_why(self) -> Self:
        _check_reason(self.status, self.reason)
        return self


class EventAcks(Message):
    """Several events' acknowledgements in one message, for a kiosk that asked for them
    (its status lists the ``batched_acks`` feature); same topic as ``EventAck``."""

    acks: Annotated[list[AckEntry], Field(min_length=1, max_length=MAX_ACKS_PER_MESSAGE)]
    channel: ClassVar[Channel] = Channel.ACKS

    def each(self) -> list[EventAck]:
        """Return the acknowledgements one by one."""
        return [EventAck(**entry.model_dump()) for entry in self.acks]


def _check_reason(status: str, reason: str | None) -> None:
    if status == "rejected" and reason is None:
        raise ValueError("reason is required when status is 'rejected'")


def encode_acks(acks: Iterable[EventAck], *, batched: bool) -> list[bytes]:
    """Return the payloads that carry ``acks`` to one kiosk: one ``EventAck`` each, or, for
    a kiosk that asked for ``batched_acks``, ``EventAcks`` of up to 200 and 64 KiB each.
    """
    acks = list(acks)
    if not batched:
        return [encode(ack) for ack in acks]
    entries = [AckEntry(event_id=a.event_id, status=a.status, reason=a.reason) for a in acks]
    return [
        raw
        for start in range(0, len(entries), MAX_ACKS_PER_MESSAGE)
        for raw in _encode_batch(entries[start : start + MAX_ACKS_PER_MESSAGE])
    ]


def _encode_batch(entries: list[AckEntry]) -> list[bytes]:
    """Encode ``entries`` as one ``EventAcks``, or as halves while it is over 64 KiB (200
    rejections with long reasons can be)."""
    raw = EventAcks(acks=entries).model_dump_json().encode("utf-8")
    if len(raw) <= EventAcks.max_bytes or len(entries) == 1:
        return [raw]
    middle = len(entries) // 2
    return _encode_batch(entries[:middle]) + _encode_batch(entries[middle:])


# --- availability --------------------------------------------------------------------------


class Availability(Message):
    """A kiosk's retained status: ``online`` when it connects, ``offline`` as its last will.

    ``since`` is when the kiosk came online; a last will has no ``since`` (the broker sends it
    at a moment the kiosk cannot know), so take the time you received it.
    """

    state: Literal["online", "offline"]
    since: UtcTime | None = None
    allowlist_version: Version | None = None
    config_version: Version | None = None
    outbox_backlog: Annotated[int, Field(ge=0, le=MAX_INT64)] | None = None
    # protocol features the kiosk understands beyond v1 (e.g. ``batched_acks``); unknown ones
    # are ignored. A v1.0 hub refuses the field: roll the hub out first.
    features: (
        Annotated[
            list[Annotated[str, StringConstraints(pattern=FEATURE_PATTERN)]], Field(max_length=16)
        ]
        | None
    ) = None
    # Health (protocol 1.1, all optional: an older kiosk's status stays valid). The reader:
    # "ok" or "missing" (its chip does not answer), and how often it was re-initialised.
    reader: Literal["ok", "missing"] | None = None
    reader_reinitialised: Annotated[int, Field(ge=0, le=MAX_INT64)] | None = None
    # How long the oldest event not yet acknowledged by the hub has waited, in seconds.
    oldest_unacked_s: Annotated[float, Field(ge=0, le=10**9, allow_inf_nan=False)] | None = None
    last_error: Reason | None = None  # the kiosk's latest failure, cut to REASON_MAX
    # Whether the kiosk found the GPIO settings that keep its locks fail-secure in place
    # ("not_applicable": simulated pins, off a Pi).
    locks_safety: Literal["verified", "not_applicable"] | None = None
    channel: ClassVar[Channel] = Channel.STATUS
    added_fields: ClassVar[frozenset[str]] = frozenset(
        {
            "features",
            "reader",
            "reader_reinitialised",
            "oldest_unacked_s",
            "last_error",
            "locks_safety",
        }
    )

    def speaks(self, feature: str) -> bool:
        """Whether the kiosk said it understands ``feature``."""
        return feature in (self.features or ())


# --- allow-list and kiosk configuration ----------------------------------------------------


class AllowListMember(_Model):
    """What a kiosk knows of the member holding a card."""

    member_id: Annotated[int, Field(ge=1, le=MAX_INT64)]
    number: MemberNumber
    name: Name
    status: Literal["active", "suspended"]
    roles: Annotated[list[Role], Field(max_length=4)]
    # training code -> expiry (None: never expires)
    trainings: Annotated[dict[TrainingCode, UtcTime | None], Field(max_length=200)] = {}
    # tools on loan to this member, so any kiosk can take one back (into an empty locker)
    loans: Annotated[list[ToolCode], Field(max_length=100)] = []
    # protocol 1.2: when each of those loans is due back (the hub's time), so the kiosk can
    # pause borrowing for a member whose tools are overdue by more than the limits allow
    loans_due: Annotated[dict[ToolCode, UtcTime], Field(max_length=100)] | None = None
    added_fields: ClassVar[frozenset[str]] = frozenset({"loans_due"})  # see unset_additions

    def overdue(self, now: datetime, grace_days: int = 0) -> list[str]:
        """Return the codes of this member's tools due back more than ``grace_days`` ago."""
        late = now - timedelta(days=grace_days)
        return sorted(code for code, due in (self.loans_due or {}).items() if due < late)


class Reservation(_Model):
    """A tool kept in its locker for the member first in its hold queue, until a time."""

    member_number: MemberNumber
    until: UtcTime


class BorrowingLimits(_Model):
    """The stewards' borrowing policy, as far as a kiosk enforces it (null: no limit)."""

    max_loans: Annotated[int, Field(ge=1, le=100)] | None = None  # tools out at once
    # borrowing pauses while a tool is out more than this many days past its due date
    overdue_grace_days: Annotated[int, Field(ge=0, le=365)] | None = None


_UNSEALED: dict[str, bool] = {"unsealed": True}  # a draft whose hash is yet to be computed


class _Snapshot(Message):
    """A retained, versioned document whose ``content_hash`` covers its ``content_fields``."""

    version: Version
    content_hash: Sha256Hex
    generated_at: UtcTime
    content_fields: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="after")
    def _hash_matches_content(self, info: ValidationInfo) -> Self:
        if info.context is _UNSEALED:
            return self
        expected = content_hash(self)
        if self.content_hash != expected:
            raise ValueError(f"content_hash does not match the content (it hashes to {expected})")
        return self

    @classmethod
    def _seal(cls, *, version: int, generated_at: datetime, content: dict[str, Any]) -> Self:
        """Build the snapshot with the hash of ``content``: validate a draft, then hash it."""
        draft = cls.model_validate(
            {"version": version, "generated_at": generated_at, "content_hash": "0" * 64, **content},
            context=_UNSEALED,
        )
        return draft.model_copy(update={"content_hash": content_hash(draft)})


class AllowList(_Snapshot):
    """The cards a kiosk may honour, synced from the hub, retained on the kiosk's topic."""

    entries: Annotated[dict[CardUid, AllowListMember], Field(max_length=100_000)]
    tools_out_of_service: Annotated[list[ToolCode], Field(max_length=10_000)] = []
    # tool code -> the training its borrower needs
    tool_trainings: Annotated[dict[ToolCode, TrainingCode], Field(max_length=10_000)] = {}
    # protocol 1.2: tool code -> the member it is kept for, and until when
    reservations: Annotated[dict[ToolCode, Reservation], Field(max_length=10_000)] | None = None
    limits: BorrowingLimits | None = None  # protocol 1.2
    content_fields: ClassVar[frozenset[str]] = frozenset(
        {"entries", "tools_out_of_service", "tool_trainings", "reservations", "limits"}
    )
    added_fields: ClassVar[frozenset[str]] = frozenset({"reservations", "limits"})
    max_bytes: ClassVar[int] = MAX_ALLOWLIST_BYTES
    channel: ClassVar[Channel] = Channel.ALLOWLIST

    def unset_additions(self) -> dict[str, Any]:
        """Leave off, besides the document's own, each entry's ``loans_due`` that is null."""
        unset = super().unset_additions()
        bare = {uid: {"loans_due": True} for uid, e in self.entries.items() if e.loans_due is None}
        if bare:
            unset["entries"] = bare
        return unset

    @classmethod
    def build(
        cls,
        *,
        version: int,
        generated_at: datetime,
        entries: Mapping[str, AllowListMember],
        tools_out_of_service: Iterable[str] = (),
        tool_trainings: Mapping[str, str] | None = None,
        reservations: Mapping[str, Reservation] | None = None,
        limits: BorrowingLimits | None = None,
    ) -> Self:
        """Return an allow-list with its content hash filled in (lists sorted, for the hash).

        No reservations and no limits are left off the wire, so a v1.1 kiosk decodes it.
        """
        content = {
            "entries": dict(sorted(entries.items())),
            "tools_out_of_service": sorted(set(tools_out_of_service)),
            "tool_trainings": dict(sorted((tool_trainings or {}).items())),
            "reservations": dict(sorted(reservations.items())) if reservations else None,
            "limits": limits if limits and limits != BorrowingLimits() else None,
        }
        return cls._seal(version=version, generated_at=generated_at, content=content)


class LockerTool(_Model):
    """The tool that lives in a locker, how long it may be borrowed, and its name for the
    screen (protocol 1.2, optional)."""

    tool_code: ToolCode
    loan_days: LoanDays = 7
    name: Name | None = None

    @model_serializer(mode="wrap")
    def _leave_off_unnamed(self, dump: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Leave ``name`` off while null, so a nameless config is the v1.1 bytes and hash."""
        data: dict[str, Any] = dump(self)
        if self.name is None:
            data.pop("name", None)
        return data


class KioskConfig(_Snapshot):
    """A kiosk's settings from the hub, retained on the kiosk's topic."""

    site: SiteId
    kiosk_id: KioskId
    name: Name
    # locker slot -> its tool (None: the locker is empty)
    lockers: Annotated[dict[LockerSlot, LockerTool | None], Field(max_length=999)]
    door_left_open_after_s: Annotated[int, Field(ge=5, le=3600)] = 60
    session_timeout_s: Annotated[int, Field(ge=5, le=600)] = 30
    # The site's time zone (protocol 1.2, optional), for times on the screen: "Europe/London".
    timezone: TimeZoneName | None = None
    content_fields: ClassVar[frozenset[str]] = frozenset(
        {
            "site",
            "kiosk_id",
            "name",
            "lockers",
            "door_left_open_after_s",
            "session_timeout_s",
            "timezone",
        }
    )
    added_fields: ClassVar[frozenset[str]] = frozenset({"timezone"})
    channel: ClassVar[Channel] = Channel.CONFIG

    @classmethod
    def build(
        cls,
        *,
        version: int,
        generated_at: datetime,
        site: str,
        kiosk_id: str,
        name: str,
        lockers: Mapping[int, LockerTool | None],
        door_left_open_after_s: int = 60,
        session_timeout_s: int = 30,
        timezone: str | None = None,
    ) -> Self:
        """Return a kiosk configuration with its content hash filled in."""
        content = {
            "site": site,
            "kiosk_id": kiosk_id,
            "name": name,
            "lockers": dict(sorted(lockers.items())),
            "door_left_open_after_s": door_left_open_after_s,
            "session_timeout_s": session_timeout_s,
            "timezone": timezone,
        }
        return cls._seal(version=version, generated_at=generated_at, content=content)


def canonical_json(data: Any) -> bytes:
    """Return ``data`` as canonical JSON: sorted keys, no spaces, UTF-8 (the hash's input)."""
    return json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def content_hash(snapshot: _Snapshot) -> str:
    """Return the sha256 (hex) of the canonical JSON of ``snapshot``'s content fields."""
    content = snapshot.model_dump(
        mode="json", include=set(snapshot.content_fields), exclude=snapshot.unset_additions()
    )
    return hashlib.sha256(canonical_json(content)).hexdigest()


# --- requests and responses ----------------------------------------------------------------


class CardParams(_Model):
    card_uid: CardUid


class ToolParams(_Model):
    tool_code: ToolCode


class _Request(Message):
    """A kiosk's question to the hub; the answer goes to the request's MQTT v5 response topic."""

    request_id: MessageId
    channel: ClassVar[Channel] = Channel.REQUESTS


class MemberStatusRequest(_Request):
    kind: Literal["member_status"] = "member_status"
    params: CardParams


class ToolStatusRequest(_Request):
    kind: Literal["tool_status"] = "tool_status"
    params: ToolParams


class BalanceRequest(_Request):
    kind: Literal["balance"] = "balance"
    params: CardParams


Request = Annotated[
    MemberStatusRequest | ToolStatusRequest | BalanceRequest, Field(discriminator="kind")
]
REQUEST_CLASSES: tuple[type[_Request], ...] = (
    MemberStatusRequest,
    ToolStatusRequest,
    BalanceRequest,
)


class ResponseError(_Model):
    code: Annotated[str, StringConstraints(pattern=ERROR_CODE_PATTERN)]  # see ERROR_CODES
    message: Reason


def _finite_numbers(data: dict[str, JsonValue]) -> dict[str, JsonValue]:
    """Refuse a JSON object holding a number that is not finite, at any depth."""

    def finite(value: JsonValue) -> bool:
        if isinstance(value, float):
            return math.isfinite(value)
        if isinstance(value, dict):
            return all(finite(item) for item in value.values())
        if isinstance(value, list):
            return all(finite(item) for item in value)
        return True

    if not finite(data):
        raise ValueError("numbers must be finite (JSON has no Infinity or NaN)")
    return data


class Response(Message):
    """The hub's answer to one request: ``ok`` with ``data``, or not ``ok`` with ``error``."""

    request_id: EchoedId
    ok: bool
    error: ResponseError | None = None
    # NOTE: JSON has no Infinity or NaN, and the model's allow_inf_nan does not reach inside
    # a JsonValue: refused here, or Infinity would decode and then encode as null.
    data: Annotated[dict[str, JsonValue], AfterValidator(_finite_numbers)] | None = None
    channel: ClassVar[Channel] = Channel.RESPONSES

    @model_validator(mode="after")
    def _ok_or_error(self) -> Self:
        if self.ok and self.error is not None:
            raise ValueError("error must be null when ok is true")
        if not self.ok and (self.error is None or self.data is not None):
            raise ValueError("a response that is not ok needs an error and no data")
        return self


# What the hub puts in ``Response.data``, by request kind. ``Response`` keeps ``data`` a plain
# JSON object (a v1.0 kiosk decodes it as such); these models are its documented shapes, and
# the hub builds every answer through them.


class MemberStatusData(_Model):
    """The answer to ``member_status``: the card holder as the hub knows them."""

    number: Annotated[str, StringConstraints(pattern=MEMBER_NUMBER_PATTERN)]
    name: Name
    status: Literal["active", "suspended"]
    roles: Annotated[list[Role], Field(max_length=4)]
    # the allow-list version the answer was read from; null: read from the database
    allowlist_version: Version | None


class ToolStatusData(_Model):
    """The answer to ``tool_status``: a tool's state and, when on loan, when it is due back."""

    tool_code: ToolCode
    status: Literal["available", "on_loan", "out_of_service", "retired"]
    reason: Reason | None  # why it is out of service or retired, if the hub knows
    due_at: UtcTime | None  # the open loan's due time (the hub's clock), if on loan


class BalanceData(_Model):
    """The answer to ``balance``: the card holder's timebank balance in hours."""

    number: Annotated[str, StringConstraints(pattern=MEMBER_NUMBER_PATTERN)]
    # a decimal string with two places; negative when the member owes hours
    hours: Annotated[str, StringConstraints(pattern=r"^-?[0-9]{1,12}\.[0-9]{2}$")]


RESPONSE_DATA: dict[str, type[_Model]] = {
    "member_status": MemberStatusData,
    "tool_status": ToolStatusData,
    "balance": BalanceData,
}

# Every ``ResponseError.code`` the hub sends, and when.
ERROR_CODES: dict[str, str] = {
    "not_found": "the card, member or tool the request names is not known to the hub",
    "refused": "a rule of the hub refuses the question (the message says which)",
    "malformed_request": "the request did not decode; the message names the field at fault",
    "internal_error": "the hub failed to answer (a database outage); ask again later",
}


# --- encode and decode ---------------------------------------------------------------------

M = TypeVar("M", bound=Message)

_EVENT = TypeAdapter(Event)
_REQUEST = TypeAdapter(Request)
_ECHOED_ID: TypeAdapter[str] = TypeAdapter(EchoedId)


def new_message_id() -> str:
    """Return a fresh event or request id (a random UUID, lowercase, as the wire wants it)."""
    return str(uuid.uuid4())


def encode(message: Message) -> bytes:
    """Return ``message`` as the UTF-8 JSON the wire carries; refuse one too large to decode."""
    raw = message.model_dump_json(exclude=message.unset_additions() or None).encode("utf-8")
    if len(raw) > message.max_bytes:
        raise MalformedMessage(
            f"{type(message).__name__} is {len(raw):,} bytes encoded; the limit is "
            f"{message.max_bytes:,}"
        )
    return raw


def decode(raw: bytes, model: type[M]) -> M:
    """Return ``raw`` decoded as ``model``, or raise MalformedMessage naming the field."""
    return _decode(raw, model.model_validate_json, model.max_bytes)


def decode_event(raw: bytes, *, kiosk_id: str | None = None) -> Event:
    """Return the kiosk event in ``raw``; with ``kiosk_id`` (from the topic), insist it matches."""
    event = _decode(raw, _EVENT.validate_json, MAX_PAYLOAD_BYTES)
    if kiosk_id is not None and event.kiosk_id != kiosk_id:
        raise MalformedMessage(
            f"kiosk_id: the payload says {event.kiosk_id!r} but it came from kiosk {kiosk_id!r}"
        )
    return event


def event_id_of(raw: bytes) -> str | None:
    """Return the event id of a payload that did not decode, if one can be read, else None.

    The hub acks such an event ``rejected``, so the kiosk's outbox does not retry it forever:
    any printable string of at most 64 characters counts (a UUID or not), in a payload of up
    to the broker's packet limit (an event over 64 KiB too).
    """
    return _id_of(raw, "event_id")


def request_id_of(raw: bytes) -> str | None:
    """Return the request id of a payload that did not decode, if one can be read, else None
    (the hub answers with a ``malformed_request`` error carrying it)."""
    return _id_of(raw, "request_id")


def _id_of(raw: bytes, field: str) -> str | None:
    if not isinstance(raw, bytes | bytearray) or len(raw) > MAX_PACKET_BYTES:
        return None
    try:
        data = json.loads(bytes(raw).decode("utf-8"))
    except (ValueError, RecursionError):
        return None
    value = data.get(field) if isinstance(data, dict) else None
    try:
        return _ECHOED_ID.validate_python(value)
    except ValidationError:
        return None


def decode_request(raw: bytes) -> Request:
    """Return the kiosk request in ``raw``."""
    return _decode(raw, _REQUEST.validate_json, MAX_PAYLOAD_BYTES)


def decode_ack(raw: bytes) -> EventAck:
    """Return the single event acknowledgement in ``raw``."""
    return decode(raw, EventAck)


def decode_acks(raw: bytes) -> EventAck | EventAcks:
    """Return what an ``acks`` topic carried: one ``EventAck``, or several (``EventAcks``)."""
    if _is_batch(raw):
        return decode(raw, EventAcks)
    return decode(raw, EventAck)


def acks_in(raw: bytes) -> list[EventAck]:
    """Return the acknowledgements an ``acks`` payload carries, one or many."""
    message = decode_acks(raw)
    return message.each() if isinstance(message, EventAcks) else [message]


def _is_batch(raw: bytes) -> bool:
    """Tell a batch by its top-level ``acks`` key (decoding then checks the rest)."""
    if not isinstance(raw, bytes | bytearray) or b'"acks"' not in raw:
        return False  # the common, single case costs no second parse
    try:
        data = json.loads(bytes(raw).decode("utf-8"))
    except (ValueError, RecursionError):
        return False
    return isinstance(data, dict) and "acks" in data


def decode_availability(raw: bytes) -> Availability:
    """Return the availability in ``raw``."""
    return decode(raw, Availability)


def decode_allowlist(raw: bytes) -> AllowList:
    """Return the allow-list in ``raw`` (its content hash checked)."""
    return decode(raw, AllowList)


def decode_config(raw: bytes) -> KioskConfig:
    """Return the kiosk configuration in ``raw`` (its content hash checked)."""
    return decode(raw, KioskConfig)


def decode_response(raw: bytes) -> Response:
    """Return the response in ``raw``."""
    return decode(raw, Response)


DECODERS: dict[Channel, Callable[[bytes], Message]] = {
    Channel.EVENTS: decode_event,
    Channel.STATUS: decode_availability,
    Channel.REQUESTS: decode_request,
    Channel.ACKS: decode_acks,
    Channel.ALLOWLIST: decode_allowlist,
    Channel.CONFIG: decode_config,
    Channel.RESPONSES: decode_response,
}


def _decode(raw: bytes, validate_json: Callable[[str], M], max_bytes: int) -> M:
    """Check size and encoding, validate, and turn every failure into MalformedMessage."""
    if not isinstance(raw, bytes | bytearray | memoryview):
        raise MalformedMessage(f"payload must be bytes, not {type(raw).__name__}")
    if len(raw) > max_bytes:
        raise MalformedMessage(f"payload is {len(raw):,} bytes; the limit is {max_bytes:,}")
    try:
        text = bytes(raw).decode("utf-8")
    except UnicodeDecodeError as error:
        raise MalformedMessage(f"payload is not UTF-8 (byte {error.start})") from None
    try:
        message = validate_json(text)
    except ValidationError as error:
        raise MalformedMessage(_version_problem(text) or describe_errors(error)) from None
    if "v" not in message.model_fields_set:
        raise MalformedMessage(_version_problem(text) or "v: missing")
    return message


def _version_problem(text: str) -> str | None:
    """Return why the schema version of a JSON object is unusable, if it is (on failures only)."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    if "v" not in data:
        return f"v: missing schema version (this build speaks {SCHEMA_VERSION})"
    if data["v"] != SCHEMA_VERSION or isinstance(data["v"], bool):
        return f"v: unsupported schema version {data['v']!r} (this build speaks {SCHEMA_VERSION})"
    return None


def describe_errors(error: ValidationError, *, limit: int = 3) -> str:
    """Return a short, human-readable account of ``error``, each problem led by its field."""
    problems = [_describe(detail) for detail in error.errors(include_url=False)]
    more = f" (and {len(problems) - limit} more)" if len(problems) > limit else ""
    return "; ".join(problems[:limit]) + more


def _describe(detail: Any) -> str:
    """Return one validation problem as 'field: what is wrong'."""
    where = ".".join(str(part) for part in detail["loc"])
    kind = detail["type"]
    if kind == "json_invalid":
        return f"payload is not valid JSON: {detail['ctx']['error']}"
    if kind == "extra_forbidden":
        return f"{where}: unknown field"
    if kind == "union_tag_not_found":
        tag = detail["ctx"]["discriminator"].strip("'")
        return f"{where + '.' if where else ''}{tag}: missing"
    if kind == "union_tag_invalid":
        ctx = detail["ctx"]
        prefix = f"{where}." if where else ""
        tag = ctx["discriminator"].strip("'")
        return f"{prefix}{tag}: unknown {ctx['tag']!r}; one of {ctx['expected_tags']}"
    if kind == "value_error":
        # A model's own rule: its message names the fields it is about.
        return f"{where + ': ' if where else ''}{detail['ctx']['error']}"
    return f"{where or 'payload'}: {detail['msg']}"
