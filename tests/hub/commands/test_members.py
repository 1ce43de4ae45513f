"""``commonshed hub member edit``, ``card assign|revoke|lost``, ``training grant|revoke``: each
goes through the audited service, as the operator, on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlmodel import select

from commonshed.cli import main
from hub.infra.audit import AuditEntry
from hub.infra.db import reading
from hub.members.roster import card_by_uid, member_by_number
from hub.queries.members import trainings_of


@pytest.fixture
def database_content() -> str:
    return "demo"


@pytest.fixture
def run(database_url, tmp_path):
    """Return a function that runs ``commonshed hub ...`` on the test's database."""
    runner = CliRunner()

    def invoke(*args: str):
        hub = ["hub", "--data-dir", str(tmp_path), "--database-url", database_url]
        return runner.invoke(main, [*hub, *args])

    return invoke


def audit_of(engine) -> list[tuple[str, str, int | None, dict]]:
    with reading(engine) as session:
        rows = session.exec(select(AuditEntry).order_by(AuditEntry.id))
        return [(e.action, e.target, e.actor_member_id, json.loads(e.after)) for e in rows]


def test_member_edit_is_audited_as_the_operator(run, engine):
    result = run("member", "edit", "1010", "--name", "Jo Bloggs", "--email", "")
    assert result.exit_code == 0, result.output
    assert result.output == "Member 1010: Jo Bloggs, no email, no phone.\n"
    assert audit_of(engine) == [
        ("member.edit", "member:1010", None, {"name": "Jo Bloggs", "email": None, "phone": None})
    ]
    refused = run("member", "edit", "1010", "--name", " ")
    assert refused.exit_code == 1 and "[name]" in refused.output
    assert run("member", "edit", "1010").exit_code == 2  # nothing to change: a usage error
    unknown = run("member", "edit", "99999", "--name", "x")
    assert unknown.exit_code == 1 and "[number]" in unknown.output


def test_cards_assign_lost_and_revoke_are_audited(run, engine):
    assert run("card", "assign", "1010", "de:ad:be:ef", "--label", "fob").exit_code == 0
    taken = run("card", "assign", "1010", "C0DE0001")
    assert taken.exit_code == 1 and "[uid]" in taken.output
    assert run("card", "assign", "1010", "CAFEBABE").exit_code == 0
    lost = run("card", "lost", "deadbeef")
    assert lost.output == "Card DEADBEEF of member 1010 revoked as lost.\n"
    assert run("card", "revoke", "CAFEBABE", "--reason", "handed back").exit_code == 0
    with reading(engine) as session:
        assert card_by_uid(session, "C0DE0009").revoked_at is None  # 1010's demo card
    actions = [(a, target, after.get("reason")) for a, target, _, after in audit_of(engine)]
    assert actions == [
        ("card.assign", "member:1010", None),
        ("card.assign", "member:1010", None),
        ("card.revoke", "member:1010", "lost"),
        ("card.revoke", "member:1010", "handed back"),
    ]


def test_training_grant_with_expiry_and_revoke_are_audited(run, engine):
    granted = run("training", "grant", "1010", "laser", "--expires-on", "2030-06-30")
    assert (
        granted.exit_code == 0 and granted.output == "Member 1010 holds laser until 2030-06-30.\n"
    )
    past = run("training", "grant", "1010", "laser", "--expires-on", "2001-01-01")
    assert past.exit_code == 1 and "[expires_on]" in past.output
    assert run("training", "revoke", "1010", "laser").exit_code == 0
    again = run("training", "revoke", "1010", "laser")
    assert again.exit_code == 1 and "[training]" in again.output
    with reading(engine) as session:
        member = member_by_number(session, "1010")
        assert "laser" not in {t.code for t in trainings_of(session, member.id)}
    assert [a for a, *_ in audit_of(engine)] == ["training.grant", "training.revoke"]


def test_member_list_finds_by_card(run):
    listing = run("member", "list", "--search", "C0:DE:00:09").output
    assert listing.split()[0] == "1010" and len(listing.splitlines()) == 1
