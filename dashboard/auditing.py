"""Every steward change, from a page or the API, leaves an audit entry in its own transaction."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlmodel import Session, SQLModel

from dashboard.auth import current_member
from hub.infra import audit


def record_change(
    db: Session,
    action: str,
    target: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    """Write the signed-in steward's change to the audit log, in the change's own transaction."""
    audit.record(
        db,
        actor_member_id=current_member().id,
        action=action,
        target=target,
        before=before,
        after=after,
    )


@contextmanager
def audited(
    db: Session,
    *,
    action: str,
    target: str,
    row: SQLModel,
    fields: tuple[str, ...],
    reason: str | None = None,
) -> Iterator[None]:
    """Record ``action`` on ``row``, with ``fields`` as they were before and after the block.

    A ``reason`` the row has no column for is kept with the after-image.
    """
    before = audit.snapshot(row, *fields)
    yield
    after = audit.snapshot(row, *fields) | ({"reason": reason} if reason else {})
    record_change(db, action=action, target=target, before=before, after=after)
