"""Members: find them, add and edit them, suspend, reinstate, change roles, give and take
cards and trainings, reset PINs.

Members' personal details are never public: every operation here needs a steward. Who may act
on whom is the hub's rule (``hub.members.ranks``); each write is a hub service that audits itself.
"""

from __future__ import annotations

from sqlmodel import Session

from dashboard.auth import acting_member
from dashboard.database import reading, transaction
from hub.errors import InvalidInput, NotFound
from hub.members import cards, credentials, roster, standing, trainings
from hub.members.roster import Card, Member
from hub.queries import members as member_rows
from hub.wire import parse_uid

from .blueprint import api
from .members_schemas import LostCard, MemberEdit, NewCard, NewMember, TrainingGrant, Why
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
    """List members by number, optionally those whose name or number contains ``q``, or who
    hold a card whose UID contains it.

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
        return member_detail(db, roster.get_member(db, member_id))


@api.operation(
    "POST",
    "/members",
    body=NewMember,
    response=MemberDetail,
    status=201,
    refusals=(409,),
    tag="members",
)
def add_member(body: NewMember) -> MemberDetail:
    """Add a member; the next free number is allotted when none is given.

    Refused (409, `number`) when the number is taken; (403, `roles`) when granting a role not
    below one's own (an admin may grant any). Stewards only; audited.
    """
    with transaction() as db:
        member = standing.enrol_member(
            db, acting_member(), **body.model_dump(exclude={"roles"}), roles=list(body.roles)
        )
        return member_detail(db, member)


@api.operation(
    "PATCH",
    f"/members/{ID}",
    body=MemberEdit,
    response=MemberDetail,
    refusals=(409,),
    tag="members",
)
def edit_member(member_id: int, body: MemberEdit) -> MemberDetail:
    """Change a member's name, email, phone or roles: only the fields sent.

    A blank or null email or phone clears it. Roles follow the rules of the roles operation
    (403 for a role not below one's own; 409 for demoting the last admin). Changing nothing
    records nothing. Refused (403) on a member of one's rank or above. Audited.
    """
    sent = body.model_fields_set
    details = {key: getattr(body, key) for key in standing.DETAILS if key in sent}
    if details.get("name", "") is None:
        del details["name"]  # null: unchanged
    with transaction() as db:
        if details:
            standing.edit_member(db, acting_member(), member_id, details)
        if body.roles is not None:
            standing.set_roles(db, acting_member(), member_id, list(body.roles))
        return member_detail(db, roster.get_member(db, member_id))


@api.operation(
    "POST",
    f"/members/{ID}/cards",
    body=NewCard,
    response=CardOut,
    status=201,
    refusals=(409,),
    tag="members",
)
def assign_card(member_id: int, body: NewCard) -> CardOut:
    """Give a member a card; kiosks open for it from the next allow-list.

    Refused (409, `uid`) when any other member holds (or held) that card. Sending the member's
    own live card again changes nothing. Refused (403) on a member of one's rank or above.
    Audited.
    """
    with transaction() as db:
        card = cards.assign_card(db, acting_member(), member_id, body.uid, label=body.label)
        return card_out(card)


@api.operation(
    "POST",
    f"/members/{ID}/cards/<uid>/revoke",
    body=Why,
    response=CardOut,
    tag="members",
)
def revoke_card(member_id: int, uid: str, body: Why) -> CardOut:
    """Revoke one of a member's cards (stolen, handed back); its history stays.

    A card that is not this member's is 404 (`uid`). Revoking a revoked card changes nothing.
    Audited, with the reason.
    """
    with transaction() as db:
        card = cards.revoke_card(
            db, acting_member(), member_id, _known_uid(uid), reason=body.reason
        )
        return card_out(card)


@api.operation(
    "POST", f"/members/{ID}/cards/<uid>/lost", body=LostCard, response=CardOut, tag="members"
)
def report_card_lost(member_id: int, uid: str, body: LostCard) -> CardOut:
    """Revoke a card its holder lost (audited with the reason 'lost' and the note); their
    other cards stay live.

    A card that is not this member's is 404 (`uid`).
    """
    with transaction() as db:
        lost = cards.report_lost(db, acting_member(), member_id, _known_uid(uid), note=body.note)
        return card_out(lost)


@api.operation(
    "POST", f"/members/{ID}/trainings", body=TrainingGrant, response=TrainingOut, tag="members"
)
def grant_training(member_id: int, body: TrainingGrant) -> TrainingOut:
    """Record that a member passed a training, until ``expires_on`` if given; renewing a held
    training moves its expiry.

    An unknown training is 404 (`training`); an expiry date not after today is 422
    (`expires_on`). Audited.
    """
    with transaction() as db:
        held = trainings.grant_training(
            db, acting_member(), member_id, body.training, expires_on=body.expires_on
        )
        training = roster.training_by_code(db, body.training)
        return TrainingOut(
            code=training.code,
            name=training.name,
            granted_at=held.granted_at,
            expires_at=held.expires_at,
        )


@api.operation(
    "POST",
    f"/members/{ID}/trainings/<code>/revoke",
    body=Why,
    response=MemberDetail,
    tag="members",
)
def revoke_training(member_id: int, code: str, body: Why) -> MemberDetail:
    """Take training ``code`` away from a member; 404 (`training`) if they do not hold it.

    Audited, with when it would have expired.
    """
    with transaction() as db:
        trainings.revoke_training(db, acting_member(), member_id, code, reason=body.reason)
        return member_detail(db, roster.get_member(db, member_id))


@api.operation("POST", f"/members/{ID}/pin-reset", body=Why, response=MemberOut, tag="members")
def reset_pin(member_id: int, body: Why) -> MemberOut:
    """Forget a member's tablet PIN; they set a new one on the tablet after a card tap.

    Refused (403) on a member of one's rank or above. Audited (never with the PIN).
    """
    with transaction() as db:
        member = credentials.reset_pin(db, acting_member(), member_id, reason=body.reason)
        return member_out(member)


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


def member_detail(db: Session, member: Member) -> MemberDetail:
    """Return ``member`` with contact details, cards (live and revoked) and trainings."""
    held = [TrainingOut(**t._asdict()) for t in member_rows.trainings_of(db, member.id)]
    return MemberDetail(
        **member_out(member).model_dump(),
        email=member.email,
        phone=member.phone,
        status_reason=member.status_reason,
        joined_at=member.joined_at,
        cards=[card_out(card) for card in roster.cards_of(db, member.id)],
        trainings=held,
    )


def _known_uid(uid: str) -> str:
    """Return a path's card UID; a malformed one names no card (404, not 422)."""
    try:
        return parse_uid(uid)
    except InvalidInput:
        raise NotFound(f"Card {uid!r} is not known.", field="uid") from None


def card_out(card: Card) -> CardOut:
    return CardOut(
        uid=card.uid, label=card.label, issued_at=card.issued_at, revoked_at=card.revoked_at
    )
