"""The kiosk fleet's records: what kiosks report (online, backlog, health), alarms, refusals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import insert
from sqlmodel import Field, Session, SQLModel, select

from hub.errors import NotFound
from hub.infra import audit
from hub.infra.clock import as_utc, utcnow
from hub.infra.rows import transaction_cache
from hub.members.ranks import Actor, require_role
from hub.members.roster import Role


class AlarmKind(StrEnum):
    DOOR_LEFT_OPEN = "door_left_open"
    DOOR_FORCED = "door_forced"
    READER_MISSING = "reader_missing"  # the kiosk's card reader does not answer


# NOTE: an alarm of the kiosk as a whole (its card reader) is filed under slot 0: slots start
# at 1, and one table keeps every alarm a steward acknowledges in one place.
WHOLE_KIOSK = 0


class KioskStatus(SQLModel, table=True):
    kiosk_id: str = Field(primary_key=True, foreign_key="kiosk.id", max_length=32)
    state: str = Field(default="offline", max_length=8)
    since: datetime | None = None
    last_seen_at: datetime | None = None
    allowlist_version: int | None = None
    config_version: int | None = None
    outbox_backlog: int | None = None
    # Health, as its latest status reported it (None: a kiosk too old to say).
    reader: str | None = Field(default=None, max_length=8)  # "ok" | "missing"
    reader_reinitialised: int | None = None
    oldest_unacked_s: float | None = None  # at health_at
    last_error: str | None = Field(default=None, max_length=500)
    locks_safety: str | None = Field(default=None, max_length=16)  # verified | not_applicable
    health_at: datetime | None = None  # when the hub received that status


class SiteLink(SQLModel, table=True):
    """Whether a site's broker is bridged to the network's broker now, and since when (its
    bridge's retained state: "0" is the will the network's broker publishes when it drops)."""

    __tablename__ = "site_link"

    site: str = Field(primary_key=True, max_length=32)
    connected: bool
    since: datetime


class KioskAlarm(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    kiosk_id: str = Field(foreign_key="kiosk.id", max_length=32, index=True)
    locker_slot: int
    kind: str = Field(max_length=20)
    raised_at: datetime
    cleared_at: datetime | None = Field(default=None, index=True)
    event_id: str | None = Field(default=None, max_length=36)


ALARM_ACKNOWLEDGE = audit.Action(
    "alarm.acknowledge", ("kiosk_id", "locker_slot", "kind", "cleared_at")
)


class CardRefusal(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    kiosk_id: str = Field(foreign_key="kiosk.id", max_length=32, index=True)
    card_uid: str = Field(max_length=14, index=True)
    reason: str = Field(max_length=40)
    tool_code: str | None = Field(default=None, max_length=24)
    at: datetime = Field(index=True)


def status_of(session: Session, kiosk_id: str) -> KioskStatus:
    """Return the kiosk's status row, creating it (offline, never seen) on first use."""
    status = session.get(KioskStatus, kiosk_id)
    if status is None:
        status = KioskStatus(kiosk_id=kiosk_id)
        session.add(status)
    return status


def note_seen(session: Session, kiosk_id: str, at: datetime | None = None) -> None:
    """Record that the kiosk spoke just now (any event or status counts)."""
    status = status_of(session, kiosk_id)
    at = at or utcnow()
    if status.last_seen_at is None or as_utc(status.last_seen_at) < at:
        status.last_seen_at = at


def record_site_link(
    session: Session, site: str, connected: bool, at: datetime | None = None
) -> SiteLink:
    """Record a site's bridge state; ``since`` moves only when the state changes."""
    link = session.get(SiteLink, site)
    if link is None or link.connected != connected:
        link = link or SiteLink(site=site, connected=connected, since=at or utcnow())
        link.connected, link.since = connected, at or utcnow()
        session.add(link)
    return link


def site_links(session: Session) -> list[SiteLink]:
    """Return every site's bridge state, cut-off sites first."""
    return list(session.exec(select(SiteLink).order_by(SiteLink.connected, SiteLink.site)))


def record_availability(
    session: Session,
    kiosk_id: str,
    *,
    state: str,
    since: datetime | None,
    allowlist_version: int | None = None,
    config_version: int | None = None,
    outbox_backlog: int | None = None,
    received_at: datetime | None = None,
    health: KioskHealthReport | None = None,
) -> KioskStatus:
    """Store what a kiosk's retained status (or its last will) says; raise or clear its reader
    alarm as its health says."""
    received_at = received_at or utcnow()
    status = status_of(session, kiosk_id)
    status.state, status.since = state, since or received_at
    if state == "online":
        status.allowlist_version, status.config_version = allowlist_version, config_version
        status.outbox_backlog = outbox_backlog
        note_seen(session, kiosk_id, received_at)
        _record_health(session, status, health or KioskHealthReport(), received_at)
    return status


@dataclass(frozen=True)
class KioskHealthReport:
    """The health fields of a kiosk's status (each None when the kiosk does not say)."""

    reader: str | None = None
    reader_reinitialised: int | None = None
    oldest_unacked_s: float | None = None
    last_error: str | None = None
    locks_safety: str | None = None


def _record_health(
    session: Session, status: KioskStatus, health: KioskHealthReport, at: datetime
) -> None:
    status.reader, status.reader_reinitialised = health.reader, health.reader_reinitialised
    status.oldest_unacked_s, status.last_error = health.oldest_unacked_s, health.last_error
    status.locks_safety, status.health_at = health.locks_safety, at
    open_alarm = _open_reader_alarm(session, status.kiosk_id)
    if health.reader == "missing" and open_alarm is None:
        raise_alarm(session, status.kiosk_id, WHOLE_KIOSK, AlarmKind.READER_MISSING, at)
    elif health.reader == "ok" and open_alarm is not None:
        open_alarm.cleared_at = at
        session.add(open_alarm)


def _open_reader_alarm(session: Session, kiosk_id: str) -> KioskAlarm | None:
    return session.exec(
        select(KioskAlarm).where(
            KioskAlarm.kiosk_id == kiosk_id,
            KioskAlarm.kind == AlarmKind.READER_MISSING,
            KioskAlarm.cleared_at.is_(None),
        )
    ).first()


def raise_alarm(
    session: Session,
    kiosk_id: str,
    slot: int,
    kind: AlarmKind,
    at: datetime,
    event_id: str | None = None,
) -> KioskAlarm:
    """Raise an alarm for stewards (a door left open or forced, a card reader missing)."""
    alarm = KioskAlarm(
        kiosk_id=kiosk_id, locker_slot=slot, kind=AlarmKind(kind), raised_at=at, event_id=event_id
    )
    session.add(alarm)
    if kind == AlarmKind.DOOR_LEFT_OPEN:
        _left_open_slots(session, kiosk_id).add(slot)
    return alarm


def clear_door_left_open(session: Session, kiosk_id: str, slot: int, at: datetime) -> int:
    """Clear the 'left open' alarms of a locker whose door has closed; return how many."""
    open_slots = _left_open_slots(session, kiosk_id)
    if slot not in open_slots:
        return 0  # the common case: a door that closed in time
    open_slots.discard(slot)
    alarms = session.exec(
        select(KioskAlarm).where(
            KioskAlarm.kiosk_id == kiosk_id,
            KioskAlarm.locker_slot == slot,
            KioskAlarm.kind == AlarmKind.DOOR_LEFT_OPEN,
            KioskAlarm.cleared_at.is_(None),
        )
    ).all()
    for alarm in alarms:
        alarm.cleared_at = at
        session.add(alarm)
    return len(alarms)


def _left_open_slots(session: Session, kiosk_id: str) -> set[int]:
    """Return the kiosk's slots with an open 'left open' alarm, read once per transaction.

    NOTE: every door_closed event asked the database for alarms to clear, ~13% of the ingest's
    time on a realistic mix (bench/hub_ingest_bench.py --profile); almost always there is none.
    Alarms raised in this transaction are added; one rolled back with a savepoint stays listed,
    which costs only a query that finds nothing.
    """
    by_kiosk: dict[str, set[int]] = transaction_cache(session, "left_open_slots")
    if kiosk_id not in by_kiosk:
        query = select(KioskAlarm.locker_slot).where(
            KioskAlarm.kiosk_id == kiosk_id,
            KioskAlarm.kind == AlarmKind.DOOR_LEFT_OPEN,
            KioskAlarm.cleared_at.is_(None),
        )
        by_kiosk[kiosk_id] = set(session.exec(query).all())
    return by_kiosk[kiosk_id]


def acknowledge_alarm(
    session: Session, actor: Actor, alarm_id: int, at: datetime | None = None
) -> KioskAlarm:
    """Clear an alarm a steward has dealt with (a forced door, say); audited.

    Acknowledging a cleared alarm changes nothing.
    """
    require_role(actor, Role.STEWARD, "acknowledge a door alarm")
    alarm = get_alarm(session, alarm_id)
    if alarm.cleared_at is not None:
        return alarm
    with audit.audited(session, actor, ALARM_ACKNOWLEDGE, alarm, f"alarm:{alarm_id}"):
        alarm.cleared_at = at or utcnow()
        session.add(alarm)
    return alarm


def get_alarm(session: Session, alarm_id: int) -> KioskAlarm:
    """Return door alarm ``alarm_id`` or refuse."""
    alarm = session.get(KioskAlarm, alarm_id)
    if alarm is None:
        raise NotFound(f"Alarm {alarm_id} does not exist.", field="alarm_id")
    return alarm


def record_refusal(
    session: Session, kiosk_id: str, card_uid: str, reason: str, tool_code: str | None, at: datetime
) -> None:
    """Log a card a kiosk refused (unknown cards are worth a steward's look)."""
    # NOTE: a Core insert, not an ORM object: refusals come in floods (a card held to the
    # reader, a stranger trying cards), and object construction was most of their cost.
    session.connection().execute(
        _INSERT_REFUSAL,
        {
            "kiosk_id": kiosk_id,
            "card_uid": card_uid,
            "reason": reason,
            "tool_code": tool_code,
            "at": at,
        },
    )


# Built once and run on the connection: a Core statement with bound parameters is compiled
# once, where .values() through the ORM built and coerced a new one for every refusal.
_INSERT_REFUSAL = insert(CardRefusal.__table__)
