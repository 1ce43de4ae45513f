"""The security log: every sign-in, refusal and throttle, as a structured log line and a row
that admins read on the audit page.

A row is written in the caller's transaction (which the caller commits even when it refuses),
and the same fields go to the ``commonshed.security`` logger as one JSON object per line, so a
log shipper can alert on them without parsing prose.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime

from sqlmodel import Field, Session, SQLModel, select

from hub.infra.clock import utcnow

log = logging.getLogger("commonshed.security")
DETAIL_MAX = 300


class SecurityEvent(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    event: str = Field(max_length=40, index=True)
    address: str = Field(max_length=64)
    subject: str = Field(max_length=64)
    detail: str = Field(default="", max_length=DETAIL_MAX)


def record(
    session: Session,
    event: str,
    *,
    address: str,
    subject: str,
    detail: str = "",
    now: datetime | None = None,
) -> SecurityEvent:
    """Log ``event`` (e.g. "signin.failed") about ``subject`` from ``address``; keep a row."""
    row = SecurityEvent(
        at=now or utcnow(),
        event=event[:40],
        address=address[:64],
        subject=subject[:64],
        detail=detail[:DETAIL_MAX],
    )
    session.add(row)
    fields = {"event": row.event, "address": row.address, "subject": row.subject}
    level = logging.INFO if event.endswith(".ok") else logging.WARNING
    log.log(level, json.dumps(fields | {"detail": row.detail}, sort_keys=True))
    return row


def recent(session: Session, *, limit: int = 100) -> list[SecurityEvent]:
    """Return the newest security events, newest first."""
    query = select(SecurityEvent).order_by(SecurityEvent.id.desc()).limit(limit)
    return list(session.exec(query))


def prune(session: Session, *, before: datetime) -> int:
    """Delete security events older than ``before`` (housekeeping); return how many went."""
    old = list(session.exec(select(SecurityEvent).where(SecurityEvent.at < before)))
    for row in old:
        session.delete(row)
    return len(old)
