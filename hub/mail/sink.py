"""A local SMTP server that files every mail it receives under a folder (the demo's inbox).

``commonshed up`` runs it so the demo's reminders can be read in ``data/mail/`` as ``.eml``
files; tests use ``Inbox`` to read what a real SMTP conversation delivered.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any


@dataclass
class Inbox:
    """What an SMTP server received: each message as parsed, and filed in ``folder`` if set."""

    folder: Path | None = None
    messages: list[EmailMessage] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _numbers: itertools.count[int] = field(default_factory=itertools.count, repr=False)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        """Keep the message (aiosmtpd's handler hook); answer 250 so the sender is done."""
        raw: bytes = envelope.original_content or envelope.content
        parsed = message_from_bytes(raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        with self._lock:
            self.messages.append(parsed)
            number = next(self._numbers)
        if self.folder is not None:
            self.folder.mkdir(parents=True, exist_ok=True)
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
            (self.folder / f"{stamp}-{number:04d}.eml").write_bytes(raw)
        return "250 Message accepted for delivery"


def serve(folder: Path, *, host: str = "127.0.0.1", port: int = 8025) -> None:
    """File mail sent to ``host:port`` under ``folder`` until the process is stopped."""
    from aiosmtpd.controller import Controller  # the sink's own need; the hub sends with smtplib

    controller = Controller(Inbox(folder), hostname=host, port=port)
    controller.start()
    try:
        threading.Event().wait()
    finally:
        controller.stop()
