"""A member's standing: enrolment with roles, suspension, reinstatement and role changes.

Each is an act of someone on a member, so each checks the ranks (``hub.members.ranks``) and writes
its audit entry in the caller's transaction: a page, the API, the CLI and a CSV import are
audited alike. Suspension also ends the member's dashboard sessions; kiosks refuse their cards
from the next allow-list.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from hub.infra import audit
from hub.members import roster
from hub.members.ranks import (
    Actor,
    actor_id,
    require_admin_remains,
    require_may_act_on,
    require_may_grant,
    require_not_self,
)
from hub.members.roster import Member, MemberStatus, Role, clean_text, get_member, parse_roles
from hub.members.sessions import end_sessions_of

STATUS_FIELDS = ("status", "status_reason")


def enrol_member(session: Session, actor: Actor, **fields: Any) -> Member:
    """Enrol a member (``roster.add_member``'s fields); roles beyond member are an audited grant."""
    roles = frozenset(Role(r) for r in parse_roles(fields.get("roles")).split())
    require_may_grant(actor, roles - {Role.MEMBER})
    member = roster.add_member(session, **fields)
    if roles != {Role.MEMBER}:
        record_grant(session, actor, member.number, before=Role.MEMBER.value, after=member.roles)
    return member


def suspend_member(session: Session, actor: Actor, member_id: int, reason: str) -> Member:
    """Suspend a member with a reason and end their sessions; audited.

    Suspending a suspended member replaces the reason. Nobody suspends themselves, a member of
    their rank or above (admins excepted), or the last active admin.
    """
    member = get_member(session, member_id)
    require_not_self(actor, member)
    require_may_act_on(actor, member, "suspend")
    require_admin_remains(session, member, "suspended")
    before = audit.snapshot(member, *STATUS_FIELDS)
    member.status = MemberStatus.SUSPENDED
    member.status_reason = clean_text(reason, "reason", limit=roster.NOTE_MAX)
    session.add(member)
    ended = end_sessions_of(session, member.id, "suspended") if member.id else 0
    extra = {"sessions_ended": ended} if ended else {}
    _record_status(session, actor, member, "member.suspend", before, extra)
    return member


def reinstate_member(
    session: Session, actor: Actor, member_id: int, reason: str | None = None
) -> Member:
    """Make a suspended member active again; an optional reason goes to the audit log.

    Reinstating an active member changes nothing but is still audited.
    """
    member = get_member(session, member_id)
    require_may_act_on(actor, member, "reinstate")
    before = audit.snapshot(member, *STATUS_FIELDS)
    member.status, member.status_reason = MemberStatus.ACTIVE, None
    session.add(member)
    why = clean_text(reason, "reason", limit=roster.NOTE_MAX, required=False)
    extra = {"reason": why} if why else {}
    _record_status(session, actor, member, "member.reinstate", before, extra)
    return member


def set_roles(session: Session, actor: Actor, member_id: int, roles: str | list[str]) -> Member:
    """Give a member exactly ``roles`` (member is always held); audited.

    Only roles below the actor's own may be granted or taken away (an admin may change any),
    only on a member ranked below the actor, and the last active admin keeps the admin role.
    """
    member = get_member(session, member_id)
    wanted = parse_roles(roles)
    changed = member.role_set ^ frozenset(Role(r) for r in wanted.split())
    if not changed:
        return member
    require_may_act_on(actor, member, "change the roles of")
    require_may_grant(actor, changed)
    if Role.ADMIN in changed and Role.ADMIN in member.role_set:
        require_admin_remains(session, member, "demoted")
    before = member.roles
    member.roles = wanted
    session.add(member)
    record_grant(session, actor, member.number, before=before, after=wanted)
    return member


def record_grant(session: Session, actor: Actor, number: str, *, before: str, after: str) -> None:
    """Audit that member ``number``'s roles went from ``before`` to ``after``.

    Public for the CSV import, which writes its rows in bulk rather than one by one.
    """
    audit.record(
        session,
        actor_member_id=actor_id(actor),
        action="member.roles",
        target=f"member:{number}",
        before={"roles": before},
        after={"roles": after},
    )


def _record_status(
    session: Session,
    actor: Actor,
    member: Member,
    action: str,
    before: dict[str, Any],
    extra: dict[str, Any],
) -> None:
    audit.record(
        session,
        actor_member_id=actor_id(actor),
        action=action,
        target=f"member:{member.number}",
        before=before,
        after=audit.snapshot(member, *STATUS_FIELDS) | extra,
    )
