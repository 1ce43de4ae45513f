"""Who may act on whom: member < volunteer < steward < admin, and the operator at the hub's shell.

The rules, checked by every service that changes a member's standing or credentials, so the
page, the API and the CLI agree:

- You act on yourself, or on members ranked below you; an admin acts on anyone.
- You grant or take away only roles ranked below your own; an admin grants any role.
- Nobody suspends themselves.
- The last active admin can be neither suspended nor demoted (the network would have no admin).

The operator is whoever runs ``commonshed hub`` on the host: they hold the database itself, so
rank does not bind them, but the last-admin rule does, and what they do is audited like the rest.
"""

from __future__ import annotations

from typing import Final

from sqlmodel import Session, col, select

from hub.errors import Conflict, RuleViolation
from hub.members.roster import Member, MemberStatus, Role

RANK: Final = {Role.MEMBER: 0, Role.VOLUNTEER: 1, Role.STEWARD: 2, Role.ADMIN: 3}


class Operator:
    """The person at the hub's shell (CLI, CSV import, demo seeding): above every role."""

    id: None = None
    number = "operator"

    def __repr__(self) -> str:
        return "OPERATOR"


OPERATOR: Final = Operator()
Actor = Member | Operator


class Outranked(RuleViolation, PermissionError):
    """The actor tried to act on a member of their rank or above, or grant such a role."""


class SelfSuspension(RuleViolation, PermissionError):
    """A member tried to suspend themselves."""


class LastAdmin(Conflict):
    """The change would leave the network without an active admin."""


def rank_of(member: Member) -> int:
    """Return the rank of ``member``'s highest role (0 for a plain member)."""
    return max(RANK[role] for role in member.role_set)


def actor_id(actor: Actor) -> int | None:
    """Return the member id for the audit log: None for the operator."""
    return actor.id


def require_may_act_on(actor: Actor, target: Member, doing: str) -> None:
    """Refuse ``actor`` ``doing`` something to ``target`` unless ranked above them (or self)."""
    if isinstance(actor, Operator) or actor.id == target.id or _is_admin(actor):
        return
    if rank_of(actor) <= rank_of(target):
        raise Outranked(
            f"Member {actor.number} ({_top_role(actor)}) may not {doing} member "
            f"{target.number} ({_top_role(target)}): only someone ranked above them, or an "
            "admin, may.",
            field="member_id",
        )


def require_may_grant(actor: Actor, changed: frozenset[Role]) -> None:
    """Refuse granting or taking away any role in ``changed`` that is not below the actor's."""
    if isinstance(actor, Operator) or _is_admin(actor):
        return
    too_high = sorted(r.value for r in changed if RANK[r] >= rank_of(actor))
    if too_high:
        raise Outranked(
            f"Member {actor.number} may not grant or remove the role(s) {', '.join(too_high)}: "
            f"only roles below one's own (or any, for an admin).",
            field="roles",
        )


def require_not_self(actor: Actor, target: Member) -> None:
    """Refuse a member suspending themselves."""
    if actor.id is not None and actor.id == target.id:
        raise SelfSuspension(
            f"Member {target.number} may not suspend themselves; ask another steward or an admin.",
            field="member_id",
        )


def require_admin_remains(session: Session, target: Member, doing: str) -> None:
    """Refuse ``doing`` to ``target`` if they are the last active admin."""
    if not (target.is_active and Role.ADMIN in target.role_set):
        return
    if active_admin_ids(session) <= {target.id}:
        raise LastAdmin(
            f"Member {target.number} is the last active admin and may not be {doing}: "
            "make another member admin first.",
            field="member_id",
        )


def active_admin_ids(session: Session) -> set[int | None]:
    """Return the ids of the active members who hold the admin role (locking their rows)."""
    # NOTE: FOR UPDATE, so two admins demoting each other at once on PostgreSQL cannot both
    # see the other still there: the second waits, then re-reads (SQLite's writers queue anyway).
    query = select(Member.id, Member.roles).where(
        Member.status == MemberStatus.ACTIVE, col(Member.roles).contains(Role.ADMIN.value)
    )
    rows = session.exec(query.with_for_update())
    return {member_id for member_id, roles in rows if Role.ADMIN.value in roles.split()}


def _is_admin(member: Member) -> bool:
    return Role.ADMIN in member.role_set


def _top_role(member: Member) -> str:
    return max(member.role_set, key=RANK.__getitem__).value


class NotSteward(RuleViolation, PermissionError):
    """The actor does not hold the role the action needs."""


def require_role(actor: Actor, role: Role, doing: str) -> None:
    """Refuse ``actor`` ``doing`` something unless active and holding ``role`` or a higher one
    (the operator at the shell always may). Services call this, so every door is checked alike."""
    if isinstance(actor, Operator):
        return
    if actor.is_active and rank_of(actor) >= RANK[role]:
        return
    raise NotSteward(
        f"Member {actor.number} may not {doing}: it needs an active {role.value}.",
        field="actor",
    )
