"""Cards: assign, revoke, lost; each checks the ranks and audits itself once."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from hub.errors import Conflict, NotFound
from hub.infra.audit import AuditEntry
from hub.infra.db import transaction
from hub.members import cards
from hub.members.ranks import OPERATOR, NotSteward, Outranked
from hub.members.roster import add_member, card_by_uid, member_for_card


def entries(session) -> list[AuditEntry]:
    return list(session.exec(select(AuditEntry).order_by(AuditEntry.id)))


def test_assigning_a_card_is_audited_once_and_a_double_submit_changes_nothing(engine):
    with transaction(engine) as session:
        steward = add_member(session, name="Stew", roles="steward")
        ada = add_member(session, name="Ada")
        first = cards.assign_card(session, steward, ada.id, "de:ad:be:ef", label=" key fob ")
        again = cards.assign_card(session, steward, ada.id, "DEADBEEF")
        (entry,) = entries(session)
    assert again.id == first.id and first.label == "key fob"
    assert (entry.action, entry.target, entry.actor_member_id) == (
        "card.assign", f"member:{ada.number}", steward.id
    )  # fmt: skip
    assert entry.before is None
    assert json.loads(entry.after) == {"uid": "DEADBEEF", "label": "key fob", "revoked_at": None}


def test_a_card_another_member_holds_is_refused_by_uid(engine):
    with transaction(engine) as session:
        ada, grace = add_member(session, name="Ada"), add_member(session, name="Grace")
        cards.assign_card(session, OPERATOR, ada.id, "DEADBEEF")
        with pytest.raises(Conflict) as refused:
            cards.assign_card(session, OPERATOR, grace.id, "de-ad-be-ef")
        assert refused.value.field == "uid" and ada.number in refused.value.message
        assert len(entries(session)) == 1


def test_a_lost_card_is_revoked_with_the_reason_and_the_other_cards_still_work(engine):
    with transaction(engine) as session:
        ada = add_member(session, name="Ada")
        cards.assign_card(session, OPERATOR, ada.id, "DEADBEEF")
        cards.assign_card(session, OPERATOR, ada.id, "CAFEBABE")
        cards.report_lost(session, OPERATOR, ada.id, "DEADBEEF")
        cards.report_lost(session, OPERATOR, ada.id, "DEADBEEF")  # twice: nothing more
        assert card_by_uid(session, "DEADBEEF").revoked_at is not None
        assert member_for_card(session, "CAFEBABE").id == ada.id
        revoked = entries(session)[-1]
        assert len(entries(session)) == 3
    assert revoked.action == "card.revoke"
    assert json.loads(revoked.before) == {"uid": "DEADBEEF", "revoked_at": None}
    after = json.loads(revoked.after)
    assert after["reason"] == "lost" and after["revoked_at"] is not None


def test_revoking_someone_elses_card_is_not_found(engine):
    with transaction(engine) as session:
        ada, grace = add_member(session, name="Ada"), add_member(session, name="Grace")
        cards.assign_card(session, OPERATOR, ada.id, "DEADBEEF")
        with pytest.raises(NotFound) as refused:
            cards.revoke_card(session, OPERATOR, grace.id, "DEADBEEF")
    assert refused.value.field == "uid"


def test_a_volunteer_may_not_assign_and_a_steward_may_not_arm_a_fellow_steward(engine):
    with transaction(engine) as session:
        volunteer = add_member(session, name="Vol", roles="volunteer")
        steward = add_member(session, name="Stew", roles="steward")
        fellow = add_member(session, name="Fellow", roles="steward")
        plain = add_member(session, name="Plain")
        with pytest.raises(NotSteward):
            cards.assign_card(session, volunteer, plain.id, "DEADBEEF")
        with pytest.raises(Outranked):
            cards.assign_card(session, steward, fellow.id, "DEADBEEF")
        assert entries(session) == []
