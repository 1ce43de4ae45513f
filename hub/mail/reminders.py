"""The reminder jobs: find what members should be told, queue it once; send what is queued.

Both run in the hub's housekeeping pass (``hub.worker.jobs``), each in its own transaction.
``queue_reminders`` looks at loans, bookings, repair claims and booking pauses, and queues a
mail for each thing worth saying under a key naming it, so looking again queues nothing twice:

- due tomorrow   an open loan due within the next day (a renewal, a new due date: a new mail)
- overdue        an open loan past due: at once, then once a week
- booking        a booking starting within the next day
- claim          a repair claim approved or declined in the last week
- paused         booking rights paused in the last week, while the pause lasts

``send_queued_mail`` hands the due mail to SMTP, recording each attempt.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from hub.bookings.models import DEFAULT_TIMEZONE, Booking, BookingPause, BookingStatus, Resource
from hub.infra import settings
from hub.infra.clock import as_utc, utcnow
from hub.infra.settings import SmtpSettings
from hub.inventory.registry import Tool
from hub.loans.records import Loan
from hub.mail import smtp
from hub.mail.choices import MailKind
from hub.mail.outbox import OutboxMail, due_mail, mail_by_key, mark_failed, mark_sent, queue_mail
from hub.maintenance.models import RepairLog
from hub.members.roster import Member
from hub.timebank.claims import ClaimStatus, CreditClaim

log = logging.getLogger("commonshed.mail")
AHEAD = timedelta(days=1)
OVERDUE_EVERY = timedelta(days=7)
NEWS_KEPT = timedelta(days=7)  # a decision or a pause older than this is not news any more


# --- what to say ---------------------------------------------------------------------------


def queue_reminders(session: Session, *, now: datetime | None = None) -> int:
    """Queue every reminder now due (each at most once); return how many were queued."""
    now = as_utc(now or utcnow())
    finders = (_loan_reminders, _booking_reminders, _claim_news, _pause_news)
    return sum(sum(finder(session, now)) for finder in finders)


def _tell(
    session: Session,
    member: Member,
    kind: MailKind,
    subject: str,
    text: str,
    *,
    key: str,
    now: datetime,
) -> bool:
    """Queue a mail under ``key`` unless one is queued already; return whether it is new."""
    if mail_by_key(session, key) is not None:
        return False
    return queue_mail(session, member, kind, subject, text, key=key, now=now) is not None


def _loan_reminders(session: Session, now: datetime) -> list[bool]:
    rows = session.exec(
        select(Loan, Tool, Member)
        .join(Tool, col(Tool.id) == Loan.tool_id)
        .join(Member, col(Member.id) == Loan.member_id)
        .where(col(Loan.returned_at).is_(None))
    )
    queued = []
    for loan, tool, member in rows:
        due = as_utc(loan.due_at)
        if now < due <= now + AHEAD:
            queued.append(_due_tomorrow(session, loan, tool, member, now))
        elif due <= now:
            queued.append(_overdue(session, loan, tool, member, now))
    return queued


def _due_tomorrow(session: Session, loan: Loan, tool: Tool, member: Member, now: datetime) -> bool:
    due = as_utc(loan.due_at)
    text = (
        f"Hello {member.name},\n\n"
        f"The {tool.name} ({tool.code}) you borrowed is due back {site_time(due)}.\n"
        "Bring it back to any kiosk, or renew it on your page if you need it longer: "
        f"{settings.public_url()}/me/"
    )
    key = f"due_tomorrow:loan:{loan.id}:{due:%Y%m%d%H%M}"
    subject = f"{tool.name} is due back tomorrow"
    return _tell(session, member, MailKind.DUE_TOMORROW, subject, text, key=key, now=now)


def _overdue(session: Session, loan: Loan, tool: Tool, member: Member, now: datetime) -> bool:
    due = as_utc(loan.due_at)
    week = (now - due) // OVERDUE_EVERY
    days = (now - due).days
    late = "today" if days == 0 else f"{days} day{'s' if days != 1 else ''} ago"
    text = (
        f"Hello {member.name},\n\n"
        f"The {tool.name} ({tool.code}) you borrowed was due back {site_time(due)} ({late}).\n"
        "Others may be waiting for it: please bring it back to any kiosk soon.\n"
        f"Your loans: {settings.public_url()}/me/"
    )
    key = f"overdue:loan:{loan.id}:{due:%Y%m%d%H%M}:week:{week}"
    subject = f"{tool.name} is overdue"
    return _tell(session, member, MailKind.OVERDUE, subject, text, key=key, now=now)


def _booking_reminders(session: Session, now: datetime) -> list[bool]:
    rows = session.exec(
        select(Booking, Resource, Member)
        .join(Resource, col(Resource.id) == Booking.resource_id)
        .join(Member, col(Member.id) == Booking.member_id)
        .where(
            Booking.status == BookingStatus.BOOKED,
            col(Booking.starts_at) > now,
            col(Booking.starts_at) <= now + AHEAD,
        )
    )
    queued = []
    for booking, resource, member in rows:
        starts = as_utc(booking.starts_at)
        text = (
            f"Hello {member.name},\n\n"
            f"You have the {resource.name} booked {site_time(starts)} to "
            f"{site_time(as_utc(booking.ends_at), '%H:%M')}.\n"
            "Tap your card at the tablet by the door when you arrive; if you cannot come, "
            "cancel it so someone else can use the slot."
        )
        key = f"booking_tomorrow:booking:{booking.id}:{starts:%Y%m%d%H%M}"
        subject = f"Your {resource.name} booking tomorrow"
        queued.append(
            _tell(session, member, MailKind.BOOKING_TOMORROW, subject, text, key=key, now=now)
        )
    return queued


def _claim_news(session: Session, now: datetime) -> list[bool]:
    rows = session.exec(
        select(CreditClaim, RepairLog, Tool, Member)
        .join(RepairLog, col(RepairLog.id) == CreditClaim.repair_id)
        .join(Tool, col(Tool.id) == RepairLog.tool_id)
        .join(Member, col(Member.id) == CreditClaim.member_id)
        .where(
            col(CreditClaim.status).in_([ClaimStatus.APPROVED, ClaimStatus.DECLINED]),
            col(CreditClaim.decided_at) >= now - NEWS_KEPT,
        )
    )
    queued = []
    for claim, _repair, tool, member in rows:
        if claim.status == ClaimStatus.APPROVED:
            said = f"was approved: {claim.approved_hours} hours are in your timebank account."
        else:
            said = f"was declined: {claim.decision_reason or 'no reason was given'}."
        text = (
            f"Hello {member.name},\n\n"
            f"Your claim of {claim.hours} hours for repairing the {tool.name} ({tool.code}) "
            f"{said}\nYour hours: {settings.public_url()}/me/hours"
        )
        subject = f"Your repair claim was {claim.status}"
        key = f"claim:{claim.id}:{claim.status}"
        queued.append(
            _tell(session, member, MailKind.CLAIM_DECIDED, subject, text, key=key, now=now)
        )
    return queued


def _pause_news(session: Session, now: datetime) -> list[bool]:
    rows = session.exec(
        select(BookingPause, Member)
        .join(Member, col(Member.id) == BookingPause.member_id)
        .where(col(BookingPause.starts_at) >= now - NEWS_KEPT, col(BookingPause.ends_at) > now)
    )
    queued = []
    for pause, member in rows:
        text = (
            f"Hello {member.name},\n\n"
            f"You cannot book machines until {site_time(as_utc(pause.ends_at))}: "
            f"{pause.reason}\nBookings you already have still stand. Ask a steward if this "
            "seems wrong."
        )
        key = f"booking_paused:pause:{pause.id}"
        subject = "Your booking rights are paused"
        queued.append(
            _tell(session, member, MailKind.BOOKING_PAUSED, subject, text, key=key, now=now)
        )
    return queued


def site_time(moment: datetime, pattern: str = "%A %d %B at %H:%M") -> str:
    """Return ``moment`` on the site's wall clock, e.g. "Tuesday 01 December at 18:00"."""
    return f"{moment.astimezone(ZoneInfo(DEFAULT_TIMEZONE)):{pattern}}"


# --- sending -------------------------------------------------------------------------------


def send_queued_mail(
    session: Session,
    *,
    now: datetime | None = None,
    config: SmtpSettings | None = None,
    limit: int = 20,
) -> int:
    """Send the queued mail now due over one SMTP session; return how many were sent.

    A server that cannot be reached counts a failed attempt against each mail (each then
    waits longer before its next); a refused recipient fails that mail alone. Without SMTP
    settings nothing is tried and the mail waits.
    """
    now = as_utc(now or utcnow())
    config = config or settings.smtp_settings()
    due = due_mail(session, now=now, limit=limit)
    if config is None or not due:
        return 0
    # NOTE: the SMTP exchange happens inside the job's transaction, so "sent" is written only
    # if the hand-over succeeded; a crash between the two sends a mail twice, never loses one.
    # The batch is small and the timeout short, so SQLite's write lock is not held for long.
    done: set[int] = set()  # mails this pass has marked sent or failed
    try:
        with smtp.connected(config) as client:
            for mail in due:
                _send_one(session, client, mail, config, now)
                done.add(mail.id or 0)
    except (OSError, smtplib.SMTPException) as error:
        for mail in due:
            if mail.id not in done:
                mark_failed(session, mail, f"{type(error).__name__}: {error}", now=now)
        log.warning("mail: could not reach %s:%s (%s)", config.host, config.port, error)
    return sum(1 for mail in due if mail.sent_at is not None)


def _send_one(
    session: Session, client: smtplib.SMTP, mail: OutboxMail, config: SmtpSettings, now: datetime
) -> None:
    """Send one mail on an open session; a refusal of this mail alone is recorded on it."""
    try:
        client.send_message(smtp.build_message(mail, config.sender))
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError) as refused:
        mark_failed(session, mail, f"{type(refused).__name__}: {refused}", now=now)
        return
    mark_sent(session, mail, now=now)
