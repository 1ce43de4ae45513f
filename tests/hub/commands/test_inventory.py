"""`commonshed hub kiosk|locker|tool ...`: the inventory's doors from the shell, as the operator,
on SQLite and PostgreSQL, each leaving its audit entry."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlmodel import select

from broker.dynsec import PasswordHash, find_client, read_config
from broker.provision import broker_paths
from commonshed.cli import main
from hub.infra.audit import AuditEntry
from hub.infra.db import reading, transaction
from hub.inventory.registry import get_kiosk, lockers_of, tool_by_code
from hub.loans.lending import lend_tool
from tests.hub.builders import a_member


@pytest.fixture
def run(engine, database_url, tmp_path):
    """Return a function that runs `commonshed hub ...` on the test's database."""
    runner = CliRunner()

    def invoke(*args: str):
        hub = ["hub", "--data-dir", str(tmp_path / "data"), "--database-url", database_url]
        return runner.invoke(main, [*hub, *args])

    return invoke


def actions(engine) -> list[tuple[str, str, int | None]]:
    with reading(engine) as session:
        rows = session.exec(select(AuditEntry).order_by(AuditEntry.id))
        return [(e.action, e.target, e.actor_member_id) for e in rows]


def test_set_up_a_kiosk_its_lockers_and_a_tool_audited_as_the_operator(run, engine):
    said = run("kiosk", "add", "shed-3", "--site", "south", "--name", "Garden", "--lockers", "2")
    assert said.output == "Kiosk shed-3 registered at south with 2 lockers.\n"
    assert run("kiosk", "rename", "shed-3", "Garden shed").exit_code == 0
    assert run("locker", "add", "shed-3", "3-4", "6").output == (
        "Lockers 3, 4, 6 added to shed-3.\n"
    )
    assert run("locker", "remove", "shed-3", "6").exit_code == 0
    added = run(
        "tool", "add", "rake-1", "--name", "Rake", "--category", "Garden", "--kiosk", "shed-3",
        "--slot", "1", "--notes", "Tines bent",
    )  # fmt: skip
    assert added.output == "Tool RAKE-1 Rake added.\n", added.output
    assert run("tool", "edit", "RAKE-1", "--loan-days", "3", "--notes", "").exit_code == 0
    assert run("tool", "move", "RAKE-1", "shed-3", "4").exit_code == 0
    assert run("tool", "rename-category", "garden", "outdoors").exit_code == 0
    assert run("tool", "retire", "RAKE-1", "--reason", "snapped").exit_code == 0
    with reading(engine) as session:
        assert get_kiosk(session, "shed-3").name == "Garden shed"
        assert [locker.slot for locker in lockers_of(session, "shed-3")] == [1, 2, 3, 4]
        rake = tool_by_code(session, "RAKE-1")
        assert (rake.loan_days, rake.notes, rake.category, rake.status) == (
            3, None, "outdoors", "retired"
        )  # fmt: skip
    logged = actions(engine)
    assert {actor for _, _, actor in logged} == {None}  # the operator
    assert [action for action, _, _ in logged] == [
        "kiosk.register", "locker.add", "locker.add", "kiosk.rename", "locker.add", "locker.add",
        "locker.add", "locker.remove", "tool.add", "tool.edit", "tool.move", "category.rename",
        "tool.retire",
    ]  # fmt: skip


def test_provision_prints_the_login_once_and_revoke_removes_it(run, engine, tmp_path):
    run("kiosk", "register", "shed-3", "--site", "south", "--name", "Garden")
    said = run("kiosk", "provision", "shed-3", "--host", "hub.local", "--port", "8883")
    assert said.exit_code == 0, said.output
    settings = json.loads(said.output)
    assert settings["mqtt"] | {"password": "?"} == {
        "host": "hub.local", "port": 8883, "username": "shed-3", "password": "?",
        "client_id": "shed-3",
    }  # fmt: skip
    assert settings["topics"]["events"] == "commonshed/v1/south/kiosk/shed-3/events"
    dynsec = broker_paths(tmp_path / "data").dynsec
    client = find_client(read_config(dynsec), "shed-3")
    assert PasswordHash.from_client(client).matches(settings["mqtt"]["password"])
    assert run("kiosk", "revoke", "shed-3").exit_code == 0
    assert find_client(read_config(dynsec), "shed-3") is None
    assert [a for a, _, _ in actions(engine)] == [
        "kiosk.register",
        "kiosk.provision",
        "kiosk.revoke",
    ]


def test_refusals_name_the_field_and_exit_1(run, engine):
    run("kiosk", "register", "shed-3", "--site", "south", "--name", "Garden", "--lockers", "2")
    run("tool", "add", "RAKE-1", "--name", "Rake", "--category", "garden", "--kiosk", "shed-3",
        "--slot", "1")  # fmt: skip
    run("tool", "add", "HOE-1", "--name", "Hoe", "--category", "garden", "--kiosk", "shed-3",
        "--slot", "2")  # fmt: skip
    duplicate = run("tool", "add", "rake-1", "--name", "Rake", "--category", "garden")
    assert duplicate.exit_code == 1 and "Tool RAKE-1 already exists. [code]" in duplicate.output
    occupied = run("tool", "move", "RAKE-1", "shed-3", "2")
    assert occupied.exit_code == 1
    assert "Locker 2 at shed-3 already holds tool HOE-1. [slot]" in occupied.output
    with transaction(engine) as session:
        borrower = a_member(session, "Bo Rower")
        lend_tool(session, tool_id=tool_by_code(session, "HOE-1").id, member_id=borrower.id)
    on_loan = run("tool", "retire", "HOE-1", "--reason", "old")
    assert on_loan.exit_code == 1 and "on loan" in on_loan.output and "[tool_id]" in on_loan.output
    assert run("locker", "add", "shed-3", "2-3").exit_code == 1
    assert run("locker", "add", "shed-3", "x").exit_code == 1
    assert run("tool", "edit", "RAKE-1").exit_code == 2  # nothing to change: a usage error
    assert [a for a, _, _ in actions(engine)][-1] == "tool.add"  # nothing more was written
