"""The kiosk fleet at a glance (stewards only)."""

from __future__ import annotations

from dashboard.database import reading
from hub.queries import fleet

from .blueprint import api
from .schemas import AlarmOut, Fleet, KioskOut


@api.operation("GET", "/kiosks", response=Fleet, tag="kiosks")
def list_kiosks() -> Fleet:
    """List every kiosk's health: online, last seen, outbox backlog, allow-list lag, alarms.

    Stewards only.
    """
    with reading() as db:
        health = fleet.fleet_health(db)
    return Fleet(kiosks=[_kiosk_out(k) for k in health])


def _kiosk_out(health: fleet.KioskHealth) -> KioskOut:
    status = health.status
    return KioskOut(
        id=health.kiosk.id,
        site=health.kiosk.site,
        name=health.kiosk.name,
        online=health.online,
        healthy=health.healthy,
        state=status.state if status else "offline",
        last_seen_at=status.last_seen_at if status else None,
        outbox_backlog=status.outbox_backlog if status else None,
        allowlist_version=status.allowlist_version if status else None,
        allowlist_behind=health.allowlist_behind,
        open_alarms=[
            AlarmOut(id=a.id, locker_slot=a.locker_slot, kind=a.kind, raised_at=a.raised_at)
            for a in health.open_alarms
        ],
        clock_offset_s=health.clock_offset.total_seconds() if health.clock_offset else None,
        clock_skewed=health.clock_skewed,
    )
