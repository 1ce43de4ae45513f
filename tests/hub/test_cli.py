"""The CLI end to end on a real data dir: exit codes, messages, and what lands in the database."""

import pytest
from click.testing import CliRunner

from commonshed.cli import main


@pytest.fixture
def run(tmp_path):
    """Return a function that runs `commonshed hub ...` against a fresh data dir."""
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(main, ["hub", "--data-dir", str(tmp_path / "data"), *args])

    assert invoke("init").exit_code == 0
    return invoke


def test_administer_members_cards_tools_without_a_browser(run):
    assert run("member", "add", "--name", "Ada Lovelace", "--roles", "steward").exit_code == 0
    assert run("card", "assign", "1001", "de:ad:be:ef").output == (
        "Card DEADBEEF assigned to member 1001.\n"
    )
    assert (
        run(
            "kiosk", "register", "shed-1", "--site", "north", "--name", "Shed", "--lockers", "2"
        ).exit_code
        == 0
    )
    assert (
        run(
            "tool",
            "add",
            "drill-1",
            "--name",
            "Drill",
            "--category",
            "power",
            "--kiosk",
            "shed-1",
            "--slot",
            "2",
        ).exit_code
        == 0
    )
    assert "DRILL-1      Drill" in run("tool", "list").output
    assert run("member", "suspend", "1001", "--reason", "lost card").exit_code == 0
    listing = run("member", "list").output
    assert "suspended" in listing and "DEADBEEF" in listing
    assert run("card", "revoke", "DEADBEEF").exit_code == 0
    assert "DEADBEEF" not in run("member", "list").output


def test_refusals_exit_non_zero_with_the_reason(run):
    result = run("card", "assign", "1001", "DEADBEEF")
    assert result.exit_code == 1
    assert "Member number 1001 does not exist. [number]" in result.output
    run("member", "add", "--name", "Ada")
    result = run("card", "assign", "1001", "XYZ")
    assert result.exit_code == 1 and "[uid]" in result.output


def test_import_refusal_writes_nothing_and_exits_1(run, tmp_path):
    csv = tmp_path / "members.csv"
    csv.write_text("name,cards\nAda,DEADBEEF\n,CAFEBABE\n")
    result = run("import", "members", str(csv))
    assert result.exit_code == 1
    assert "line 3, name: name is required." in result.output
    assert "nothing was imported" in result.output
    assert "Ada" not in run("member", "list").output


def test_import_dry_run_then_real(run, tmp_path):
    csv = tmp_path / "members.csv"
    csv.write_text("name,cards\nAda,DEADBEEF\nGrace,CAFEBABE\n")
    assert (
        "2 members would be imported (dry run)."
        in run("import", "members", "--dry-run", str(csv)).output
    )
    assert run("member", "list").output == ""
    assert "2 members imported." in run("import", "members", str(csv)).output
    exported = run("export", "members").output
    assert "1001,Ada,,,member,DEADBEEF" in exported


def test_commands_refuse_an_unmigrated_database(tmp_path):
    result = CliRunner().invoke(main, ["hub", "--data-dir", str(tmp_path / "d"), "tool", "list"])
    assert result.exit_code == 1 and "run `commonshed hub migrate` first" in result.output


def test_demo_data_seeds_once(run):
    first = run("demo-data")
    assert first.exit_code == 0 and "C0DE0000" in first.output
    assert "leaving it as it is" in run("demo-data").output
    assert "out_of_service" in run("tool", "list", "--status", "out_of_service").output


def test_demo_data_adds_the_sites_asked_for_once(run):
    assert run("demo-data").exit_code == 0
    second = run("demo-data", "--sites", "2")
    assert second.exit_code == 0 and "Demo kiosk south-1 added" in second.output
    assert "leaving it as it is" in run("demo-data", "--sites", "2").output
    assert "DRILL-SOUTH" in run("tool", "list").output
    refused = run("demo-data", "--sites", "5")
    assert refused.exit_code == 2 and "--sites" in refused.output


def test_reset_a_pin_and_revoke_a_tablet_from_the_command_line(run, tmp_path):
    from hub.bookings import set_pin
    from hub.bookings.pins import has_pin
    from hub.bookings.tablets import enrol_tablet
    from hub.infra import audit
    from hub.infra.db import make_engine, reading, transaction

    assert run("member", "add", "--name", "Sam Steward", "--roles", "steward").exit_code == 0
    engine = make_engine(f"sqlite:///{tmp_path / 'data' / 'commonshed.db'}")
    try:
        with transaction(engine) as session:
            set_pin(session, 1, "2468")
            enrol_tablet(session, "Makerspace door", by_member_id=1)
        assert run("member", "reset-pin", "1001").exit_code == 0
        assert "Makerspace door" in run("tablet", "list").output
        assert run("tablet", "revoke", "1").output == "Tablet 1 is revoked.\n"
        assert "revoked" in run("tablet", "list").output
        with reading(engine) as session:
            assert not has_pin(session, 1)
            actions = [entry.action for entry in audit.recent(session)]
        assert {"pin.reset", "tablet.revoke"} <= set(actions)
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    "kiosk_id, site, says",
    [
        (
            "hub",
            "north",
            "Kiosk id 'hub' is reserved: it is the hub's own MQTT username. [kiosk_id]",
        ),
        ("shed-1", "hub", "Site id 'hub' is reserved: the hub's own topics live under it. [site]"),
        ("Shed 1", "north", "must be 1-32 lowercase letters, digits or '-'"),
    ],
)
def test_kiosk_register_refuses_the_names_the_wire_refuses(run, kiosk_id, site, says):
    result = run("kiosk", "register", kiosk_id, "--site", site, "--name", "Shed", "--lockers", "2")
    assert result.exit_code == 1
    assert says in result.output
    assert run("kiosk", "list").output == ""  # nothing half-written
