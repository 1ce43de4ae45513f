"""The audit log's one way in for services: ``audited`` records before and after images."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from hub.infra import audit
from hub.infra.db import reading, transaction
from hub.members.ranks import OPERATOR
from hub.members.roster import Member
from tests.hub.builders import a_member

RENAME = audit.Action("member.rename", ("name",))


def entries(engine) -> list[audit.AuditEntry]:
    with reading(engine) as session:
        return list(session.exec(select(audit.AuditEntry).order_by(audit.AuditEntry.id)))


def test_a_change_keeps_its_fields_before_and_after_and_its_notes(engine):
    with transaction(engine) as session:
        steward = a_member(session, "Sam", roles="steward")
        ada = a_member(session, "Ada")
        with audit.audited(session, steward, RENAME, ada, f"member:{ada.number}") as notes:
            ada.name = "Ada King"
            notes["reason"] = "married"
    (entry,) = entries(engine)
    assert (entry.action, entry.target, entry.actor_member_id) == (
        "member.rename",
        "member:1002",
        steward.id,
    )
    assert json.loads(entry.before) == {"name": "Ada"}
    assert json.loads(entry.after) == {"name": "Ada King", "reason": "married"}


def test_a_created_row_has_no_before_image_and_the_operator_no_actor(engine):
    with transaction(engine) as session:
        added = Member(number="2001", name="Bea")
        with audit.audited(session, OPERATOR, RENAME, added, "member:2001"):
            session.add(added)
    (entry,) = entries(engine)
    assert entry.before is None and entry.actor_member_id is None
    assert json.loads(entry.after) == {"name": "Bea"}


def test_an_entry_falls_with_its_change(engine):
    with pytest.raises(RuntimeError), transaction(engine) as session:
        ada = a_member(session, "Ada")
        with audit.audited(session, OPERATOR, RENAME, ada, "member:x"):
            ada.name = "Ada King"
            raise RuntimeError("the change failed")
    assert entries(engine) == []
