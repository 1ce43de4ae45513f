from datetime import timedelta

import pytest

from hub.errors import Conflict, InvalidInput, MemberSuspended, NotFound
from hub.infra.clock import utcnow
from hub.infra.db import transaction
from hub.members import cards
from hub.members.ranks import OPERATOR
from hub.members.roster import (
    NAME_MAX,
    Role,
    add_member,
    add_training,
    assign_card,
    cards_of,
    grant_training,
    member_by_number,
    member_for_card,
    require_active,
)
from hub.members.standing import reinstate_member, suspend_member
from hub.queries.members import find_members


def test_member_numbers_are_allotted_in_order(engine):
    with transaction(engine) as session:
        first = add_member(session, name="Ada Lovelace")
        second = add_member(session, name="Grace Hopper", roles="steward")
    assert (first.number, second.number) == ("1001", "1002")
    assert second.role_set == {Role.MEMBER, Role.STEWARD}


def test_admin_holds_steward_powers(engine):
    with transaction(engine) as session:
        admin = add_member(session, name="Alan Turing", roles=["admin"])
    assert admin.has_role(Role.STEWARD) and not admin.has_role(Role.VOLUNTEER)


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"name": "   "}, "name"),
        ({"name": "x" * (NAME_MAX + 1)}, "name"),
        ({"name": "Ok", "roles": "member wizard"}, "roles"),
        ({"name": "Ok", "number": "12a"}, "number"),
        ({"name": "Ok", "email": "e" * 201}, "email"),
    ],
)
def test_bad_member_input_names_the_field(engine, fields, field):
    with pytest.raises(InvalidInput) as refused:
        with transaction(engine) as session:
            add_member(session, **fields)
    assert refused.value.field == field
    with transaction(engine) as session:
        assert find_members(session) == []


def test_duplicate_member_number_is_a_conflict(engine):
    with transaction(engine) as session:
        add_member(session, name="Ada", number="42")
    with pytest.raises(Conflict, match="42 is already taken"):
        with transaction(engine) as session:
            add_member(session, name="Other", number="42")


def test_cards_are_canonical_and_unique(engine):
    with transaction(engine) as session:
        ada = add_member(session, name="Ada")
        grace = add_member(session, name="Grace")
        card = assign_card(session, ada.id, "de:ad:be:ef")
        assign_card(session, ada.id, "04-a2-24-e2-b3-5c-80", label="fob")
    assert card.uid == "DEADBEEF"
    with pytest.raises(Conflict, match="DEADBEEF already belongs"):
        with transaction(engine) as session:
            assign_card(session, grace.id, "DEADBEEF")
    with transaction(engine) as session:
        assert [c.uid for c in cards_of(session, ada.id)] == ["DEADBEEF", "04A224E2B35C80"]
        assert member_for_card(session, "deadbeef").id == ada.id


@pytest.mark.parametrize("uid", ["DEADBE", "DEADBEEF00", "NOTHEXXX", ""])
def test_malformed_uids_are_refused(engine, uid):
    with transaction(engine) as session:
        ada = add_member(session, name="Ada")
    with pytest.raises(InvalidInput) as refused:
        with transaction(engine) as session:
            assign_card(session, ada.id, uid)
    assert refused.value.field == "uid"


def test_revoked_card_no_longer_identifies_its_member(engine):
    with transaction(engine) as session:
        ada = add_member(session, name="Ada")
        assign_card(session, ada.id, "DEADBEEF")
        cards.revoke_card(session, OPERATOR, ada.id, "DEADBEEF")
    with pytest.raises(NotFound, match="DEADBEEF was revoked"):
        with transaction(engine) as session:
            member_for_card(session, "DEADBEEF")


def test_unknown_card_and_member_are_not_found(engine):
    with transaction(engine) as session:
        with pytest.raises(NotFound, match="Card CAFEBABE is not known"):
            member_for_card(session, "CAFEBABE")
        with pytest.raises(NotFound, match="Member number 9999 does not exist"):
            member_by_number(session, "9999")


def test_suspend_and_reinstate(engine):
    with transaction(engine) as session:
        ada = add_member(session, name="Ada")
        suspend_member(session, OPERATOR, ada.id, "three tools overdue")
    with transaction(engine) as session:
        suspended = member_by_number(session, ada.number)
        with pytest.raises(MemberSuspended, match="suspended: three tools overdue"):
            require_active(suspended)
        reinstate_member(session, OPERATOR, ada.id)
    with transaction(engine) as session:
        require_active(member_by_number(session, ada.number))


def test_training_renewal_moves_expiry(engine):
    start = utcnow() - timedelta(days=100)
    with transaction(engine) as session:
        ada = add_member(session, name="Ada")
        add_training(session, code="laser", name="Laser induction", valid_days=365)
        first = grant_training(session, ada.id, "laser", now=start)
        first_expiry = first.expires_at
        renewed = grant_training(session, ada.id, "laser")
    assert first_expiry == start + timedelta(days=365)
    assert renewed.id == first.id and renewed.expires_at > first_expiry + timedelta(days=99)


def test_bad_training_code_is_refused(engine):
    with pytest.raises(InvalidInput, match="code .* must be 1-40 lowercase"):
        with transaction(engine) as session:
            add_training(session, code="Laser Cutter!", name="x")
