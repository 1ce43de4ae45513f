"""Every steward write through the API leaves an audit entry in the same transaction."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlmodel import Session, SQLModel

from dashboard.auth import current_member
from hub import audit


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
    record(db, action=action, target=target, before=before, after=after)


def record(
    db: Session,
    *,
    action: str,
    target: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    """Write an audit entry for the signed-in steward's ``action`` on ``target``."""
    audit.record(
        db,
        actor_member_id=current_member().id,
        action=action,
        target=target,
        before=before,
        after=after,
    )
