"""The hub's periodic jobs: release booking no-shows, open maintenance tickets that fell due,
pair the kiosk events held past their wait for a gap in their kiosk's sequence, move hold
queues on (a reservation not collected in time lapses to the next in line), queue the
reminders due and send the mail outbox.

They have nothing to do with MQTT; the worker runs them on a timer of their own
(``loop.IngestWorker``, its housekeeping loop) because it is the hub's one long-running process.

Once per network, not once per worker: on PostgreSQL a pass holds an advisory lock, so two
workers never run one at the same time, and a worker skips its pass when another worker's pass
(recorded in the network's housekeeping heartbeat row) is more recent than ``min_gap``. On
SQLite there is a single writer anyway (and in practice a single worker); the same row still
keeps passes ``min_gap`` apart. Each job runs in a transaction of its own, so one failing
does not hold back the other.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import Connection, Engine, func, select
from sqlmodel import Session

from hub.bookings import sweep_bookings
from hub.infra import security_log, throttles
from hub.infra.clock import as_utc, utcnow
from hub.infra.db import is_sqlite, reading, transaction
from hub.loans.holds import advance_holds
from hub.mail.reminders import queue_reminders, send_queued_mail
from hub.maintenance.plans import open_due_tickets
from hub.market.asks import ask_opted_in_fixers
from hub.market.proposals import decide_closed
from hub.worker import heartbeats
from hub.worker.events import release_held_events

log = logging.getLogger("commonshed.ingest")
HOUSEKEEPING_INTERVAL_S = 60.0
HOUSEKEEPING_LOCK = 0x436F6D6D6F6E  # pg advisory lock key: "Common", one per database


def run_housekeeping(engine: Engine, *, min_gap: float = 0.0) -> bool:
    """Run every job, each in its own transaction, unless another worker is running them or
    ran them less than ``min_gap`` seconds ago; return whether this worker ran them.

    A job that fails is logged and the others still run; the failure is raised afterwards so
    the caller's supervisor counts it.
    """
    with engine.connect() as lock_connection:
        if not _try_lock(lock_connection):
            return False
        try:
            if _ran_recently(engine, min_gap):
                return False
            _run_jobs(engine)
            return True
        finally:
            _unlock(lock_connection)


def _run_jobs(engine: Engine) -> None:
    failed: list[Exception] = []
    for name, job in _jobs():
        try:
            with transaction(engine) as session:
                job(session)
        except Exception as error:  # noqa: BLE001  (the other job still runs)
            log.exception("housekeeping job %r failed", name)
            failed.append(error)
    if failed:
        raise failed[0]
    with transaction(engine) as session:
        now = utcnow()
        heartbeats.record_beat(
            session, heartbeats.NETWORK, "housekeeping", beat_at=now, progress_at=now, now=now
        )


def _jobs() -> tuple[tuple[str, Callable[[Session], object]], ...]:
    """Return the jobs by name (looked up at each pass, so a test can replace one)."""
    return (
        ("booking no-shows", sweep_bookings),
        ("maintenance due", open_due_tickets),
        ("held kiosk events", release_held_events),
        ("holds", advance_holds),
        ("old security records", prune_security_records),
        ("reminders due", queue_reminders),
        ("fixers who opted in", ask_opted_in_fixers),
        ("proposals closing", decide_closed),
        ("mail outbox", send_queued_mail),
    )


# NOTE: a throttle remembers an address's good sign-ins for 90 days (the attack pattern's
# exemption); the security log is kept a year for admins to look back on.
THROTTLES_KEPT = timedelta(days=91)
SECURITY_EVENTS_KEPT = timedelta(days=365)


def prune_security_records(session: Session) -> None:
    """Forget throttles and security events older than they are useful."""
    now = utcnow()
    throttles.prune(session, before=now - THROTTLES_KEPT)
    security_log.prune(session, before=now - SECURITY_EVENTS_KEPT)


def _ran_recently(engine: Engine, min_gap: float) -> bool:
    if min_gap <= 0:
        return False
    with reading(engine) as session:
        row = session.get(heartbeats.WorkerHeartbeat, (heartbeats.NETWORK, "housekeeping"))
        last = row.progress_at if row else None
    return last is not None and utcnow() - as_utc(last) < timedelta(seconds=min_gap)


def _try_lock(connection: Connection) -> bool:
    if is_sqlite(connection.engine):
        return True  # one writer at a time anyway
    got = connection.execute(select(func.pg_try_advisory_lock(HOUSEKEEPING_LOCK))).scalar()
    connection.commit()
    return bool(got)


def _unlock(connection: Connection) -> None:
    if not is_sqlite(connection.engine):
        connection.execute(select(func.pg_advisory_unlock(HOUSEKEEPING_LOCK)))
        connection.commit()
