"""Members: find them, see one with cards and trainings, suspend, reinstate, change roles.

Members' personal details are never public: every operation here needs a steward. Who may act
on whom is the hub's rule (``hub.members.ranks``), audited by the hub's service.
"""

from __future__ import annotations

from dashboard.auth import acting_member
from dashboard.database import reading, transaction
from hub.members import roster, standing
from hub.members.roster import Card, Member
from hub.queries import members as member_rows

from .blueprint import api
from .schemas import (
    CardOut,
    MemberDetail,
    MemberList,
    MemberOut,
    MemberSearch,
    Reinstatement,
    RoleChange,
    Suspension,
    TrainingOut,
)

ID = "<int(min=1, max=2147483647):member_id>"


@api.operation("GET", "/members", query=MemberSearch, response=MemberList, tag="members")
def list_members(query: MemberSearch) -> MemberList:
    """List members by number, optionally those whose name or number contains ``q``.

    Stewards only: names are personal details. Contact details are left out of the list.
    """
    with reading() as db:
        found = member_rows.find_members(db, query.q.strip() or None)
    return MemberList(members=[member_out(m) for m in found])


@api.operation("GET", f"/members/{ID}", response=MemberDetail, tag="members")
def show_member(member_id: int) -> MemberDetail:
    """Show one member with contact details, cards (live and revoked) and trainings.

    Stewards only.
    """
    with reading() as db:
        member = roster.get_member(db, member_id)
        cards = [_card_out(card) for card in roster.cards_of(db, member.id)]
        held = [TrainingOut(**t._asdict()) for t in member_rows.trainings_of(db, member.id)]
    return MemberDetail(
        **member_out(member).model_dump(),
        email=member.email,
        phone=member.phone,
        status_reason=member.status_reason,
        joined_at=member.joined_at,
        cards=cards,
        trainings=held,
    )


@api.operation("POST", f"/members/{ID}/suspend", body=Suspension, response=MemberOut, tag="members")
def suspend_member(member_id: int, body: Suspension) -> MemberOut:
    """Suspend a member with a reason; kiosks refuse their cards from the next allow-list.

    Suspending a suspended member replaces the reason, and ends the member's dashboard sessions.
    Refused (403) on oneself and on a member of one's rank or above (admins excepted); refused
    (409) on the last active admin. Stewards only; audited.
    """
    with transaction() as db:
        member = standing.suspend_member(db, acting_member(), member_id, body.reason)
    return member_out(member)


@api.operation(
    "POST", f"/members/{ID}/reinstate", body=Reinstatement, response=MemberOut, tag="members"
)
def reinstate_member(member_id: int, body: Reinstatement) -> MemberOut:
    """Make a suspended member active again; an optional reason goes to the audit log.

    Reinstating an active member changes nothing but is still audited. Refused (403) on a
    member of one's rank or above (admins excepted). Stewards only.
    """
    with transaction() as db:
        member = standing.reinstate_member(db, acting_member(), member_id, body.reason)
    return member_out(member)


@api.operation("POST", f"/members/{ID}/roles", body=RoleChange, response=MemberOut, tag="members")
def change_roles(member_id: int, body: RoleChange) -> MemberOut:
    """Give a member exactly ``roles`` (member is always held).

    Only roles below one's own may be granted or removed, on a member ranked below oneself
    (403; an admin may change any); the last active admin keeps the admin role (409). Audited.
    """
    with transaction() as db:
        member = standing.set_roles(db, acting_member(), member_id, list(body.roles))
    return member_out(member)


def member_out(member: Member) -> MemberOut:
    """Return the summary of ``member`` that any steward view shows."""
    return MemberOut(
        id=member.id,
        number=member.number,
        name=member.name,
        status=member.status,
        roles=sorted(r.value for r in member.role_set),
    )


def _card_out(card: Card) -> CardOut:
    return CardOut(
        uid=card.uid, label=card.label, issued_at=card.issued_at, revoked_at=card.revoked_at
    )
