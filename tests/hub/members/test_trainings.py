"""Trainings: grant with an expiry date, renew, revoke; each audited once."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from hub.errors import InvalidInput, NotFound, TrainingRequired
from hub.infra.audit import AuditEntry
from hub.infra.db import transaction
from hub.members import trainings
from hub.members.ranks import OPERATOR, NotSteward
from hub.members.roster import add_member, add_training, require_training, training_held_by

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def entries(session) -> list[AuditEntry]:
    return list(session.exec(select(AuditEntry).order_by(AuditEntry.id)))


def test_grant_with_an_expiry_date_holds_to_the_end_of_that_day(engine):
    with transaction(engine) as session:
        steward = add_member(session, name="Stew", roles="steward")
        ada = add_member(session, name="Ada")
        laser = add_training(session, code="laser", name="Laser", valid_days=365)
        held = trainings.grant_training(
            session, steward, ada.id, "Laser", expires_on=date(2027, 1, 31), now=NOW
        )
        require_training(session, ada, laser.id, now=datetime(2027, 1, 31, 23, 0, tzinfo=UTC))
        with pytest.raises(TrainingRequired):
            require_training(session, ada, laser.id, now=datetime(2027, 2, 1, tzinfo=UTC))
        (entry,) = entries(session)
    assert held.granted_by == steward.id
    assert (entry.action, entry.target, entry.before) == ("training.grant", "member:1002", None)
    assert json.loads(entry.after)["training"] == "laser"
    assert json.loads(entry.after)["expires_at"].startswith("2027-01-31 23:59:59")


def test_without_a_date_the_trainings_own_length_counts_and_a_renewal_is_audited(engine):
    with transaction(engine) as session:
        ada = add_member(session, name="Ada")
        add_training(session, code="laser", name="Laser", valid_days=30)
        first = trainings.grant_training(session, OPERATOR, ada.id, "laser", now=NOW)
        assert first.expires_at == NOW + timedelta(days=30)
        trainings.grant_training(session, OPERATOR, ada.id, "laser", expires_on=date(2028, 1, 1))
        renewal = entries(session)[-1]
    assert json.loads(renewal.before)["expires_at"].startswith("2026-12-30")
    assert json.loads(renewal.after)["expires_at"].startswith("2028-01-01")


# NOTE: each example rolls its transaction back, so the shared database starts each one empty.
@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(days=st.integers(min_value=-3000, max_value=0))
def test_an_expiry_date_not_after_today_is_refused_by_expires_on(sqlite_engine, days):
    with transaction(sqlite_engine) as session:
        ada = add_member(session, name="Ada")
        add_training(session, code="laser", name="Laser")
        with pytest.raises(InvalidInput) as refused:
            trainings.grant_training(
                session, OPERATOR, ada.id, "laser",
                expires_on=NOW.date() + timedelta(days=days), now=NOW,
            )  # fmt: skip
        assert refused.value.field == "expires_on"
        assert entries(session) == []
        session.rollback()


def test_revoke_deletes_the_holding_and_audits_what_it_was(engine):
    with transaction(engine) as session:
        ada = add_member(session, name="Ada")
        laser = add_training(session, code="laser", name="Laser")
        trainings.grant_training(session, OPERATOR, ada.id, "laser", expires_on=date(2030, 5, 1))
        trainings.revoke_training(session, OPERATOR, ada.id, "laser")
        assert training_held_by(session, ada, laser) is None
        with pytest.raises(NotFound) as refused:
            trainings.revoke_training(session, OPERATOR, ada.id, "laser")
        revoked = entries(session)[-1]
    assert refused.value.field == "training"
    assert revoked.action == "training.revoke"
    assert json.loads(revoked.before)["expires_at"].startswith("2030-05-01")
    assert json.loads(revoked.after)["revoked"] is True


def test_a_volunteer_may_not_grant(engine):
    with transaction(engine) as session:
        volunteer = add_member(session, name="Vol", roles="volunteer")
        add_training(session, code="laser", name="Laser")
        with pytest.raises(NotSteward):
            trainings.grant_training(session, volunteer, volunteer.id, "laser")
