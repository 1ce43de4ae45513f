"""The kiosk fleet as stewards read it: each kiosk's health, refused cards, dead letters."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, select

from hub.infra.clock import as_utc, utcnow
from hub.infra.settings import clock_skew_bound
from hub.infra.sync import current_version
from hub.inventory.fleet import CardRefusal, KioskAlarm, KioskStatus, site_links
from hub.inventory.registry import Kiosk, list_kiosks
from hub.worker.inbox import DeadLetter
from hub.worker.sequence import KioskSequence

# A kiosk that has said nothing for this long is shown as silent even if its status says online.
SILENT_AFTER = timedelta(minutes=5)
# A clock estimate older than this says nothing about the kiosk's clock now.
CLOCK_FRESH = timedelta(hours=1)
# An event the hub has not acknowledged for this long means the kiosk's link or the ingest is
# stuck (an ack takes milliseconds; the link re-sends after 30 s).
BACKLOG_OLD_AFTER = timedelta(minutes=5)


@dataclass(frozen=True)
class KioskHealth:
    """One kiosk at a glance: its status, open door alarms, and whether its list is behind."""

    kiosk: Kiosk
    status: KioskStatus | None
    open_alarms: list[KioskAlarm]
    allowlist_behind: bool
    silent: bool
    problems: tuple[str, ...] = ()  # why an online kiosk is sick, as a steward reads it
    # How far the kiosk's clock runs ahead of the hub's (negative: behind), from its events.
    clock_offset: timedelta | None = None
    clock_bound: timedelta = timedelta(minutes=5)
    # Since when its site's broker has been cut off from the network's (None: linked, or a
    # kiosk on the network's broker): what it last reported is all the hub can know.
    site_cut_off_since: datetime | None = None

    @property
    def clock_skewed(self) -> bool:
        """Tell whether the kiosk's clock is off by more than the configured bound."""
        return self.clock_offset is not None and abs(self.clock_offset) > self.clock_bound

    @property
    def clock_says(self) -> str:
        """Say how far off the kiosk's clock is, as a steward reads it."""
        if self.clock_offset is None:
            return "no events yet"
        minutes = round(self.clock_offset.total_seconds() / 60)
        if not self.clock_skewed:
            return "in step with the hub"
        if minutes > 0:
            return f"about {minutes} min ahead of the hub"
        return f"about {-minutes} min behind the hub (or delivering old events)"

    @property
    def online(self) -> bool:
        return bool(
            self.status
            and self.status.state == "online"
            and not self.silent
            and self.site_cut_off_since is None
        )

    @property
    def sick(self) -> bool:
        """Whether the kiosk says it is online but cannot do its job properly."""
        return bool(self.problems)

    @property
    def healthy(self) -> bool:
        return (
            self.online
            and not self.open_alarms
            and not self.allowlist_behind
            and not self.clock_skewed
            and not self.sick
        )


def allowlist_version(session: Session) -> int:
    """Return the allow-list version kiosks should hold (the publisher sends at least 1)."""
    return max(current_version(session), 1)


def fleet_health(session: Session, *, now: datetime | None = None) -> list[KioskHealth]:
    """Return every kiosk's health: online, last seen, backlog, alarms, allow-list lag.

    A kiosk is behind when it holds an older allow-list than the one the publisher sends.
    """
    now = now or utcnow()
    current = allowlist_version(session)
    statuses = {s.kiosk_id: s for s in session.exec(select(KioskStatus))}
    clocks = _clock_offsets(session, now)
    alarms: dict[str, list[KioskAlarm]] = {}
    for alarm in session.exec(
        select(KioskAlarm).where(KioskAlarm.cleared_at.is_(None)).order_by(KioskAlarm.raised_at)
    ):
        alarms.setdefault(alarm.kiosk_id, []).append(alarm)
    bound = clock_skew_bound()
    cut_off = {link.site: as_utc(link.since) for link in site_links(session) if not link.connected}
    return [
        replace(
            _health(k, statuses.get(k.id), alarms.get(k.id, []), current, now),
            clock_offset=clocks.get(k.id),
            clock_bound=bound,
            site_cut_off_since=cut_off.get(k.site),
        )
        for k in list_kiosks(session)
    ]


def _clock_offsets(session: Session, now: datetime) -> dict[str, timedelta]:
    """Return each kiosk's clock offset estimated from its recent events (an hour at most)."""
    query = select(
        KioskSequence.kiosk_id, KioskSequence.clock_offset_s, KioskSequence.clock_offset_at
    )
    return {
        kiosk_id: timedelta(seconds=seconds)
        for kiosk_id, seconds, at in session.exec(query)
        if seconds is not None and at is not None and now - as_utc(at) < CLOCK_FRESH
    }


def _health(
    kiosk: Kiosk,
    status: KioskStatus | None,
    alarms: list[KioskAlarm],
    current_allowlist: int,
    now: datetime,
) -> KioskHealth:
    seen = status and status.last_seen_at and as_utc(status.last_seen_at)
    behind = bool(
        status and status.state == "online" and (status.allowlist_version or 0) < current_allowlist
    )
    silent = not seen or now - seen > SILENT_AFTER
    problems = _problems(status, now) if status and status.state == "online" else ()
    return KioskHealth(kiosk, status, alarms, behind, silent=silent, problems=problems)


def _problems(status: KioskStatus, now: datetime) -> tuple[str, ...]:
    """Return what the kiosk's own health report says is wrong (nothing for an old kiosk)."""
    problems = []
    if status.reader == "missing":
        problems.append("card reader not working")
    age = unacked_age(status, now)
    if age is not None and age > BACKLOG_OLD_AFTER:
        problems.append(f"oldest event unacknowledged for {int(age.total_seconds() // 60)} min")
    if status.reader is not None and status.locks_safety is None:
        problems.append("lock safety settings not verified")
    return tuple(problems)


def unacked_age(status: KioskStatus, now: datetime) -> timedelta | None:
    """Return how long the kiosk's oldest unacknowledged event has waited by ``now``."""
    if not status.outbox_backlog or status.oldest_unacked_s is None or status.health_at is None:
        return None
    return timedelta(seconds=status.oldest_unacked_s) + (now - as_utc(status.health_at))


def recent_refusals(session: Session, *, limit: int = 50) -> list[CardRefusal]:
    """Return the newest card refusals."""
    return list(session.exec(select(CardRefusal).order_by(CardRefusal.at.desc()).limit(limit)))


def dead_letter_count(session: Session) -> int:
    """Return how many messages the hub could not take wait for a steward to settle them."""
    query = select(func.count()).select_from(DeadLetter).where(DeadLetter.settled_at.is_(None))
    return session.exec(query).one()


@dataclass(frozen=True)
class SiteRow:
    """A site's link to the network's broker, with its kiosks' last known backlog."""

    site: str
    connected: bool
    since: datetime
    kiosks: int
    backlog: int  # what its kiosks last reported (a cut-off site cannot report more)


def sites(session: Session) -> list[SiteRow]:
    """Return each bridged site's link, cut-off sites first (none: no site is bridged)."""
    backlog: dict[str, int] = {}
    kiosks: dict[str, int] = {}
    statuses = {s.kiosk_id: s for s in session.exec(select(KioskStatus))}
    for kiosk in list_kiosks(session):
        kiosks[kiosk.site] = kiosks.get(kiosk.site, 0) + 1
        status = statuses.get(kiosk.id)
        backlog[kiosk.site] = backlog.get(kiosk.site, 0) + ((status and status.outbox_backlog) or 0)
    return [
        SiteRow(
            link.site,
            link.connected,
            as_utc(link.since),
            kiosks.get(link.site, 0),
            backlog.get(link.site, 0),
        )
        for link in site_links(session)
    ]
