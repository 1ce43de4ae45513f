"""A member's standing: suspension, reinstatement, roles, enrolment; each audited once."""

from __future__ import annotations

import json

from sqlmodel import select

from hub.infra.audit import AuditEntry
from hub.infra.db import transaction
from hub.members import sessions
from hub.members.ranks import OPERATOR
from hub.members.roster import add_member
from hub.members.standing import enrol_member, reinstate_member, set_roles, suspend_member


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


def test_enrolment_with_roles_is_a_grant(engine):
    with transaction(engine) as session:
        plain = enrol_member(session, OPERATOR, name="Plain")
        admin = enrol_member(session, OPERATOR, name="Boss", roles="admin")
        assert plain.roles == "member"
        assert audit_of(session) == [
            ("member.roles", f"member:{admin.number}", '{"roles": "member admin"}')
        ]
