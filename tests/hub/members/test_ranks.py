"""Who may act on whom: the rank table, checked against every pair of ranks."""

from __future__ import annotations

import pytest

from hub.infra.db import transaction
from hub.members.ranks import (
    OPERATOR,
    LastAdmin,
    Outranked,
    SelfSuspension,
    active_admin_ids,
    rank_of,
    require_admin_remains,
    require_may_act_on,
    require_may_grant,
    require_not_self,
)
from hub.members.roster import Member, Role

ROLES = ["member", "member volunteer", "member steward", "member admin"]


def person(member_id: int, roles: str) -> Member:
    return Member(id=member_id, number=str(1000 + member_id), name="x", roles=roles)


@pytest.mark.parametrize("actor_roles", ROLES)
@pytest.mark.parametrize("target_roles", ROLES)
def test_one_acts_only_below_ones_rank_unless_admin(actor_roles, target_roles):
    actor, target = person(1, actor_roles), person(2, target_roles)
    allowed = rank_of(actor) > rank_of(target) or "admin" in actor_roles
    if allowed:
        require_may_act_on(actor, target, "suspend")
    else:
        with pytest.raises(Outranked, match=f"may not suspend member {target.number}"):
            require_may_act_on(actor, target, "suspend")


@pytest.mark.parametrize("roles", ROLES)
def test_one_acts_on_oneself_but_never_suspends_oneself(roles):
    me = person(1, roles)
    require_may_act_on(me, me, "reset the PIN of")
    with pytest.raises(SelfSuspension):
        require_not_self(me, me)


@pytest.mark.parametrize("role", list(Role))
def test_a_steward_grants_only_roles_below_steward(role):
    steward = person(1, "member steward")
    if role in (Role.MEMBER, Role.VOLUNTEER):
        require_may_grant(steward, frozenset({role}))
    else:
        with pytest.raises(Outranked) as refused:
            require_may_grant(steward, frozenset({role}))
        assert refused.value.field == "roles"


def test_admins_and_the_operator_grant_anything():
    every = frozenset(Role)
    require_may_grant(person(1, "member admin"), every)
    require_may_grant(OPERATOR, every)
    require_may_act_on(OPERATOR, person(2, "member admin"), "suspend")


def test_the_last_active_admin_remains(engine):
    with transaction(engine) as session:
        admin = Member(number="1", name="Only Admin", roles="member admin")
        session.add(admin)
        session.add(Member(number="2", name="Suspended Admin", roles="admin", status="suspended"))
        session.flush()
        assert active_admin_ids(session) == {admin.id}
        with pytest.raises(LastAdmin, match="last active admin"):
            require_admin_remains(session, admin, "demoted")
        second = Member(number="3", name="Second Admin", roles="member steward admin")
        session.add(second)
        session.flush()
        require_admin_remains(session, admin, "demoted")


def test_only_an_active_holder_of_the_role_or_the_operator_may_act(engine):
    from hub.members.ranks import OPERATOR, NotSteward, require_role
    from hub.members.roster import MemberStatus
    from tests.hub.builders import a_member

    with transaction(engine) as session:
        steward = a_member(session, "Sam", roles="steward")
        admin = a_member(session, "Ida", roles="admin")
        volunteer = a_member(session, "Val", roles="volunteer")
    for allowed in (steward, admin, OPERATOR):
        require_role(allowed, Role.STEWARD, "add a tool")
    with pytest.raises(NotSteward, match="Member 1003 may not add a tool"):
        require_role(volunteer, Role.STEWARD, "add a tool")
    steward.status = MemberStatus.SUSPENDED
    with pytest.raises(NotSteward):
        require_role(steward, Role.STEWARD, "add a tool")
