"""Every MQTT payload of protocol v1, as strict pydantic models, with encode and decode.

Payloads are UTF-8 JSON objects that state their schema version ``"v": 1``. Decoding is the
only way bytes from the wire become objects, and it fails in exactly one way:
``MalformedMessage``, whose text names the field at fault. See ``broker/PROTOCOL.md``.
"""

from __future__ import annotations

import hashlib
import json
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
    StringConstraints,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    model_validator,
)

from broker.topics import KIOSK_ID_PATTERN, SITE_ID_PATTERN, Channel
from broker.uids import CANONICAL_UID_PATTERN

SCHEMA_VERSION: Final = 1
MAX_PAYLOAD_BYTES = 64 * 1024
# An allow-list carries every member of the network; 4 MiB holds some 15,000 members.
MAX_ALLOWLIST_BYTES = 4 * 1024 * 1024
NOTE_MAX = 500
NAME_MAX = 120
REASON_MAX = 500
MAX_INT64 = 2**63 - 1  # the database's BIGINT: a larger number must not get that far

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
KioskId = Annotated[str, StringConstraints(pattern=KIOSK_ID_PATTERN)]
SiteId = Annotated[str, StringConstraints(pattern=SITE_ID_PATTERN)]
MessageId = Annotated[str, StringConstraints(pattern=UUID_PATTERN)]
Sha256Hex = Annotated[str, StringConstraints(pattern=SHA256_PATTERN)]
UtcTime = Annotated[AwareDatetime, AfterValidator(_utc)]
LockerSlot = Annotated[int, Field(ge=1, le=999)]
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
]


class _Model(BaseModel):
    """Strict: no coercion, no unknown fields, no mutation after validation."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class Message(_Model):
    """A top-level payload: it states its schema version."""

    v: Literal[1] = SCHEMA_VERSION
    max_bytes: ClassVar[int] = MAX_PAYLOAD_BYTES
    channel: ClassVar[Channel]  # the channel whose topic carries this message


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


class EventAck(Message):
    """The hub's answer to one event, sent after the transaction that applied it committed."""

    event_id: MessageId
    status: Literal["applied", "duplicate", "rejected"]
    reason: Reason | None = None
    channel: ClassVar[Channel] = Channel.ACKS

    @model_validator(mode="after")
    def _rejection_says_why(self) -> Self:
        if self.status == "rejected" and self.reason is None:
            raise ValueError("reason is required when status is 'rejected'")
        return self


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


# --- allow-list and kiosk configuration ----------------------------------------------------


class AllowListMember(_Model):
    """What a kiosk knows of the member holding a card."""

    member_id: Annotated[int, Field(ge=1, le=MAX_INT64)]
    number: Annotated[str, StringConstraints(pattern=MEMBER_NUMBER_PATTERN)]
    name: Name
    status: Literal["active", "suspended"]
    roles: Annotated[list[Role], Field(max_length=4)]
    # training code -> expiry (None: never expires)
    trainings: Annotated[dict[TrainingCode, UtcTime | None], Field(max_length=200)] = {}
    # tools on loan to this member, so any kiosk can take one back (into an empty locker)
    loans: Annotated[list[ToolCode], Field(max_length=100)] = []


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
    content_fields: ClassVar[frozenset[str]] = frozenset(
        {"entries", "tools_out_of_service", "tool_trainings"}
    )
    max_bytes: ClassVar[int] = MAX_ALLOWLIST_BYTES
    channel: ClassVar[Channel] = Channel.ALLOWLIST

    @classmethod
    def build(
        cls,
        *,
        version: int,
        generated_at: datetime,
        entries: Mapping[str, AllowListMember],
        tools_out_of_service: Iterable[str] = (),
        tool_trainings: Mapping[str, str] | None = None,
    ) -> Self:
        """Return an allow-list with its content hash filled in (lists sorted, for the hash)."""
        content = {
            "entries": dict(sorted(entries.items())),
            "tools_out_of_service": sorted(set(tools_out_of_service)),
            "tool_trainings": dict(sorted((tool_trainings or {}).items())),
        }
        return cls._seal(version=version, generated_at=generated_at, content=content)


class LockerTool(_Model):
    """The tool that lives in a locker, and how long it may be borrowed."""

    tool_code: ToolCode
    loan_days: Annotated[int, Field(ge=1, le=365)] = 7


class KioskConfig(_Snapshot):
    """A kiosk's settings from the hub, retained on the kiosk's topic."""

    site: SiteId
    kiosk_id: KioskId
    name: Name
    # locker slot -> its tool (None: the locker is empty)
    lockers: Annotated[dict[LockerSlot, LockerTool | None], Field(max_length=999)]
    door_left_open_after_s: Annotated[int, Field(ge=5, le=3600)] = 60
    session_timeout_s: Annotated[int, Field(ge=5, le=600)] = 30
    content_fields: ClassVar[frozenset[str]] = frozenset(
        {"site", "kiosk_id", "name", "lockers", "door_left_open_after_s", "session_timeout_s"}
    )
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
    ) -> Self:
        """Return a kiosk configuration with its content hash filled in."""
        content = {
            "site": site,
            "kiosk_id": kiosk_id,
            "name": name,
            "lockers": dict(sorted(lockers.items())),
            "door_left_open_after_s": door_left_open_after_s,
            "session_timeout_s": session_timeout_s,
        }
        return cls._seal(version=version, generated_at=generated_at, content=content)


def canonical_json(data: Any) -> bytes:
    """Return ``data`` as canonical JSON: sorted keys, no spaces, UTF-8 (the hash's input)."""
    return json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def content_hash(snapshot: _Snapshot) -> str:
    """Return the sha256 (hex) of the canonical JSON of ``snapshot``'s content fields."""
    content = snapshot.model_dump(mode="json", include=set(snapshot.content_fields))
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
    code: Annotated[str, StringConstraints(pattern=ERROR_CODE_PATTERN)]
    message: Reason


class Response(Message):
    """The hub's answer to one request: ``ok`` with ``data``, or not ``ok`` with ``error``."""

    request_id: MessageId
    ok: bool
    error: ResponseError | None = None
    data: dict[str, JsonValue] | None = None
    channel: ClassVar[Channel] = Channel.RESPONSES

    @model_validator(mode="after")
    def _ok_or_error(self) -> Self:
        if self.ok and self.error is not None:
            raise ValueError("error must be null when ok is true")
        if not self.ok and (self.error is None or self.data is not None):
            raise ValueError("a response that is not ok needs an error and no data")
        return self


# --- encode and decode ---------------------------------------------------------------------

M = TypeVar("M", bound=Message)

_EVENT = TypeAdapter(Event)
_REQUEST = TypeAdapter(Request)
_UUID = re.compile(UUID_PATTERN)


def new_message_id() -> str:
    """Return a fresh event or request id (a random UUID, lowercase, as the wire wants it)."""
    return str(uuid.uuid4())


def encode(message: Message) -> bytes:
    """Return ``message`` as the UTF-8 JSON the wire carries; refuse one too large to decode."""
    raw = message.model_dump_json().encode("utf-8")
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

    The hub acks such an event ``rejected``, so the kiosk's outbox does not retry it forever.
    """
    if not isinstance(raw, bytes | bytearray) or len(raw) > MAX_PAYLOAD_BYTES:
        return None
    try:
        data = json.loads(bytes(raw).decode("utf-8"))
    except (ValueError, RecursionError):
        return None
    event_id = data.get("event_id") if isinstance(data, dict) else None
    return event_id if isinstance(event_id, str) and _UUID.fullmatch(event_id) else None


def decode_request(raw: bytes) -> Request:
    """Return the kiosk request in ``raw``."""
    return _decode(raw, _REQUEST.validate_json, MAX_PAYLOAD_BYTES)


def decode_ack(raw: bytes) -> EventAck:
    """Return the event acknowledgement in ``raw``."""
    return decode(raw, EventAck)


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
    Channel.ACKS: decode_ack,
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
