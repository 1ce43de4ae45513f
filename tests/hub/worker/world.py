"""What the worker tests share: the member's card and events as a kiosk sends them."""

from __future__ import annotations

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
