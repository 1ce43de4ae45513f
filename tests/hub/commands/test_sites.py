"""`commonshed hub sites ...`: the sites' doors from the shell, as the operator, on SQLite and
PostgreSQL, each leaving its audit entry; the bridge's password shown once."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlmodel import select

from broker.dynsec import PasswordHash, find_client, read_config
from broker.provision import broker_paths
from commonshed.cli import main
from hub.infra.audit import AuditEntry
from hub.infra.db import reading, transaction
from hub.inventory.sites import get_site, members_allowed
from tests.hub.builders import a_kiosk, a_member


@pytest.fixture
def run(engine, database_url, tmp_path):
    """Return a function that runs `commonshed hub ...` on the test's database."""
    runner = CliRunner()

    def invoke(*args: str):
        hub = ["hub", "--data-dir", str(tmp_path / "data"), "--database-url", database_url]
        return runner.invoke(main, [*hub, *args])

    return invoke


def site_actions(engine) -> list[tuple[str, str, int | None]]:
    with reading(engine) as session:
        rows = session.exec(select(AuditEntry).order_by(AuditEntry.id))
        return [(e.action, e.target, e.actor_member_id) for e in rows if e.action[:5] == "site."]


def test_add_a_site_list_who_may_borrow_and_change_it_audited_as_the_operator(run, engine):
    with transaction(engine) as session:
        a_kiosk(session, "north-1", site="north")
        a_member(session, uid="DEADBEEF")
        a_member(session, "Bob Marley", uid="B0B0B0B0")
    said = run("sites", "add", "east", "--name", "East shed", "--policy", "listed")
    assert said.output == "Site east (East shed) added, policy listed.\n"
    assert run("sites", "allow", "east", "1001", "1002").exit_code == 0
    assert run("sites", "disallow", "east", "1002").exit_code == 0
    assert run("sites", "rename", "east", "East barn").exit_code == 0
    said = run("sites", "policy", "north", "listed")
    assert said.output.startswith("At site north its listed members and stewards may borrow")
    listing = run("sites", "list").output.splitlines()
    assert listing[0].startswith("east  East barn  policy listed  link never seen")
    assert listing[0].endswith("listed 1  cards 1")  # Ada
    assert listing[1].endswith("kiosks north-1  listed 0  cards 0")
    with reading(engine) as session:
        assert [m.number for m in members_allowed(session, "east")] == ["1001"]
    assert [a for a, _target, _who in site_actions(engine)] == [
        "site.add", "site.allow", "site.allow", "site.disallow", "site.rename", "site.policy"
    ]  # fmt: skip
    assert {who for _a, _target, who in site_actions(engine)} == {None}  # the operator


def test_a_refusal_names_the_field_and_changes_nothing(run, engine):
    assert run("sites", "add", "east", "--name", "East").exit_code == 0
    said = run("sites", "allow", "east", "9999")
    assert said.exit_code == 1 and "Member number 9999 does not exist. [number]" in said.output
    said = run("sites", "revoke", "east")
    assert said.exit_code == 1 and "no bridge login to revoke. [site_id]" in said.output
    assert run("sites", "policy", "east", "some").exit_code == 2  # click refuses the choice
    assert [a for a, _t, _w in site_actions(engine)] == ["site.add"]


def test_provision_prints_the_password_once_and_the_site_box_commands_then_revoke(
    run, engine, tmp_path
):
    assert run("sites", "add", "east", "--name", "East").exit_code == 0
    said = run("sites", "provision", "east", "--central-host", "hub.example.org")
    assert said.exit_code == 0, said.output
    lines = said.output.splitlines()
    password = lines[1]
    client = find_client(read_config(broker_paths(tmp_path / "data").dynsec), "site-east")
    assert PasswordHash.from_client(client).matches(password)
    assert "join-network east --central-host hub.example.org" in said.output
    assert said.output.count(password) == 1
    assert run("sites", "revoke", "east", "--reason", "box stolen").exit_code == 0
    assert find_client(read_config(broker_paths(tmp_path / "data").dynsec), "site-east") is None
    with reading(engine) as session:
        assert get_site(session, "east").bridge_revoked_at is not None
    assert [a for a, _t, _w in site_actions(engine)] == [
        "site.add", "site.provision", "site.revoke"
    ]  # fmt: skip
