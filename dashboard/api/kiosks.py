"""The kiosk fleet at a glance, and setting kiosks up: register, rename, provision, revoke,
lockers (stewards only; each change audited by the hub's service)."""

from __future__ import annotations

from sqlmodel import Session

from dashboard.auth import acting_member
from dashboard.database import reading, transaction
from dashboard.kiosk_setup import broker_address, broker_dir
from hub.inventory import kiosks as kiosk_doors
from hub.inventory import registry
from hub.inventory.registry import Kiosk
from hub.queries import fleet

from .blueprint import api
from .inventory_schemas import (
    KioskChange,
    KioskLogin,
    KioskRecord,
    KioskRename,
    NewKiosk,
    NewLockers,
)
from .schemas import AlarmOut, Fleet, KioskOut

ID = "<string(maxlength=32):kiosk_id>"


@api.operation("GET", "/kiosks", response=Fleet, tag="kiosks")
def list_kiosks() -> Fleet:
    """List every kiosk's health: online, last seen, outbox backlog, allow-list lag, alarms.

    Stewards only.
    """
    with reading() as db:
        health = fleet.fleet_health(db)
    return Fleet(kiosks=[_kiosk_out(k) for k in health])


@api.operation(
    "POST",
    "/kiosks",
    body=NewKiosk,
    response=KioskRecord,
    status=201,
    refusals=(409,),
    tag="kiosks",
)
def register_kiosk(body: NewKiosk) -> KioskRecord:
    """Register a kiosk at a site, with lockers 1..``slots``.

    An id already registered is a conflict (409). Its broker login comes from ``provision``.
    Stewards only; audited.
    """
    with transaction() as db:
        kiosk = kiosk_doors.register_kiosk(
            db, acting_member(), body.kiosk_id, site=body.site, name=body.name, slots=body.slots
        )
        return kiosk_record(db, kiosk)


@api.operation("PATCH", f"/kiosks/{ID}", body=KioskRename, response=KioskRecord, tag="kiosks")
def rename_kiosk(kiosk_id: str, body: KioskRename) -> KioskRecord:
    """Rename a kiosk. Stewards only; audited."""
    with transaction() as db:
        kiosk = kiosk_doors.rename_kiosk(db, acting_member(), kiosk_id, body.name)
        return kiosk_record(db, kiosk)


@api.operation(
    "POST",
    f"/kiosks/{ID}/provision",
    body=KioskChange,
    response=KioskLogin,
    refusals=(409,),
    tag="kiosks",
)
def provision_kiosk(kiosk_id: str, body: KioskChange) -> KioskLogin:
    """Give a kiosk a new broker login and answer it: the password is shown here only, once.

    Its old password, if any, stops working; a running broker takes the new one at once. A
    broker that cannot be told is a conflict (409). Stewards only; audited (without the
    password).
    """
    with transaction() as db:
        login = kiosk_doors.provision_kiosk(
            db, acting_member(), kiosk_id, broker_dir(), body.reason
        )
    where = broker_address()
    return KioskLogin(
        kiosk_id=login.kiosk_id,
        site=login.site,
        host=where.host,
        port=where.port,
        username=login.username,
        password=login.password,
        client_id=login.client_id,
    )


@api.operation(
    "POST",
    f"/kiosks/{ID}/revoke",
    body=KioskChange,
    response=KioskRecord,
    refusals=(409,),
    tag="kiosks",
)
def revoke_kiosk(kiosk_id: str, body: KioskChange) -> KioskRecord:
    """Revoke a kiosk's broker login: it is cut off at once and cannot log in again.

    A kiosk never provisioned is a conflict (409); revoking a revoked kiosk changes nothing.
    Stewards only; audited.
    """
    with transaction() as db:
        kiosk = kiosk_doors.revoke_kiosk(db, acting_member(), kiosk_id, broker_dir(), body.reason)
        return kiosk_record(db, kiosk)


@api.operation(
    "POST",
    f"/kiosks/{ID}/lockers",
    body=NewLockers,
    response=KioskRecord,
    status=201,
    refusals=(409,),
    tag="kiosks",
)
def add_lockers(kiosk_id: str, body: NewLockers) -> KioskRecord:
    """Add lockers to a kiosk: all the slots, or none if any is taken (409).

    Stewards only; each locker audited.
    """
    with transaction() as db:
        kiosk_doors.add_lockers(db, acting_member(), kiosk_id, body.slots, label=body.label)
        return kiosk_record(db, registry.get_kiosk(db, kiosk_id))


def kiosk_record(db: Session, kiosk: Kiosk) -> KioskRecord:
    """Return a kiosk as its write operations answer it."""
    return KioskRecord(
        id=kiosk.id,
        site=kiosk.site,
        name=kiosk.name,
        registered_at=kiosk.registered_at,
        provisioned_at=kiosk.provisioned_at,
        revoked_at=kiosk.revoked_at,
        slots=[locker.slot for locker in registry.lockers_of(db, kiosk.id)],
    )


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
        site_cut_off_since=health.site_cut_off_since,
    )
