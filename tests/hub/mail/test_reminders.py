"""Reminders that arrive: found once, sent through a real SMTP server, retried after it was down."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from hub.bookings import pause_booking_rights
from hub.bookings.models import Booking
from hub.bookings.resources import add_resource
from hub.bulk.demo import ALL_DAY
from hub.infra.clock import utcnow
from hub.infra.db import reading, transaction
from hub.loans.lending import lend_tool
from hub.mail.choices import choose_kinds
from hub.mail.outbox import MailStatus, OutboxMail
from hub.mail.reminders import queue_reminders, send_queued_mail
from hub.mail.sink import Inbox
from hub.members.roster import add_member, get_member
from hub.timebank.claims import log_repair
from hub.timebank.stewarding import decline_claim
from tests.fixtures.waiting import wait_until
from tests.hub.builders import a_kiosk, a_member, a_tool
from tests.hub.mail.conftest import smtp_server

NOW = utcnow().replace(microsecond=0)


@pytest.fixture
def borrower(engine):
    """Ada, with an email, borrowed a drill (7-day loans) 6.5 days ago: it is due tomorrow."""
    with transaction(engine) as session:
        a_kiosk(session)
        ada = add_member(session, name="Ada Lovelace", email="ada@example.org")
        tool = a_tool(session)
        lend_tool(session, tool_id=tool.id, member_id=ada.id, now=NOW - timedelta(days=6, hours=12))
        return engine, ada.id


def run_pass(engine, config, *, now=NOW):
    """Run the two housekeeping jobs as the worker does; return (queued, sent)."""
    with transaction(engine) as session:
        queued = queue_reminders(session, now=now)
    with transaction(engine) as session:
        sent = send_queued_mail(session, now=now, config=config)
    return queued, sent


def outbox(engine) -> list[OutboxMail]:
    with reading(engine) as session:
        return list(session.exec(select(OutboxMail).order_by(OutboxMail.id)))


def test_a_due_tomorrow_reminder_arrives_once_as_plain_text_saying_how_to_stop(
    borrower, inbox, smtp_config
):
    engine, _ada = borrower
    assert run_pass(engine, smtp_config) == (1, 1)
    assert run_pass(engine, smtp_config, now=NOW + timedelta(hours=1)) == (0, 0)
    [message] = inbox.messages
    assert message["To"] == "ada@example.org"
    assert message["Subject"] == "Cordless drill is due back tomorrow"
    body = message.get_body(preferencelist=("plain",))
    assert body is not None and body.get_content_type() == "text/plain"
    text = body.get_content()
    assert "DRILL-1" in text and "To stop these emails" in text
    assert "/me/reminders" in message["List-Unsubscribe"]
    [mail] = outbox(engine)
    assert mail.status == MailStatus.SENT and mail.attempts == 1 and mail.sent_at is not None
    assert len(list(inbox.folder.glob("*.eml"))) == 1  # the sink files what it receives


def test_a_mail_waits_while_the_server_is_down_and_arrives_when_it_is_back(
    borrower, smtp_port, smtp_config, tmp_path
):
    engine, _ada = borrower
    assert run_pass(engine, smtp_config) == (1, 0)  # nothing listens on the port yet
    [mail] = outbox(engine)
    assert mail.status == MailStatus.QUEUED and mail.attempts == 1
    assert "Connection" in (mail.last_error or "")
    assert mail.next_attempt_at is not None and mail.next_attempt_at > NOW
    with smtp_server(smtp_port, Inbox(tmp_path / "mail")) as inbox:
        assert run_pass(engine, smtp_config, now=NOW + timedelta(seconds=30)) == (0, 0)  # backs off
        assert run_pass(engine, smtp_config, now=NOW + timedelta(minutes=2)) == (0, 1)
        wait_until(lambda: inbox.messages, 10, "the retried mail at the server")
    [mail] = outbox(engine)
    assert mail.status == MailStatus.SENT and mail.attempts == 2
    assert [m["Subject"] for m in inbox.messages] == ["Cordless drill is due back tomorrow"]


def test_overdue_is_said_at_once_then_weekly(borrower, inbox, smtp_config):
    engine, _ada = borrower
    run_pass(engine, smtp_config)  # due tomorrow
    late = NOW + timedelta(days=2)
    assert run_pass(engine, smtp_config, now=late) == (1, 1)
    assert run_pass(engine, smtp_config, now=late + timedelta(days=3)) == (0, 0)
    assert run_pass(engine, smtp_config, now=late + timedelta(days=7)) == (1, 1)
    subjects = [m["Subject"] for m in inbox.messages]
    assert subjects == [
        "Cordless drill is due back tomorrow",
        "Cordless drill is overdue",
        "Cordless drill is overdue",
    ]


def test_reminders_respect_the_members_choices(borrower, inbox, smtp_config):
    engine, ada = borrower
    with transaction(engine) as session:
        choose_kinds(session, get_member(session, ada), ["overdue"])
    assert run_pass(engine, smtp_config) == (0, 0)  # "due tomorrow" turned off
    with transaction(engine) as session:
        choose_kinds(session, get_member(session, ada), [])  # all off
    assert run_pass(engine, smtp_config, now=NOW + timedelta(days=2)) == (0, 0)
    assert inbox.messages == []


def test_bookings_tomorrow_claim_decisions_and_pauses_are_told(borrower, inbox, smtp_config):
    engine, ada = borrower
    with transaction(engine) as session:
        choose_kinds(
            session,
            get_member(session, ada),
            ["booking_tomorrow", "claim_decided", "booking_paused"],
        )
        steward = a_member(session, "Sam Steward", roles="steward")
        laser = add_resource(session, code="LASER", name="Laser cutter", opening_hours=ALL_DAY)
        starts = NOW + timedelta(hours=20)
        session.add(
            Booking(
                resource_id=laser.id,
                member_id=ada,
                starts_at=starts,
                ends_at=starts + timedelta(hours=1),
            )
        )
        claim = log_repair(
            session,
            member_id=ada,
            tool_id=1,
            hours="1.5",
            note="Chuck",
            source="dashboard",
            now=NOW,
        )
        decline_claim(session, steward, claim.id, "Not our drill", now=NOW)
        pause_booking_rights(
            session, ada, until=NOW + timedelta(days=14), reason="Three no-shows", now=NOW
        )
    assert run_pass(engine, smtp_config) == (3, 3)
    subjects = sorted(m["Subject"] for m in inbox.messages)
    assert subjects == [
        "Your Laser cutter booking tomorrow",
        "Your booking rights are paused",
        "Your repair claim was declined",
    ]
    declined = next(m for m in inbox.messages if "declined" in m["Subject"])
    assert "Not our drill" in declined.get_body(preferencelist=("plain",)).get_content()
