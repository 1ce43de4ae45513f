"""Hand mail to an SMTP server: messages built with ``email.message``, sent with ``smtplib``."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from hub.infra import settings
from hub.infra.settings import SmtpSettings
from hub.mail.outbox import OutboxMail


def build_message(mail: OutboxMail, sender: str) -> EmailMessage:
    """Return ``mail`` as a plain-text message, with a List-Unsubscribe to the member's page."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.to_address
    message["Subject"] = mail.subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = make_msgid(idstring=f"commonshed.{mail.id}")
    message["List-Unsubscribe"] = f"<{settings.public_url()}/me/reminders>"
    message["Auto-Submitted"] = "auto-generated"  # an autoresponder should not answer it
    message.set_content(mail.text)  # text/plain; utf-8
    return message


@contextmanager
def connected(config: SmtpSettings) -> Iterator[smtplib.SMTP]:
    """Open an SMTP session as ``config`` says (TLS, login), and close it after use."""
    context = ssl.create_default_context()
    client: smtplib.SMTP
    if config.tls == "ssl":
        client = smtplib.SMTP_SSL(config.host, config.port, timeout=config.timeout, context=context)
    else:
        client = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
    try:
        if config.tls == "starttls":
            client.starttls(context=context)
        if config.user:
            client.login(config.user, config.password or "")
        yield client
    finally:
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()
