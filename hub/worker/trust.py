"""What the hub checks of what kiosks claim (ARCHITECTURE.md, "Trust boundary").

A kiosk decides at the locker from its allow-list, and the hub records those decisions as
facts; but some claims a kiosk cannot make whatever it decided: a message from a kiosk the hub
has not registered, or under another site's topics; a steward's action with a card whose
member is not a steward at the hub; a locker slot that kiosk does not have. Each refusal names
its rule; nothing but the inbox row (or dead letter) is written for it.
"""

from __future__ import annotations

from sqlmodel import Session

from broker import messages as wire
from broker.topics import KioskTopic
from hub.errors import RuleViolation
from hub.inventory.registry import Kiosk, find_locker
from hub.members.roster import Role, card_by_uid, get_member

# The events only a steward may cause (the wire has no steward-mode open yet).
STEWARD_ONLY = (wire.MaintenanceOpenedEvent,)


def kiosk_refusal(session: Session, where: KioskTopic, kiosk: Kiosk | None) -> str | None:
    """Return why the hub refuses a message on ``where`` from ``kiosk`` (None: not registered),
    or None if it is the kiosk the hub registered, speaking under its own site.

    NOTE: the broker's ACL pins a kiosk to its own id but not to its site ('+'), so the site
    check lives here.
    """
    if kiosk is None:
        return (
            f"kiosk {where.kiosk_id!r} is not registered at the hub: "
            "run `commonshed hub kiosk register`"
        )
    if kiosk.site != where.site:
        return f"kiosk {where.kiosk_id!r} belongs to site {kiosk.site!r}, not {where.site!r}"
    return None


def request_refusal(session: Session, where: KioskTopic) -> str | None:
    """Return why the hub will not answer a request on ``where``, or None to answer it."""
    return kiosk_refusal(session, where, session.get(Kiosk, where.kiosk_id))


def check_event(session: Session, event: wire.Event) -> None:
    """Refuse an event whose claims the hub cannot accept, naming the rule."""
    if isinstance(event, STEWARD_ONLY):
        _require_steward_card(session, event.type, event.body.card_uid)
    slot = getattr(event.body, "locker_slot", None)
    if slot is not None:
        _require_slot(session, event.kiosk_id, slot, event.type)


def _require_steward_card(session: Session, kind: str, card_uid: str) -> None:
    member = get_member(session, card_by_uid(session, card_uid).member_id)
    if not member.has_role(Role.STEWARD):
        raise RuleViolation(
            f"{kind} needs a steward's card: member {member.number} is not a steward at the hub",
            field="card_uid",
        )


def _require_slot(session: Session, kiosk_id: str, slot: int, kind: str) -> None:
    if find_locker(session, kiosk_id, slot) is None:
        raise RuleViolation(
            f"{kind} names locker slot {slot}, which kiosk {kiosk_id!r} does not have",
            field="locker_slot",
        )
