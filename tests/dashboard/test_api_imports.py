"""The imports API on SQLite and PostgreSQL: a dry run lists every refused row; an import is
written whole and audited once, or refused whole with each row named."""

from __future__ import annotations

import json

from sqlmodel import select

from hub.infra import audit
from hub.infra.db import reading
from hub.inventory.registry import Tool
from hub.members.roster import Member
from tests.dashboard import api_fixtures as fixtures

api_world, bearer = fixtures.api_world, fixtures.bearer
MEMBERS = (
    "number,name,email,phone,roles,cards\n6001,Ada Byron,,,member,\n6002,Mary Somerville,,,,\n"
)
BAD = MEMBERS + "6003,,,,member,\n6004,Emmy Noether,,,wizard,\n"


def imports_audited(engine) -> list[audit.AuditEntry]:
    with reading(engine) as session:
        return [e for e in audit.recent(session, limit=500) if e.action.startswith("import.")]


def members_numbered(engine, *numbers: str) -> list[str]:
    with reading(engine) as session:
        return sorted(session.exec(select(Member.number).where(Member.number.in_(numbers))))


def test_a_dry_run_lists_each_refused_row_and_writes_nothing(client, engine, bearer, api_world):
    answer = client.post("/api/v1/imports/members?dry_run=true", json={"csv": BAD}, headers=bearer)
    assert answer.status_code == 200, answer.get_json()
    said = answer.get_json()
    assert (said["rows"], said["written"], said["dry_run"]) == (4, 0, True)
    assert [(r["line"], r["field"]) for r in said["refusals"]] == [(4, "name"), (5, "roles")]
    assert members_numbered(engine, "6001", "6002") == [] and imports_audited(engine) == []


def test_an_import_with_a_bad_row_is_422_naming_each_row_and_writes_nothing(
    client, engine, bearer, api_world
):
    answer = client.post("/api/v1/imports/members", json={"csv": BAD}, headers=bearer)
    assert answer.status_code == 422
    said = answer.get_json()
    assert said["field"] == "csv.4.name"
    assert [e["field"] for e in said["errors"]] == ["csv.4.name", "csv.5.roles"]
    assert members_numbered(engine, "6001", "6002") == [] and imports_audited(engine) == []


def test_a_good_import_is_written_once_and_audited(client, engine, bearer, api_world):
    answer = client.post("/api/v1/imports/members", json={"csv": MEMBERS}, headers=bearer)
    assert answer.status_code == 200 and answer.get_json()["written"] == 2
    assert members_numbered(engine, "6001", "6002") == ["6001", "6002"]
    (entry,) = imports_audited(engine)
    assert (entry.action, entry.actor_member_id) == ("import.members", api_world.steward_id)
    assert json.loads(entry.after)["rows"] == 2
    again = client.post("/api/v1/imports/members", json={"csv": MEMBERS}, headers=bearer)
    assert again.status_code == 409 and again.get_json()["field"] == "csv"
    tools = "code,name,category\nPLANE-9,Block plane,hand\n"
    assert client.post("/api/v1/imports/tools", json={"csv": tools}, headers=bearer).status_code
    with reading(engine) as session:
        assert session.exec(select(Tool).where(Tool.code == "PLANE-9")).one()


def test_wrong_columns_and_a_missing_body_are_refused(client, bearer, api_world):
    wrong = client.post("/api/v1/imports/tools", json={"csv": "a,b\n1,2\n"}, headers=bearer)
    assert wrong.status_code == 422 and wrong.get_json()["field"] == "header"
    empty = client.post("/api/v1/imports/tools", json={}, headers=bearer)
    assert empty.status_code == 422 and empty.get_json()["field"] == "csv"
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"/api/v1/imports/members", "/api/v1/imports/tools"} <= paths.keys()
