"""`commonshed hub letters ...` on a real data dir: list what waits, apply, set aside."""

from click.testing import CliRunner

from commonshed.cli import main
from hub.infra import settings
from hub.infra.db import make_engine, transaction
from hub.worker.inbox import record_dead_letter


def test_list_apply_and_set_aside_dead_letters(tmp_path):
    data = tmp_path / "data"

    def run(*args: str):
        return CliRunner().invoke(main, ["hub", "--data-dir", str(data), *args])

    assert run("init").exit_code == 0
    shed = ("kiosk", "register", "shed-1", "--site", "north", "--name", "Shed", "--lockers", "2")
    assert run(*shed).exit_code == 0
    engine = make_engine(settings.database_url(data))
    try:
        with transaction(engine) as session:
            topic = "commonshed/v1/north/kiosk/shed-1/events"
            record_dead_letter(session, topic=topic, payload=b"{", reason="not JSON")
    finally:
        engine.dispose()
    assert "No dead letters wait." not in (listed := run("letters", "list")).output
    assert listed.output.startswith("1\t") and "waiting\tnot JSON" in listed.output
    refused = run("letters", "apply", "1")
    assert refused.exit_code == 1 and "cannot read" in refused.output
    aside = run("letters", "set-aside", "1", "--note", "a kiosk's test message")
    assert aside.exit_code == 0 and "settled: set aside: a kiosk's test message" in aside.output
    assert run("letters", "list").output == "No dead letters wait.\n"
    assert "settled" in run("letters", "list", "--all").output
