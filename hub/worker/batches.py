"""Take in a batch of what kiosks sent, in one transaction: statuses, events, and refusals.

Messages arrive here decoded (``broker.inbound``); no MQTT here, so it is easy to test. A
kiosk's status is recorded at once; its events go to ``events`` to be applied, each once; a
message the hub cannot take (undecodable, or from a kiosk it has not registered) becomes a
dead letter and, if it names an event id, a ``rejected`` ack so the kiosk's outbox moves on.
The acks to publish come back in a ``BatchResult``; the caller publishes them after the commit.

A database that cannot be reached is never a reason to refuse: ``DatabaseUnavailable`` leaves
here, nothing is acknowledged, and the caller keeps the batch (un-PUBACKed) to try again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col, select

from broker import messages as wire
from broker.inbound import Cleared, KioskEvent, KioskStatus, SiteBridge, Undecodable
from broker.topics import Channel, KioskTopic
from hub.infra.db import DatabaseUnavailable, is_sqlite, is_unavailable, transaction
from hub.inventory import fleet
from hub.inventory.registry import Kiosk
from hub.worker import inbox, trust
from hub.worker.events import NeedsIsolation, Outcome, apply_events
from hub.worker.sequence import KioskSequence

log = logging.getLogger("commonshed.ingest")
BATCH_RETRIES = 3

# What the events loop takes in.
Ingested = KioskEvent | KioskStatus | SiteBridge | Cleared | Undecodable


@dataclass
class BatchResult:
    """What a batch produced: acknowledgements to publish once the transaction committed."""

    acks: list[tuple[str, wire.EventAck]] = field(default_factory=list)
    applied: int = 0

    def merge(self, other: BatchResult) -> None:
        self.acks += other.acks
        self.applied += other.applied


def apply_batch(engine: Engine, batch: Sequence[Ingested]) -> BatchResult:
    """Apply a batch in one transaction, first without savepoints (the common case), then
    with one per event if an event was refused; retry whole after a lost race or deadlock.

    Raise ``DatabaseUnavailable`` if the database still cannot be used after the retries.
    """
    isolate = False
    last_error: DBAPIError | None = None
    for attempt in range(BATCH_RETRIES + 1):
        try:
            with transaction(engine) as session:
                return _apply_in(session, batch, isolate=isolate)
        except NeedsIsolation:
            isolate = True
        except DBAPIError as error:  # a lost race for an event id, or a deadlock: again
            last_error = error
            log.warning("batch of %d retried (%s): %s", len(batch), attempt + 1, error)
            time.sleep(0.05 * (attempt + 1))
    if last_error is not None and is_unavailable(last_error):
        raise DatabaseUnavailable(f"batch of {len(batch)} not applied: {last_error}") from None
    return apply_one_by_one(engine, batch)  # so one bad apple is isolated


def apply_one_by_one(engine: Engine, batch: Sequence[Ingested]) -> BatchResult:
    """Apply each message in its own transaction; dead-letter any the hub cannot apply.

    Raise ``DatabaseUnavailable`` (nothing acknowledged) as soon as the database cannot be
    used: what was applied stays applied, and comes back as a duplicate when retried.
    """
    result = BatchResult()
    for message in batch:
        try:
            result.merge(_apply_with_one_retry(engine, message))
        except Exception as error:  # noqa: BLE001  (kept as a dead letter, never dropped)
            _raise_if_unavailable(error, message)
            log.exception("could not apply a message on %s", message.topic)
            _refuse_apart(engine, message, f"the hub could not apply it: {error!r}", result)
    return result


def _refuse_apart(engine: Engine, message: Ingested, reason: str, result: BatchResult) -> None:
    """Dead-letter ``message`` in a transaction of its own; if even that fails for another
    reason than the database being away, log it and leave the message unacknowledged (the
    kiosk sends it again)."""
    refused = BatchResult()
    try:
        with transaction(engine) as session:
            _refuse(session, message, reason, refused)
    except Exception as error:  # noqa: BLE001  (one unwritable letter must not stop the rest)
        _raise_if_unavailable(error, message)
        log.exception("could not even dead-letter a message on %s", message.topic)
        return
    result.merge(refused)


def _raise_if_unavailable(error: Exception, message: Ingested) -> None:
    if is_unavailable(error):
        raise DatabaseUnavailable(f"message on {message.topic} not applied: {error}") from error


def _apply_with_one_retry(engine: Engine, message: Ingested) -> BatchResult:
    """Apply one message; once more after a database error (a race another worker won)."""
    try:
        with transaction(engine) as session:
            return _apply_in(session, [message])
    except DBAPIError:
        with transaction(engine) as session:
            return _apply_in(session, [message])


def _apply_in(session: Session, batch: Sequence[Ingested], *, isolate: bool = True) -> BatchResult:
    """Apply a batch's statuses and events in ``session``; dead-letter what cannot be taken."""
    result = BatchResult()
    _lock_kiosk_rows(session, batch)
    events = _record_statuses_and_refusals(session, batch, result)
    outcomes = apply_events(session, [e.event for e in events], isolate=isolate) if events else []
    for event, outcome in zip(events, outcomes, strict=True):
        result.applied += outcome.status == "applied"
        result.acks.append((event.where.topic_of(Channel.ACKS), outcome.ack()))
    return result


def _lock_kiosk_rows(session: Session, batch: Sequence[Ingested]) -> None:
    """Lock the batch's kiosks' status and sequence rows first, in kiosk-id order.

    NOTE: several workers share the kiosks; each batch updates those rows as its messages
    come, so two batches took them in opposite orders and deadlocked, and the retries cost
    more than the second worker gave (bench/network_bench.py). One order up front, and a
    batch waits for another instead. SQLite has one writer: nothing to order.
    """
    if is_sqlite(session.get_bind()):
        return
    kiosk_ids = sorted({m.where.kiosk_id for m in batch if m.where is not None})
    if not kiosk_ids:
        return
    for table in (fleet.KioskStatus, KioskSequence):
        key = col(table.kiosk_id)
        session.exec(select(key).where(key.in_(kiosk_ids)).order_by(key).with_for_update()).all()


def _record_statuses_and_refusals(
    session: Session, batch: Sequence[Ingested], result: BatchResult
) -> list[KioskEvent]:
    """Record each status and dead-letter each refused message at once; return the events.

    NOTE: the kiosk is checked first, as it always was: a message from a kiosk the hub has
    not registered is refused for that, whatever its payload says.
    """
    events: list[KioskEvent] = []
    registry = _Registry(session)
    for message in batch:
        refusal = registry.refusal(message.where) if message.where is not None else None
        if refusal is not None:
            _refuse(session, message, refusal, result)
        elif isinstance(message, Undecodable):
            _refuse(session, message, message.reason, result)
        elif isinstance(message, KioskStatus):
            _record_status(session, message)
        elif isinstance(message, SiteBridge):
            fleet.record_site_link(session, message.site, message.connected)
        elif isinstance(message, KioskEvent):
            events.append(message)
        # else a cleared retained status: nothing to record
    return events


def _record_status(session: Session, message: KioskStatus) -> None:
    status = message.availability
    fleet.record_availability(
        session,
        message.where.kiosk_id,
        state=status.state,
        since=status.since,
        allowlist_version=status.allowlist_version,
        config_version=status.config_version,
        outbox_backlog=status.outbox_backlog,
        health=fleet.KioskHealthReport(
            reader=status.reader,
            reader_reinitialised=status.reader_reinitialised,
            oldest_unacked_s=status.oldest_unacked_s,
            last_error=status.last_error,
            locks_safety=status.locks_safety,
        ),
    )


class _Registry:
    """The kiosks the hub registered, looked up once per batch."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.kiosks: dict[str, Kiosk | None] = {}

    def refusal(self, where: KioskTopic) -> str | None:
        """Return why the hub refuses ``where``'s kiosk (``trust.kiosk_refusal``), or None."""
        kiosk_id = where.kiosk_id
        if kiosk_id not in self.kiosks:  # once per batch: the identity map may have let it go
            self.kiosks[kiosk_id] = self.session.get(Kiosk, kiosk_id)
        return trust.kiosk_refusal(self.session, where, self.kiosks[kiosk_id])


def _refuse(session: Session, message: Ingested, reason: str, result: BatchResult) -> None:
    """Dead-letter a message; if it names an event id, tell the kiosk it was rejected."""
    where = message.where
    inbox.record_dead_letter(
        session,
        topic=message.topic,
        payload=message.payload,
        reason=reason,
        kiosk_id=where.kiosk_id if where else None,
    )
    event_id = _event_id(message)
    if event_id and where is not None and where.channel is Channel.EVENTS:
        outcome = Outcome(event_id, "rejected", reason[: wire.REASON_MAX])
        result.acks.append((where.topic_of(Channel.ACKS), outcome.ack()))


def _event_id(message: Ingested) -> str | None:
    if isinstance(message, KioskEvent):
        return message.event.event_id
    if isinstance(message, Undecodable):
        return message.event_id
    return None
