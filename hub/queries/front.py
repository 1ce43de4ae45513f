"""The steward's front page, "what needs me": its panels, and the signature that says when any
of them would show something new.

Each panel is declared once, in ``PANELS``, with the query that fills it and the cheap
aggregates that move whenever its rows would. :func:`what_needs_me` reads every declared
panel and :func:`change_signature` watches every declared panel, so a new panel cannot be
shown on the page yet forgotten by the live feed that keeps the page current.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func
from sqlmodel import Session, select

from hub.bookings.models import Booking, BookingStatus
from hub.infra.clock import utcnow
from hub.infra.sync import SyncState
from hub.inventory.fleet import KioskAlarm, KioskStatus
from hub.loans.records import Loan
from hub.maintenance.models import LIVE_STATUSES, MaintenancePlan, ServiceRecord, Ticket
from hub.maintenance.plans import PlanStatus
from hub.queries import loans as loan_rows
from hub.queries.bookings import BookingRow, bookings_of_day
from hub.queries.claims import ClaimRow, pending_claims
from hub.queries.fleet import KioskHealth, dead_letter_count, fleet_health
from hub.queries.ingest import IngestHealth, ingest_health
from hub.queries.loans import LoanRow, overdue_loans
from hub.queries.maintenance import due_maintenance
from hub.queries.tools import BrokenTool, out_of_service
from hub.timebank.claims import ClaimStatus, CreditClaim
from hub.worker.heartbeats import WorkerHeartbeat
from hub.worker.inbox import DeadLetter

# Any select: the panels watch single values and small row sets of different shapes.
Query = Select[*tuple[Any, ...]]


@dataclass(frozen=True)
class Needs:
    """Everything the steward's front page shows, one field per panel, read in one transaction."""

    kiosks: list[KioskHealth]
    ingest: IngestHealth
    claims: list[ClaimRow]
    broken: list[BrokenTool]
    due: list[PlanStatus]
    overdue: list[LoanRow]
    conflicts: list[loan_rows.ConflictRow]
    bookings: list[BookingRow]
    dead_letters: int

    @property
    def troubled_kiosks(self) -> list[KioskHealth]:
        """Return kiosks that are offline, sick, behind, backed up or alarming (every kiosk, its
        state unknown, while the ingest that records their states is not running)."""
        if self.ingest.kiosk_states_stale:
            return list(self.kiosks)
        return [k for k in self.kiosks if not k.healthy or (k.status and k.status.outbox_backlog)]

    @property
    def no_shows(self) -> list[BookingRow]:
        return [b for b in self.bookings if b.booking.status == BookingStatus.NO_SHOW]


@dataclass(frozen=True)
class Panel:
    """One panel of the front page: what fills it, and what moves whenever its rows would.

    ``watch`` holds single-value queries (a maximum id, a small count), all gathered into one
    round trip; ``watch_rows`` holds small row sets read whole (one row per kiosk). ``clock``
    says the panel also changes with time alone (a loan falls overdue, a kiosk falls silent);
    ``state``, if given, is a small value read afresh for each signature (the ingest's state,
    which the clock alone moves, in seconds rather than minutes).
    """

    name: str
    read: Callable[[Session, datetime], Any]
    watch: tuple[Query, ...]
    watch_rows: tuple[Query, ...] = ()
    clock: bool = False
    state: Callable[[Session, datetime], object] | None = None

    def __post_init__(self) -> None:
        if not self.watch and not self.watch_rows:
            raise ValueError(f"Panel {self.name!r} watches nothing; the live feed would miss it.")


def _max(column: Any, *where: Any) -> Query:
    return select(func.max(column)).where(*where)


def _count(table: Any, *where: Any) -> Query:
    return select(func.count()).select_from(table).where(*where)


# Shared by several panels (and so asked once): the sync version moves with every member,
# card, training and tool change (names, statuses, retirements); new loans move the plans too.
SYNC_VERSION = select(SyncState.version).where(SyncState.id == 1)
NEWEST_LOAN = _max(Loan.id)
LIVE_TICKET = Ticket.status.in_(LIVE_STATUSES)

PANELS: tuple[Panel, ...] = (
    Panel(
        "kiosks",
        read=lambda session, now: fleet_health(session, now=now),
        watch=(
            SYNC_VERSION,
            _max(KioskAlarm.id),
            _count(KioskAlarm, KioskAlarm.cleared_at.is_(None)),
        ),
        # NOTE: not last_seen_at, which every heartbeat moves; silence shows by the clock.
        watch_rows=(
            select(
                KioskStatus.kiosk_id,
                KioskStatus.state,
                KioskStatus.allowlist_version,
                KioskStatus.outbox_backlog,
                KioskStatus.reader,
                KioskStatus.locks_safety,
            ).order_by(KioskStatus.kiosk_id),
        ),
        clock=True,
    ),
    Panel(
        "ingest",
        read=lambda session, now: ingest_health(session, now=now),
        watch=(),
        watch_rows=(
            select(WorkerHeartbeat.worker, WorkerHeartbeat.loop, WorkerHeartbeat.stopped_at)
            .where(WorkerHeartbeat.worker != "*")
            .order_by(WorkerHeartbeat.worker, WorkerHeartbeat.loop),
        ),
        state=lambda session, now: ingest_health(session, now=now).state,
    ),
    Panel(
        "claims",
        read=lambda session, now: pending_claims(session),
        watch=(
            SYNC_VERSION,
            _max(CreditClaim.id),
            _count(CreditClaim, CreditClaim.status == ClaimStatus.PENDING),
        ),
    ),
    Panel(
        "broken",
        read=lambda session, now: out_of_service(session),
        watch=(
            SYNC_VERSION,
            _max(Ticket.id),
            _max(Ticket.updated_at, LIVE_TICKET),
            _count(Ticket, LIVE_TICKET),
        ),
    ),
    Panel(
        "due",
        read=lambda session, now: due_maintenance(session, now=now),
        watch=(SYNC_VERSION, NEWEST_LOAN, _max(ServiceRecord.id), _max(MaintenancePlan.id)),
        clock=True,
    ),
    Panel(
        "overdue",
        read=lambda session, now: overdue_loans(session, now=now),
        watch=(SYNC_VERSION, NEWEST_LOAN, _count(Loan, Loan.returned_at.is_(None))),
        clock=True,
    ),
    Panel(
        "conflicts",
        read=lambda session, now: loan_rows.conflicts(session),
        watch=(NEWEST_LOAN, _count(Loan, Loan.in_conflict.is_(True))),
    ),
    Panel(
        "bookings",
        read=lambda session, now: bookings_of_day(session, now=now),
        watch=(
            SYNC_VERSION,
            _max(Booking.id),
            _count(Booking, Booking.status != BookingStatus.BOOKED),
        ),
        clock=True,
    ),
    Panel(
        "dead_letters",
        read=lambda session, now: dead_letter_count(session),
        watch=(_max(DeadLetter.id),),
    ),
)


def what_needs_me(session: Session, *, now: datetime | None = None) -> Needs:
    """Return what needs a steward now: every panel of the front page, read together.

    A field of :class:`Needs` without a panel, or a panel without a field, fails here.
    """
    now = now or utcnow()
    return Needs(**{panel.name: panel.read(session, now) for panel in PANELS})


def change_signature(session: Session, *, now: datetime | None = None) -> str:
    """Return a short digest that moves whenever the front page would show something new.

    Built from what the panels watch: one round trip for all their single values, one per
    row set, plus the minute when any panel changes with the clock.
    """
    now = now or utcnow()
    values = select(*(query.scalar_subquery() for query in _once(p.watch for p in PANELS)))
    rows = [session.exec(query).all() for query in _once(p.watch_rows for p in PANELS)]
    minute = f"{now:%Y-%m-%dT%H:%M}" if any(p.clock for p in PANELS) else ""
    states = [p.state(session, now) for p in PANELS if p.state is not None]
    text = repr((tuple(session.exec(values).one()), rows, minute, states))
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _once(groups: Iterable[tuple[Query, ...]]) -> list[Query]:
    """Return the queries of every group, each once (panels share some), in first-seen order."""
    return list({id(query): query for group in groups for query in group}.values())
