"""The outbox: queued once per key, only what the member chose, with how to stop it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlmodel import select

from hub.errors import InvalidInput
from hub.infra.clock import utcnow
from hub.infra.db import reading, transaction
from hub.mail.choices import MailKind, choose_kinds, kinds_wanted
from hub.mail.outbox import OutboxMail, mark_failed, queue_mail, retry_wait
from hub.members.roster import add_member, get_member

NOW = utcnow()


@pytest.fixture
def member(engine):
    with transaction(engine) as session:
        return engine, add_member(session, name="Ada Lovelace", email="ada@example.org").id


def queued(engine) -> int:
    with reading(engine) as session:
        return session.exec(select(func.count()).select_from(OutboxMail)).one()


def test_a_queued_mail_says_how_to_stop_it_and_is_queued_once_per_key(member):
    engine, member_id = member
    with transaction(engine) as session:
        ada = get_member(session, member_id)
        first = queue_mail(session, ada, MailKind.OVERDUE, "Drill overdue", "Bring it.", key="k:1")
        again = queue_mail(session, ada, MailKind.OVERDUE, "Drill overdue", "Bring it.", key="k:1")
        assert first is not None and again is not None and first.id == again.id
        assert "To stop these emails" in first.text and "/me/reminders" in first.text
        assert first.to_address == "ada@example.org"
    assert queued(engine) == 1


def test_nothing_is_queued_for_a_kind_turned_off_or_without_an_address(member):
    engine, member_id = member
    with transaction(engine) as session:
        ada = get_member(session, member_id)
        choose_kinds(session, ada, ["due_tomorrow"])
        assert kinds_wanted(session, member_id) == {MailKind.DUE_TOMORROW}
        assert queue_mail(session, ada, MailKind.OVERDUE, "s", "t", key="k:2") is None
        choose_kinds(session, ada, [])  # all off
        assert queue_mail(session, ada, MailKind.DUE_TOMORROW, "s", "t", key="k:3") is None
        silent = add_member(session, name="No Mail")
        assert queue_mail(session, silent, MailKind.OVERDUE, "s", "t", key="k:4") is None
    assert queued(engine) == 0


def test_an_unknown_kind_is_refused_naming_the_field(member):
    engine, member_id = member
    with transaction(engine) as session, pytest.raises(InvalidInput) as refused:
        choose_kinds(session, get_member(session, member_id), ["spam"])
    assert refused.value.field == "kinds"


def test_failed_attempts_back_off_and_then_give_up(member):
    engine, member_id = member
    with transaction(engine) as session:
        mail = queue_mail(session, get_member(session, member_id), "overdue", "s", "t", key="k")
        mark_failed(session, mail, "ConnectionRefusedError", now=NOW)
        assert mail.next_attempt_at == NOW + timedelta(minutes=1)
        mark_failed(session, mail, "ConnectionRefusedError", now=NOW)
        assert mail.next_attempt_at == NOW + timedelta(minutes=2)
        for _ in range(20):
            mark_failed(session, mail, "still down", now=NOW)
        assert mail.status == "gave_up" and mail.next_attempt_at is None
    assert retry_wait(30) == timedelta(hours=6)
