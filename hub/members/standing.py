"""A member's standing: enrolment with roles, their details, suspension, reinstatement, roles.

Each is an act of someone on a member, so each checks the ranks (``hub.members.ranks``) and writes
its audit entry in the caller's transaction: a page, the API, the CLI and a CSV import are
audited alike. Suspension also ends the member's dashboard sessions; kiosks refuse their cards
from the next allow-list.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from sqlmodel import Session

from hub.errors import InvalidInput
from hub.infra import audit
from hub.members import roster
from hub.members.ranks import (
    Actor,
    actor_id,
    require_admin_remains,
    require_may_act_on,
    require_may_grant,
    require_not_self,
    require_role,
)
from hub.members.roster import (
    Member,
    MemberStatus,
    Role,
    clean_text,
    get_member,
    parse_email,
    parse_phone,
    parse_roles,
)
from hub.members.sessions import end_sessions_of
from hub.wire import parse_name

STATUS_FIELDS = ("status", "status_reason")
DETAILS: Final = ("name", "email", "phone")
MEMBER_ADD: Final = audit.Action("member.add", ("number", "name", "email", "phone", "roles"))
MEMBER_EDIT: Final = audit.Action("member.edit", DETAILS)
MEMBER_SUSPEND: Final = audit.Action("member.suspend", STATUS_FIELDS)
MEMBER_REINSTATE: Final = audit.Action("member.reinstate", STATUS_FIELDS)


def enrol_member(session: Session, actor: Actor, **fields: Any) -> Member:
    """Enrol a member (``roster.add_member``'s fields); audited, and roles beyond member are
    an audited grant too. Only a steward (or the operator) adds members."""
    require_role(actor, Role.STEWARD, "add a member")
    roles = frozenset(Role(r) for r in parse_roles(fields.get("roles")).split())
    require_may_grant(actor, roles - {Role.MEMBER})
    member = roster.new_member(session, **fields)
    with audit.audited(session, actor, MEMBER_ADD, member, target_of(member)):
        session.add(member)
    if roles != {Role.MEMBER}:
        record_grant(session, actor, member.number, before=Role.MEMBER.value, after=member.roles)
    return member


def edit_member(
    session: Session, actor: Actor, member_id: int, changes: Mapping[str, str | None]
) -> Member:
    """Change a member's ``name``, ``email`` or ``phone`` (only the keys given); audited.

    A blank email or phone clears it; a blank name is refused by ``name``. Changing nothing
    records nothing, so a double submit is harmless. Roles change through :func:`set_roles`.
    """
    require_role(actor, Role.STEWARD, "edit a member")
    member = get_member(session, member_id)
    require_may_act_on(actor, member, "edit")
    wanted = _parsed_details(changes)
    if all(getattr(member, key) == value for key, value in wanted.items()):
        return member
    with audit.audited(session, actor, MEMBER_EDIT, member, target_of(member)):
        for key, value in wanted.items():
            setattr(member, key, value)
        session.add(member)
    return member


def _parsed_details(changes: Mapping[str, str | None]) -> dict[str, str | None]:
    unknown = sorted(set(changes) - set(DETAILS))
    if unknown:
        raise InvalidInput(
            f"Unknown detail(s) {', '.join(unknown)}; a member's details are name, email, phone.",
            field=unknown[0],
        )
    parsers = {"name": parse_name, "email": parse_email, "phone": parse_phone}
    return {key: parsers[key](value) for key, value in changes.items()}


def target_of(member: Member) -> str:
    """Return the audit target of ``member``'s record."""
    return f"member:{member.number}"


def suspend_member(session: Session, actor: Actor, member_id: int, reason: str) -> Member:
    """Suspend a member with a reason and end their sessions; audited.

    Suspending a suspended member replaces the reason. Nobody suspends themselves, a member of
    their rank or above (admins excepted), or the last active admin.
    """
    require_role(actor, Role.STEWARD, "suspend a member")
    member = get_member(session, member_id)
    require_not_self(actor, member)
    require_may_act_on(actor, member, "suspend")
    require_admin_remains(session, member, "suspended")
    why = clean_text(reason, "reason", limit=roster.NOTE_MAX)
    with audit.audited(session, actor, MEMBER_SUSPEND, member, target_of(member)) as notes:
        member.status, member.status_reason = MemberStatus.SUSPENDED, why
        session.add(member)
        ended = end_sessions_of(session, member.id, "suspended") if member.id else 0
        notes.update({"sessions_ended": ended} if ended else {})
    return member


def reinstate_member(
    session: Session, actor: Actor, member_id: int, reason: str | None = None
) -> Member:
    """Make a suspended member active again; an optional reason goes to the audit log.

    Reinstating an active member changes nothing but is still audited.
    """
    require_role(actor, Role.STEWARD, "reinstate a member")
    member = get_member(session, member_id)
    require_may_act_on(actor, member, "reinstate")
    why = clean_text(reason, "reason", limit=roster.NOTE_MAX, required=False)
    with audit.audited(session, actor, MEMBER_REINSTATE, member, target_of(member)) as notes:
        member.status, member.status_reason = MemberStatus.ACTIVE, None
        session.add(member)
        notes.update({"reason": why} if why else {})
    return member


def set_roles(session: Session, actor: Actor, member_id: int, roles: str | list[str]) -> Member:
    """Give a member exactly ``roles`` (member is always held); audited.

    Only roles below the actor's own may be granted or taken away (an admin may change any),
    only on a member ranked below the actor, and the last active admin keeps the admin role.
    """
    require_role(actor, Role.STEWARD, "change a member's roles")
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
