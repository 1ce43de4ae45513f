"""Members as stewards read them: finding them, trainings held, names for ids."""

from __future__ import annotations

from hub.infra.db import reading, transaction
from hub.members.roster import add_training, grant_training
from hub.queries.members import (
    find_members,
    list_trainings,
    member_numbers,
    trainings_of,
)
from tests.hub.builders import a_member


def test_find_members_by_name_or_number_all_or_the_first_few(engine):
    """The API and CLI listed every match (roster.list_members), the steward page the first
    hundred (find_members); one function now, with the page asking for its limit."""
    with transaction(engine) as session:
        ids = [
            a_member(session, name).id for name in ("Ada Lovelace", "Grace Hopper", "Ada Yonath")
        ]
    with reading(engine) as session:
        assert [m.id for m in find_members(session)] == ids
        assert [m.name for m in find_members(session, " ada ")] == ["Ada Lovelace", "Ada Yonath"]
        assert [m.number for m in find_members(session, "1002")] == ["1002"]
        assert [m.id for m in find_members(session, limit=2)] == ids[:2]
        assert member_numbers(session, {ids[0], None}) == {ids[0]: "1001 Ada Lovelace"}
        assert member_numbers(session, {None}) == {}


def test_trainings_held_serve_the_api_and_the_member_page(engine):
    """The API read (code, name, granted, expires) rows, the page (MemberTraining, Training)
    pairs; the named rows serve both (the API dumps them, the page reads them by name)."""
    with transaction(engine) as session:
        member = a_member(session)
        add_training(session, code="router", name="Router induction", valid_days=30)
        add_training(session, code="ladder", name="Ladder safety")
        grant_training(session, member.id, "router")
        grant_training(session, member.id, "ladder")
    with reading(engine) as session:
        held = trainings_of(session, member.id)
        assert [t.code for t in list_trainings(session)] == ["ladder", "router"]
    assert [(t.code, t.name) for t in held] == [
        ("ladder", "Ladder safety"),
        ("router", "Router induction"),
    ]
    assert held[0].expires_at is None and held[1].expires_at is not None
    assert set(held[0]._asdict()) == {"code", "name", "granted_at", "expires_at"}
