"""The audit log: who did what to which record, when, and what it looked like before and after."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlmodel import Field, Session, SQLModel, select

from hub.infra.clock import utcnow


class AuditEntry(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor_member_id: int | None = Field(default=None, foreign_key="member.id", index=True)
    action: str = Field(max_length=60)
    target: str = Field(max_length=120, index=True)
    before: str | None = None
    after: str | None = None


def record(
    session: Session,
    *,
    actor_member_id: int | None,
    action: str,
    target: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    """Write an audit entry in the caller's transaction, so it stands or falls with the change."""
    entry = AuditEntry(
        actor_member_id=actor_member_id,
        action=action,
        target=target,
        before=_dump(before),
        after=_dump(after),
    )
    session.add(entry)
    return entry


def snapshot(row: SQLModel, *fields: str) -> dict[str, Any]:
    """Return the named fields of ``row`` (all of them if none are named) for an audit entry."""
    data = row.model_dump()
    return {key: data[key] for key in fields} if fields else data


def recent(session: Session, *, limit: int = 100, target: str | None = None) -> list[AuditEntry]:
    """Return the newest audit entries, optionally for one target."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if target:
        query = query.where(AuditEntry.target == target)
    return list(session.exec(query))


def _dump(data: dict[str, Any] | None) -> str | None:
    return None if data is None else json.dumps(data, default=str, sort_keys=True)
