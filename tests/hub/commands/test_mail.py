"""``commonshed hub mail send``: the reminders due now reach a real SMTP server from the shell."""

from __future__ import annotations

from datetime import timedelta

from click.testing import CliRunner

from commonshed.cli import main
from hub.infra import settings
from hub.infra.clock import utcnow
from hub.infra.db import make_engine, transaction
from hub.loans.lending import lend_tool
from hub.mail.sink import Inbox
from hub.members.roster import add_member
from tests.hub.builders import a_kiosk, a_tool
from tests.hub.mail.conftest import free_port, smtp_server


def test_mail_send_queues_and_sends_what_is_due(tmp_path, monkeypatch):
    runner = CliRunner()
    data = tmp_path / "data"

    def invoke(*args: str):
        return runner.invoke(main, ["hub", "--data-dir", str(data), *args])

    assert invoke("init").exit_code == 0
    engine = make_engine(settings.database_url(data.resolve()))
    with transaction(engine) as session:
        a_kiosk(session)
        ada = add_member(session, name="Ada Lovelace", email="ada@example.org")
        lend_tool(
            session, tool_id=a_tool(session).id, member_id=ada.id, now=utcnow() - timedelta(days=9)
        )
    engine.dispose()
    port = free_port()
    monkeypatch.setenv(settings.SMTP_HOST_ENV, "127.0.0.1")
    monkeypatch.setenv(settings.SMTP_PORT_ENV, str(port))
    monkeypatch.setenv(settings.SMTP_TLS_ENV, "none")
    with smtp_server(port, Inbox()) as inbox:
        sent = invoke("mail", "send")
        again = invoke("mail", "send")
    assert sent.exit_code == 0 and "Queued 1 reminder(s); sent 1 mail(s)." in sent.output
    assert "Queued 0 reminder(s); sent 0 mail(s)." in again.output
    assert [m["Subject"] for m in inbox.messages] == ["Cordless drill is overdue"]
