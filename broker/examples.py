"""One example of every message, built from the models: PROTOCOL.md shows exactly these.

Tests and demos may use them as ready-made, valid messages. After changing a model, rewrite
the examples in the document with::

    python -m broker.examples --write
"""

from __future__ import annotations

import json
import re
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TypedDict

from broker.messages import (
    RESPONSE_DATA,
    AckEntry,
    AllowList,
    AllowListMember,
    Availability,
    BalanceData,
    BalanceRequest,
    BorrowingLimits,
    CardParams,
    CardRefused,
    CardRefusedEvent,
    DoorChange,
    DoorClosedEvent,
    DoorForcedEvent,
    DoorLeftOpenEvent,
    DoorOpenedEvent,
    EventAck,
    EventAcks,
    KioskConfig,
    LoanOut,
    LoanOutEvent,
    LockerTool,
    MaintenanceOpened,
    MaintenanceOpenedEvent,
    MalformedMessage,
    MemberStatusData,
    MemberStatusRequest,
    Message,
    RepairLogged,
    RepairLoggedEvent,
    Reservation,
    Response,
    ResponseError,
    ToolParams,
    ToolReturn,
    ToolReturnEvent,
    ToolStatusData,
    ToolStatusRequest,
    decode_request,
    encode,
)

PROTOCOL_PATH = Path(__file__).resolve().parent / "PROTOCOL.md"
KIOSK = "kiosk-a"
CARD = "04A1B2C3D4E5F6"
STEWARD_CARD = "DEADBEEF"
UNKNOWN_CARD = "0A0B0C0D"  # a card the hub never issued
# A request of a kind v1 does not have: the hub answers it with ``malformed_request``.
MALFORMED_REQUEST = (
    b'{"v": 1, "request_id": "0b7e9f7a-1111-4000-8000-000000000005", '
    b'"kind": "loan_history", "params": {}}'
)
AT = datetime(2025, 5, 17, 9, 30, 0, tzinfo=UTC)
# A marker line names the example that the ```json block under it shows.
_BLOCK = re.compile(r"(<!-- example: (?P<name>[a-z_]+) -->\n```json\n)(?P<body>.*?)(```)", re.S)
# A marker line names the request kind whose response data's JSON Schema the block shows.
_SCHEMA = re.compile(r"(<!-- schema: (?P<name>[a-z_]+) -->\n```json\n)(?P<body>.*?)(```)", re.S)


class Envelope(TypedDict):
    """The fields every kiosk event carries around its body."""

    event_id: str
    kiosk_id: str
    seq: int
    kiosk_time: datetime


def _envelope(seq: int) -> Envelope:
    """Return the envelope fields of example event number ``seq``."""
    return {
        "event_id": f"6f1c2a3e-0000-4000-8000-{seq:012d}",
        "kiosk_id": KIOSK,
        "seq": seq,
        "kiosk_time": AT.replace(minute=30 + seq),
    }


def _member() -> AllowListMember:
    return AllowListMember(
        member_id=42,
        number="1042",
        name="Ada Lovelace",
        status="active",
        roles=["member", "volunteer"],
        trainings={"drill-press": datetime(2026, 1, 31, tzinfo=UTC), "hand-tools": None},
        loans=["DRL-001"],
        loans_due={"DRL-001": datetime(2025, 5, 24, 9, 31, tzinfo=UTC)},
    )


def _malformed_reason() -> str:
    try:
        decode_request(MALFORMED_REQUEST)
    except MalformedMessage as error:
        return str(error)
    raise AssertionError("MALFORMED_REQUEST decoded")


def _steward() -> AllowListMember:
    return AllowListMember(
        member_id=7,
        number="7",
        name="Sam Steward",
        status="active",
        roles=["member", "steward"],
        trainings={},
    )


EXAMPLES: dict[str, Message] = {
    "loan_out": LoanOutEvent(
        **_envelope(1), body=LoanOut(card_uid=CARD, tool_code="DRL-001", locker_slot=3)
    ),
    "tool_return_ok": ToolReturnEvent(
        **_envelope(2),
        body=ToolReturn(card_uid=CARD, tool_code="DRL-001", locker_slot=3, condition="ok"),
    ),
    "tool_return_needs_repair": ToolReturnEvent(
        **_envelope(3),
        body=ToolReturn(
            card_uid=CARD,
            tool_code="SAW-002",
            locker_slot=5,
            condition="needs_repair",
            note="Blade guard is cracked.",
        ),
    ),
    "repair_logged": RepairLoggedEvent(
        **_envelope(4),
        body=RepairLogged(
            card_uid=CARD,
            tool_code="SAW-002",
            hours=Decimal("1.50"),
            note="Replaced the blade guard.",
        ),
    ),
    "maintenance_opened": MaintenanceOpenedEvent(
        **_envelope(5),
        body=MaintenanceOpened(
            card_uid=STEWARD_CARD, tool_code="DRL-001", note="Chuck slips under load."
        ),
    ),
    "door_opened": DoorOpenedEvent(**_envelope(6), body=DoorChange(locker_slot=3)),
    "door_closed": DoorClosedEvent(**_envelope(7), body=DoorChange(locker_slot=3)),
    "door_left_open": DoorLeftOpenEvent(**_envelope(8), body=DoorChange(locker_slot=3)),
    "door_forced": DoorForcedEvent(**_envelope(9), body=DoorChange(locker_slot=4)),
    "card_refused": CardRefusedEvent(
        **_envelope(10),
        body=CardRefused(card_uid="0A0B0C0D", reason="unknown_card", tool_code=None),
    ),
    "loan_out_unknown_card": LoanOutEvent(
        **_envelope(11), body=LoanOut(card_uid=UNKNOWN_CARD, tool_code="DRL-001", locker_slot=3)
    ),
    "ack_applied": EventAck(event_id=_envelope(1)["event_id"], status="applied"),
    "ack_duplicate": EventAck(event_id=_envelope(1)["event_id"], status="duplicate"),
    "ack_rejected": EventAck(
        event_id=_envelope(11)["event_id"],
        status="rejected",
        reason=f"Card {UNKNOWN_CARD} is not known.",
    ),
    "ack_duplicate_of_rejected": EventAck(
        event_id=_envelope(11)["event_id"],
        status="duplicate",
        reason=f"Card {UNKNOWN_CARD} is not known.",
    ),
    "acks_batch": EventAcks(
        acks=[
            AckEntry(event_id=_envelope(6)["event_id"], status="applied"),
            AckEntry(event_id=_envelope(7)["event_id"], status="applied"),
            AckEntry(
                event_id=_envelope(11)["event_id"],
                status="duplicate",
                reason=f"Card {UNKNOWN_CARD} is not known.",
            ),
        ]
    ),
    "status_online": Availability(
        state="online",
        since=AT,
        allowlist_version=12,
        config_version=3,
        outbox_backlog=2,
        features=["batched_acks"],
        reader="ok",
        reader_reinitialised=1,
        oldest_unacked_s=0.4,
        last_error=None,
        locks_safety="verified",
    ),
    "status_offline": Availability(state="offline"),
    "allowlist": AllowList.build(
        version=12,
        generated_at=AT,
        entries={CARD: _member(), STEWARD_CARD: _steward()},
        tools_out_of_service=["SAW-002"],
        tool_trainings={"DRL-001": "drill-press"},
        reservations={
            "SND-004": Reservation(
                member_number="7", until=datetime(2025, 5, 17, 17, 0, tzinfo=UTC)
            )
        },
        limits=BorrowingLimits(max_loans=3, overdue_grace_days=7),
    ),
    "config": KioskConfig.build(
        version=3,
        generated_at=AT,
        site="main",
        kiosk_id=KIOSK,
        name="Shed door, left bank",
        lockers={
            3: LockerTool(tool_code="DRL-001", loan_days=7),
            4: None,
            5: LockerTool(tool_code="SAW-002", loan_days=3),
            6: LockerTool(tool_code="SND-004", loan_days=7),
        },
        timezone="Europe/London",
    ),
    "request_member_status": MemberStatusRequest(
        request_id="0b7e9f7a-1111-4000-8000-000000000001", params=CardParams(card_uid=CARD)
    ),
    "request_tool_status": ToolStatusRequest(
        request_id="0b7e9f7a-1111-4000-8000-000000000002", params=ToolParams(tool_code="SAW-002")
    ),
    "request_balance": BalanceRequest(
        request_id="0b7e9f7a-1111-4000-8000-000000000003", params=CardParams(card_uid=CARD)
    ),
    "request_balance_unknown_card": BalanceRequest(
        request_id="0b7e9f7a-1111-4000-8000-000000000004",
        params=CardParams(card_uid=UNKNOWN_CARD),
    ),
    "response_member_status": Response(
        request_id="0b7e9f7a-1111-4000-8000-000000000001",
        ok=True,
        data=MemberStatusData(
            number="1042",
            name="Ada Lovelace",
            status="active",
            roles=["member", "volunteer"],
            allowlist_version=12,
        ).model_dump(mode="json"),
    ),
    "response_tool_status": Response(
        request_id="0b7e9f7a-1111-4000-8000-000000000002",
        ok=True,
        data=ToolStatusData(
            tool_code="SAW-002",
            status="out_of_service",
            reason="ticket 1: Blade guard is cracked.",
            due_at=None,
        ).model_dump(mode="json"),
    ),
    "response_balance": Response(
        request_id="0b7e9f7a-1111-4000-8000-000000000003",
        ok=True,
        data=BalanceData(number="1042", hours="6.50").model_dump(mode="json"),
    ),
    "response_not_found": Response(
        request_id="0b7e9f7a-1111-4000-8000-000000000004",
        ok=False,
        error=ResponseError(code="not_found", message=f"Card {UNKNOWN_CARD} is not known."),
    ),
    "response_malformed_request": Response(
        request_id="0b7e9f7a-1111-4000-8000-000000000005",
        ok=False,
        error=ResponseError(code="malformed_request", message=_malformed_reason()),
    ),
}


def pretty(message: Message) -> str:
    """Return ``message`` as the document shows it: its wire JSON, indented."""
    return json.dumps(json.loads(encode(message)), indent=2, ensure_ascii=False) + "\n"


def schema(kind: str) -> str:
    """Return the JSON Schema of request ``kind``'s response data, as the document shows it
    (pydantic's, without its titles and docstrings)."""
    return json.dumps(_bare(RESPONSE_DATA[kind].model_json_schema()), indent=2) + "\n"


def _bare(node: object) -> object:
    if isinstance(node, dict):
        return {k: _bare(v) for k, v in node.items() if k not in ("title", "description")}
    if isinstance(node, list):
        return [_bare(item) for item in node]
    return node


def render_examples(markdown: str) -> str:
    """Return ``markdown`` with every marked ```json block replaced by its example or schema."""

    def replace(match: re.Match[str]) -> str:
        name = match["name"]
        if name not in EXAMPLES:
            raise KeyError(f"PROTOCOL.md names an example {name!r} that broker/examples.py lacks")
        return f"{match[1]}{pretty(EXAMPLES[name])}{match[4]}"

    def replace_schema(match: re.Match[str]) -> str:
        name = match["name"]
        if name not in RESPONSE_DATA:
            raise KeyError(f"PROTOCOL.md shows the schema of {name!r}, which is no request kind")
        return f"{match[1]}{schema(name)}{match[4]}"

    return _SCHEMA.sub(replace_schema, _BLOCK.sub(replace, markdown))


def schemas_shown(markdown: str) -> list[str]:
    """Return the request kinds whose response schema ``markdown`` shows, in order."""
    return [match["name"] for match in _SCHEMA.finditer(markdown)]


def examples_shown(markdown: str) -> list[str]:
    """Return the names of the examples ``markdown`` shows, in order."""
    return [match["name"] for match in _BLOCK.finditer(markdown)]


def main(argv: list[str]) -> int:
    """Print the examples, or with ``--write`` rewrite them in PROTOCOL.md."""
    if argv[1:] == ["--write"]:
        PROTOCOL_PATH.write_text(render_examples(PROTOCOL_PATH.read_text(encoding="utf-8")))
        return 0
    for name, message in EXAMPLES.items():
        print(f"<!-- example: {name} -->\n```json\n{pretty(message)}```\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
