"""Heartbeat rows: each ingest worker writes, per loop, when it last came round and when it
last did work, so the web can judge the ingest without trusting it (``/healthz/ingest``).

One row per (worker, loop). The row of worker ``NETWORK`` and loop ``housekeeping`` records the
network's last housekeeping pass, whichever worker ran it (``jobs``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlmodel import Field, Session, SQLModel, select

from hub.infra.clock import utcnow

NETWORK = "*"  # the worker name of rows that belong to the whole network, not one worker
ERROR_MAX = 500


class WorkerHeartbeat(SQLModel, table=True):
    __tablename__ = "worker_heartbeat"

    worker: str = Field(primary_key=True, max_length=64)
    loop: str = Field(primary_key=True, max_length=32)
    beat_at: datetime  # the loop last came round (a step returned or failed)
    progress_at: datetime | None = None  # the loop last did work (e.g. committed a batch)
    failures: int = 0  # in a row, now
    last_error: str | None = Field(default=None, max_length=ERROR_MAX)
    last_error_at: datetime | None = None
    written_at: datetime  # when the worker wrote this row (its clock, not the loop's)
    stopped_at: datetime | None = None  # the worker stopped cleanly


def record_beat(
    session: Session,
    worker: str,
    loop: str,
    *,
    beat_at: datetime,
    progress_at: datetime | None,
    failures: int = 0,
    last_error: str | None = None,
    last_error_at: datetime | None = None,
    now: datetime | None = None,
) -> WorkerHeartbeat:
    """Write loop ``loop`` of ``worker``'s heartbeat (insert or update its row)."""
    row = session.get(WorkerHeartbeat, (worker, loop)) or WorkerHeartbeat(
        worker=worker, loop=loop, beat_at=beat_at, written_at=now or utcnow()
    )
    row.beat_at, row.failures, row.written_at = beat_at, failures, now or utcnow()
    row.progress_at = progress_at or row.progress_at
    row.last_error = last_error[:ERROR_MAX] if last_error else row.last_error
    row.last_error_at = last_error_at or row.last_error_at
    row.stopped_at = None
    session.add(row)
    return row


def record_stopped(session: Session, worker: str, *, now: datetime | None = None) -> None:
    """Mark every loop of ``worker`` as stopped cleanly (so its silence is not a failure)."""
    for row in session.exec(select(WorkerHeartbeat).where(WorkerHeartbeat.worker == worker)):
        row.stopped_at = now or utcnow()
        session.add(row)


def heartbeats(session: Session) -> list[WorkerHeartbeat]:
    """Return every heartbeat row, by worker and loop."""
    query = select(WorkerHeartbeat).order_by(WorkerHeartbeat.worker, WorkerHeartbeat.loop)
    return list(session.exec(query))


def latest(rows: Iterable[WorkerHeartbeat], loop: str) -> datetime | None:
    """Return the latest progress of ``loop`` across ``rows``."""
    times = [row.progress_at for row in rows if row.loop == loop and row.progress_at]
    return max(times) if times else None
