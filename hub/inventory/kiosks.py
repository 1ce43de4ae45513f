"""A steward's doors on kiosks and their lockers: register, rename, provision, revoke.

Each takes the acting member first, checks they are a steward (``hub.members.ranks``), and
writes its audit entry (``registry``'s actions) in the caller's transaction. Provisioning and
revoking also change the broker (``broker.provision``: Mosquitto's dynamic-security plugin,
told at once when it runs): the broker is changed last, after every check has passed, so a
refusal leaves both as they were.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session

from broker import provision
from broker.dynsec import DynsecError
from hub.errors import Conflict, InvalidInput, NotFound
from hub.infra import audit
from hub.infra.clock import utcnow
from hub.inventory import registry, sites
from hub.inventory.registry import (
    KIOSK_PROVISION,
    KIOSK_REGISTER,
    KIOSK_RENAME,
    KIOSK_REVOKE,
    LOCKER_ADD,
    LOCKER_REMOVE,
    Kiosk,
    Locker,
)
from hub.members.ranks import Actor, require_role
from hub.members.roster import NOTE_MAX, Role, clean_text
from hub.wire import parse_locker_slot, parse_name

MAX_SLOTS = 999
_RANGE = re.compile(r"^\s*(\d{1,3})\s*(?:-\s*(\d{1,3})\s*)?$")


@dataclass(frozen=True)
class KioskLogin:
    """What a kiosk needs to log in to the broker: shown once, when it is made."""

    kiosk_id: str
    site: str
    name: str
    username: str
    password: str

    @property
    def client_id(self) -> str:
        """The client id the broker insists on: the kiosk id."""
        return self.kiosk_id


def target_of(kiosk_id: str) -> str:
    """Name a kiosk in the audit log."""
    return f"kiosk:{kiosk_id}"


def register_kiosk(
    session: Session, actor: Actor, kiosk_id: str, *, site: str, name: str, slots: int = 0
) -> Kiosk:
    """Register a kiosk at a site with lockers 1..``slots``; audited (each locker too). An
    unknown site is added with it (everyone may borrow there), so nothing changes for anyone."""
    require_role(actor, Role.STEWARD, "register a kiosk")
    if not 0 <= slots <= MAX_SLOTS:
        raise InvalidInput(f"slots must be a whole number from 0 to {MAX_SLOTS}.", field="slots")
    kiosk = registry.new_kiosk(session, kiosk_id, site=site, name=name)
    with audit.audited(session, actor, KIOSK_REGISTER, kiosk, target_of(kiosk.id)) as notes:
        session.add(kiosk)
        notes["lockers"] = slots
    sites.ensure_site(session, kiosk.site)
    add_lockers(session, actor, kiosk.id, list(range(1, slots + 1)))
    return kiosk


def rename_kiosk(session: Session, actor: Actor, kiosk_id: str, name: str) -> Kiosk:
    """Give a kiosk a new name (what stewards and its screen call it); audited."""
    require_role(actor, Role.STEWARD, "rename a kiosk")
    kiosk = registry.get_kiosk(session, kiosk_id)
    name = parse_name(name)
    if kiosk.name == name:
        return kiosk
    with audit.audited(session, actor, KIOSK_RENAME, kiosk, target_of(kiosk.id)):
        kiosk.name = name
        session.add(kiosk)
    return kiosk


def provision_kiosk(
    session: Session, actor: Actor, kiosk_id: str, broker_dir: Path, reason: str | None = None
) -> KioskLogin:
    """Give a kiosk a new broker password (its old one stops working) and return its login.

    The password is shown to the caller once and kept only in the broker's private credentials
    file; provisioning again makes a new one. A running broker takes it at once. Audited with
    the optional ``reason`` (the password never goes into the log).
    """
    require_role(actor, Role.STEWARD, "provision a kiosk")
    kiosk = registry.get_kiosk(session, kiosk_id)
    why = clean_text(reason, "reason", limit=NOTE_MAX, required=False)
    with audit.audited(session, actor, KIOSK_PROVISION, kiosk, target_of(kiosk.id)) as notes:
        kiosk.provisioned_at, kiosk.revoked_at = utcnow(), None
        session.add(kiosk)
        notes.update({"username": kiosk.id} | ({"reason": why} if why else {}))
    try:
        given = provision.provision_kiosk(broker_dir, kiosk.id, site=kiosk.site, rotate=True)
    except DynsecError as error:
        raise Conflict(
            f"The broker did not take kiosk {kiosk.id}: {error}", field="kiosk_id"
        ) from None
    return KioskLogin(kiosk.id, kiosk.site, kiosk.name, given.username, given.password)


def revoke_kiosk(
    session: Session, actor: Actor, kiosk_id: str, broker_dir: Path, reason: str | None = None
) -> Kiosk:
    """Remove a kiosk's broker credentials: a connected kiosk is cut off at once and cannot log
    in again until provisioned anew. Audited with the optional ``reason``. A kiosk never
    provisioned is refused; revoking a revoked kiosk changes nothing."""
    require_role(actor, Role.STEWARD, "revoke a kiosk")
    kiosk = registry.get_kiosk(session, kiosk_id)
    why = clean_text(reason, "reason", limit=NOTE_MAX, required=False)
    if kiosk.revoked_at is not None:
        return kiosk
    with audit.audited(session, actor, KIOSK_REVOKE, kiosk, target_of(kiosk.id)) as notes:
        kiosk.revoked_at = utcnow()
        session.add(kiosk)
        notes.update({"reason": why} if why else {})
    try:
        removed = provision.revoke(broker_dir, kiosk.id)
    except DynsecError as error:
        raise Conflict(
            f"The broker did not revoke kiosk {kiosk.id}: {error}", field="kiosk_id"
        ) from None
    if not removed and kiosk.provisioned_at is None:
        raise Conflict(f"Kiosk {kiosk.id} has no broker credentials to revoke.", field="kiosk_id")
    return kiosk


def add_lockers(
    session: Session, actor: Actor, kiosk_id: str, slots: list[int], *, label: str | None = None
) -> list[Locker]:
    """Add lockers ``slots`` to a kiosk (all of them, or none if any is taken); each audited."""
    require_role(actor, Role.STEWARD, "add lockers")
    if len(set(slots)) != len(slots):
        raise InvalidInput("slots lists a slot twice.", field="slots")
    added = []
    for slot in slots:
        locker = registry.new_locker(session, kiosk_id, slot, label=label)
        with audit.audited(session, actor, LOCKER_ADD, locker, _locker_target(locker)):
            session.add(locker)
        added.append(locker)
    return added


def remove_locker(session: Session, actor: Actor, kiosk_id: str, slot: int) -> None:
    """Remove an empty locker from a kiosk; one a tool lives in is refused. Audited."""
    require_role(actor, Role.STEWARD, "remove a locker")
    registry.get_kiosk(session, kiosk_id)
    locker = registry.find_locker(session, kiosk_id, parse_locker_slot(slot))
    if locker is None:
        raise NotFound(f"Kiosk {kiosk_id} has no locker {slot}.", field="slot")
    occupant = registry.occupant_of(session, locker)
    if occupant:
        raise Conflict(
            f"Locker {slot} at {kiosk_id} holds tool {occupant}: move or retire it first.",
            field="slot",
        )
    audit.record(
        session,
        actor_member_id=actor.id,
        action=LOCKER_REMOVE.name,
        target=_locker_target(locker),
        before=audit.snapshot(locker, *LOCKER_REMOVE.fields),
        after=None,
    )
    session.delete(locker)
    session.flush()


def parse_slots(text: str, field: str = "slots") -> list[int]:
    """Read locker slots as a steward types them: ``9``, ``9-12``, ``1-4, 7`` (in order)."""
    slots: list[int] = []
    for part in filter(str.strip, text.split(",")):
        match = _RANGE.match(part)
        if match is None:
            raise InvalidInput(
                f"{field}: {part.strip()!r} is not a slot or a range like 9-12.", field=field
            )
        first, last = int(match[1]), int(match[2] or match[1])
        if not 1 <= first <= last <= MAX_SLOTS:
            raise InvalidInput(
                f"{field}: {part.strip()!r} must run upwards within 1-{MAX_SLOTS}.", field=field
            )
        slots.extend(range(first, last + 1))
    if not slots:
        raise InvalidInput(f"{field} is required: a slot or a range like 9-12.", field=field)
    return slots


def _locker_target(locker: Locker) -> str:
    return f"locker:{locker.kiosk_id}/{locker.slot}"
