"""A real SMTP server (aiosmtpd) in-process on a free port, and what it received."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from aiosmtpd.controller import Controller

from hub.infra.settings import SmtpSettings
from hub.mail.sink import Inbox


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def smtp_server(port: int, inbox: Inbox) -> Iterator[Inbox]:
    """Run an SMTP server on ``port`` that keeps what it receives in ``inbox``."""
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def smtp_config(smtp_port) -> SmtpSettings:
    """Settings for the test's SMTP server: plain, no login, a short timeout."""
    return SmtpSettings(host="127.0.0.1", port=smtp_port, tls="none", timeout=10.0)


@pytest.fixture
def inbox(smtp_port, tmp_path) -> Iterator[Inbox]:
    """A running SMTP server filing mail under tmp_path/mail; yield its inbox."""
    with smtp_server(smtp_port, Inbox(tmp_path / "mail")) as received:
        yield received
