"""What the worker tests share: the member's card, events as a kiosk sends them, and the wait
for the hub's ack of one."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from broker import messages as wire

CARD = "DEADBEEF"


def event(
    kind: type,
    body: Any,
    *,
    seq: int = 1,
    kiosk_id: str = "kiosk-a",
    at: datetime | None = None,
) -> Any:
    """Return a kiosk event of ``kind`` carrying ``body``, as kiosk ``kiosk_id`` would send it
    at ``at`` by its clock (now, if not given)."""
    return kind(
        event_id=wire.new_message_id(),
        kiosk_id=kiosk_id,
        seq=seq,
        kiosk_time=at or datetime.now(UTC),
        body=body,
    )


def next_ack(inbox, event_id: str, timeout: float = 10.0) -> wire.EventAck:
    """Return the hub's ack of ``event_id`` from a ``collect`` inbox, skipping allow-lists,
    responses and other acks."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = inbox.get(timeout=deadline - time.monotonic())
        if message.topic.endswith("/acks"):
            ack = wire.decode_ack(message.payload)
            if ack.event_id == event_id:
                return ack
    raise AssertionError(f"no ack for {event_id}")
