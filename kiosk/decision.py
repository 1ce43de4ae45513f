"""May this card do that? The kiosk's rules, decided from its allow-list alone.

Each refusal carries one of the wire protocol's ``RefusalReason`` codes (it goes to the hub in
a ``card_refused`` event) and a sentence for the person at the screen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from broker import messages as wire
from kiosk.lockers import LockerState

STEWARD_ROLES = frozenset({"steward", "admin"})


@dataclass(frozen=True)
class Refusal:
    """Why the kiosk says no: a protocol reason code and a sentence for the screen."""

    reason: wire.RefusalReason
    message: str
    tool_code: str | None = None


NO_ALLOWLIST = Refusal(
    "allowlist_missing",
    "This kiosk has not received its member list yet. Please try again in a minute.",
)


def identify(allowlist: wire.AllowList | None, card_uid: str) -> wire.AllowListMember | Refusal:
    """Return the member holding ``card_uid``, or why the kiosk cannot tell.

    A suspended member is returned too: they may still bring tools back.
    """
    if allowlist is None:
        return NO_ALLOWLIST
    member = allowlist.entries.get(card_uid)
    if member is None:
        return Refusal(
            "unknown_card", "This card is not known here. A steward can register it for you."
        )
    return member


def require_active(member: wire.AllowListMember) -> Refusal | None:
    """Refuse a suspended member."""
    if member.status != "active":
        return Refusal(
            "member_suspended",
            f"Sorry {first_name(member)}, your membership is paused. Please talk to a steward.",
        )
    return None


def may_borrow(
    allowlist: wire.AllowList | None,
    member: wire.AllowListMember,
    locker: LockerState,
    now: datetime,
) -> Refusal | None:
    """Return why ``member`` may not take the tool of ``locker`` now, or None if they may."""
    tool = locker.tool_code
    if tool is None:
        return Refusal("locker_empty", f"Locker {locker.slot} is empty.")
    if locker.taken:
        return Refusal(
            "locker_empty", f"{tool} is out on loan; locker {locker.slot} is empty.", tool
        )
    if locker.out_of_service:
        return Refusal("tool_out_of_service", f"{tool} is out of service for repair.", tool)
    if allowlist is None:  # NOTE: no member is known without one; refuse all the same
        return NO_ALLOWLIST
    return require_active(member) or _training_problem(allowlist, member, tool, now)


def _training_problem(
    allowlist: wire.AllowList, member: wire.AllowListMember, tool: str, now: datetime
) -> Refusal | None:
    training = allowlist.tool_trainings.get(tool)
    if training is None:
        return None
    if training not in member.trainings:
        return Refusal("training_required", f"{tool} needs the “{training}” training first.", tool)
    expiry = member.trainings[training]
    if expiry is not None and expiry <= now:
        return Refusal(
            "training_expired",
            f"Your “{training}” training expired on {expiry:%d %B %Y}. Please renew it.",
            tool,
        )
    return None


def is_steward(member: wire.AllowListMember) -> bool:
    """Whether ``member`` may open lockers for maintenance and open tickets."""
    return not STEWARD_ROLES.isdisjoint(member.roles)


def require_steward(member: wire.AllowListMember) -> Refusal | None:
    """Refuse anyone but an active steward or admin."""
    if not is_steward(member):
        return Refusal("steward_required", "Only a steward can do that.")
    return require_active(member)


def first_name(member: wire.AllowListMember) -> str:
    """Return the name to greet ``member`` by."""
    return member.name.split()[0]
