"""A member's standing: suspension, reinstatement, roles, enrolment; each audited once."""

from __future__ import annotations

import json
import threading

import pytest
from sqlmodel import select

from hub.errors import InvalidInput
from hub.infra.audit import AuditEntry
from hub.infra.db import transaction
from hub.members import sessions
from hub.members.ranks import OPERATOR, LastAdmin, NotSteward, Outranked, active_admin_ids
from hub.members.roster import Member, add_member
from hub.members.standing import (
    edit_member,
    enrol_member,
    reinstate_member,
    set_roles,
    suspend_member,
)
from tests.fixtures.waiting import wait_until


def audit_of(session) -> list[tuple[str, str, str | None]]:
    return [(e.action, e.target, e.after) for e in session.exec(select(AuditEntry))]


def test_suspension_ends_sessions_and_is_audited(engine):
    with transaction(engine) as session:
        grace = add_member(session, name="Grace", roles="steward")
        sessions.start_session(session, grace.id)
        suspend_member(session, OPERATOR, grace.id, " left ")
        assert sessions.live_sessions(session, grace.id) == []
        reinstate_member(session, OPERATOR, grace.id)
        (suspended, reinstated) = audit_of(session)
    assert json.loads(suspended[2]) == {
        "status": "suspended", "status_reason": "left", "sessions_ended": 1
    }  # fmt: skip
    assert reinstated[0] == "member.reinstate" and json.loads(reinstated[2])["status"] == "active"


def test_unchanged_roles_change_nothing_and_audit_nothing(engine):
    with transaction(engine) as session:
        ada = add_member(session, name="Ada", roles="volunteer")
        set_roles(session, OPERATOR, ada.id, "volunteer member")
        assert audit_of(session) == []
        set_roles(session, OPERATOR, ada.id, ["steward"])
        assert ada.roles == "member steward"
        assert [a[0] for a in audit_of(session)] == ["member.roles"]


def test_enrolment_is_audited_and_roles_beyond_member_are_a_grant(engine):
    with transaction(engine) as session:
        plain = enrol_member(session, OPERATOR, name="Plain")
        admin = enrol_member(session, OPERATOR, name="Boss", roles="admin")
        assert plain.roles == "member"
        entries = [(action, target) for action, target, _ in audit_of(session)]
    assert entries == [
        ("member.add", f"member:{plain.number}"),
        ("member.add", f"member:{admin.number}"),
        ("member.roles", f"member:{admin.number}"),
    ]


def test_two_admins_demoting_each_other_at_once_leave_one(engine):
    """PostgreSQL: the second demotion waits for the first, then sees it and is refused."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite queues writers at BEGIN IMMEDIATE: no two demotions overlap")
    with transaction(engine) as session:
        first = add_member(session, name="First Admin", roles="admin")
        second = add_member(session, name="Second Admin", roles="admin")
    outcome: list[BaseException | None] = []

    def demote_first() -> None:
        try:
            with transaction(engine) as session:
                set_roles(session, session.get(Member, second.id), first.id, "member")
            outcome.append(None)
        except LastAdmin as refused:
            outcome.append(refused)

    with transaction(engine) as session:
        set_roles(session, session.get(Member, first.id), second.id, "member")
        racer = threading.Thread(target=demote_first)
        racer.start()
        wait_until(lambda: waiting_on_a_lock(engine), 10, "the second demotion to wait")
    racer.join()
    assert isinstance(outcome[0], LastAdmin)
    with transaction(engine) as session:
        assert active_admin_ids(session) == {first.id}


def waiting_on_a_lock(engine) -> bool:
    with engine.connect() as connection:
        query = (
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE wait_event_type = 'Lock' AND datname = current_database()"
        )
        return connection.exec_driver_sql(query).scalar() > 0


def test_editing_details_is_audited_and_editing_nothing_records_nothing(engine):
    with transaction(engine) as session:
        ada = add_member(session, name="Ada", email="ada@example.org")
        edit_member(session, OPERATOR, ada.id, {"name": " Ada King ", "email": "", "phone": "07"})
        edit_member(session, OPERATOR, ada.id, {"name": "Ada King", "phone": "07"})
        (edited,) = session.exec(select(AuditEntry)).all()
    assert (ada.name, ada.email, ada.phone) == ("Ada King", None, "07")
    assert edited.action == "member.edit"
    assert json.loads(edited.before) == {"name": "Ada", "email": "ada@example.org", "phone": None}
    assert json.loads(edited.after) == {"name": "Ada King", "email": None, "phone": "07"}


@pytest.mark.parametrize("name", ["", "   "])
def test_a_blank_name_is_refused_by_name_and_changes_nothing(engine, name):
    with transaction(engine) as session:
        ada = add_member(session, name="Ada")
        with pytest.raises(InvalidInput) as refused:
            edit_member(session, OPERATOR, ada.id, {"name": name, "phone": "07"})
        assert refused.value.field == "name" and ada.phone is None
        assert audit_of(session) == []


def test_a_volunteer_may_not_add_a_member_nor_a_steward_grant_admin(engine):
    with transaction(engine) as session:
        volunteer = add_member(session, name="Vol", roles="volunteer")
        steward = add_member(session, name="Stew", roles="steward")
        with pytest.raises(NotSteward):
            enrol_member(session, volunteer, name="Newcomer")
        with pytest.raises(Outranked) as refused:
            enrol_member(session, steward, name="Boss", roles="admin")
        assert refused.value.field == "roles"
        assert enrol_member(session, steward, name="Helper", roles="volunteer").roles == (
            "member volunteer"
        )
        assert [entry[0] for entry in audit_of(session)] == ["member.add", "member.roles"]
        assert session.exec(select(Member).where(Member.name == "Newcomer")).first() is None
