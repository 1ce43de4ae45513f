"""May this card do that? The kiosk's rules, decided from its allow-list alone.

Each refusal carries one of the wire protocol's ``RefusalReason`` codes (it goes to the hub in
a ``card_refused`` event) and a sentence for the person at the screen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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
    zone: tzinfo | None = None,
    taken_here: frozenset[str] = frozenset(),
) -> Refusal | None:
    """Return why ``member`` may not take the tool of ``locker`` now, or None if they may
    (``zone``: the site's time zone, for the times the refusal names; ``taken_here``: tools
    this kiosk saw the member take that the allow-list may not list yet)."""
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
    return (
        require_active(member)
        or _reserved_for_another(allowlist, member, tool, now, zone)
        or _policy_problem(allowlist, member, now, taken_here)
        or _training_problem(allowlist, member, tool, now)
    )


def reservation_for(
    allowlist: wire.AllowList | None, tool: str, now: datetime
) -> wire.Reservation | None:
    """Return the reservation that keeps ``tool`` for a member now, if one does (one whose
    time has run out by this kiosk's clock no longer binds: the hub moves it on)."""
    kept = (allowlist.reservations or {}).get(tool) if allowlist else None
    return kept if kept is not None and kept.until > now else None


def _reserved_for_another(
    allowlist: wire.AllowList,
    member: wire.AllowListMember,
    tool: str,
    now: datetime,
    zone: tzinfo | None,
) -> Refusal | None:
    kept = reservation_for(allowlist, tool, now)
    if kept is None or kept.member_number == member.number:
        return None
    return Refusal(
        "tool_reserved", f"Reserved for a member until {local_time(kept.until, now, zone)}.", tool
    )


def _policy_problem(
    allowlist: wire.AllowList,
    member: wire.AllowListMember,
    now: datetime,
    taken_here: frozenset[str],
) -> Refusal | None:
    limits = allowlist.limits
    if limits is None:
        return None
    if limits.overdue_grace_days is not None:
        late = member.overdue(now, limits.overdue_grace_days)
        if late:
            one = len(late) == 1
            return Refusal(
                "borrowing_paused",
                f"You have {_tools(len(late))} out past "
                f"{'its' if one else 'their'} due date. Please bring "
                f"{'it' if one else 'them'} back before borrowing more.",
            )
    out = len(set(member.loans) | taken_here)
    if limits.max_loans is not None and out >= limits.max_loans:
        return Refusal(
            "loan_limit",
            f"You have {_tools(out)} out; the limit is {limits.max_loans} at "
            "once. Please return one first.",
        )
    return None


def _tools(count: int) -> str:
    return "1 tool" if count == 1 else f"{count} tools"


def site_zone(name: str | None) -> tzinfo | None:
    """Return the time zone called ``name`` (the hub's config), or None for the kiosk's own
    local time (no name, or one this kiosk does not know)."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def local_time(moment: datetime, now: datetime, zone: tzinfo | None) -> str:
    """Return ``moment`` as the screen says it: "18:00" today, "Tue 1 Dec 18:00" another day."""
    there, today = moment.astimezone(zone), now.astimezone(zone)
    if there.date() == today.date():
        return f"{there:%H:%M}"
    return f"{there:%a} {there.day} {there:%b %H:%M}"


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
