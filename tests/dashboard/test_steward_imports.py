"""The imports page on SQLite and PostgreSQL: a file is checked row by row (writing nothing),
then imported whole; a bad row shows its line and field and nothing is written."""

from __future__ import annotations

import html
import io
import json
import re

import pytest
from sqlmodel import select

from hub.infra import audit
from hub.infra.db import reading
from hub.inventory.registry import Tool
from hub.members.roster import Member
from tests.dashboard.conftest import csrf_token

MEMBERS = (
    "number,name,email,phone,roles,cards\n"
    "5001,Ada Byron,ada@example.org,,member,\n"
    ",Mary Somerville,,,,\n"
)
BAD_MEMBERS = MEMBERS + "5003,,x@example.org,,member,\n"
TOOLS = "code,name,category,kiosk,slot,training,loan_days\nSAW-9,Hand saw,hand,,,,7\n"


@pytest.fixture
def upload(steward):
    token = csrf_token(steward, "/steward/imports")

    def send(kind: str, text: str, name: str = "file.csv"):
        data = {"csrf_token": token, "file": (io.BytesIO(text.encode()), name)}
        return steward.post(
            f"/steward/imports/{kind}/check", data=data, content_type="multipart/form-data"
        )

    def confirm(kind: str, page: str):
        text = re.search(r'<textarea name="csv" hidden readonly>\n(.*?)</textarea>', page, re.S)
        return steward.post(
            f"/steward/imports/{kind}",
            data={"csrf_token": token, "csv": html.unescape(text.group(1))},
        )

    send.confirm = confirm
    return send


def members_named(engine, *names: str) -> list[str]:
    with reading(engine) as session:
        rows = session.exec(select(Member.name).where(Member.name.in_(names)))
        return sorted(rows)


def imports_audited(engine) -> list[audit.AuditEntry]:
    with reading(engine) as session:
        return [e for e in audit.recent(session, limit=500) if e.action.startswith("import.")]


def test_the_page_names_the_columns_of_each_kind(steward):
    page = steward.get("/steward/imports").get_data(as_text=True)
    assert "<code>name</code> (required)" in page and "<code>loan_days</code>" in page
    assert page.count('type="file"') == 2


def test_a_file_with_one_bad_row_shows_the_row_and_field_and_writes_nothing(upload, engine):
    checked = upload("members", BAD_MEMBERS)
    page = checked.get_data(as_text=True)
    assert checked.status_code == 422
    assert "1 of 3 rows refused: nothing will be imported." in page
    assert re.search(r'<td class="num">4</td><td><code>name</code></td><td>[^<]*name', page)
    assert "<textarea" not in page  # no way to import it as it is
    assert members_named(engine, "Ada Byron", "Mary Somerville") == []
    assert imports_audited(engine) == []


def test_a_good_file_is_checked_then_imported_and_audited_once(upload, engine):
    checked = upload("members", MEMBERS)
    page = checked.get_data(as_text=True)
    assert checked.status_code == 200 and "All 2 rows can be imported." in page
    assert 'data-confirm="Import 2 members?' in page
    assert members_named(engine, "Ada Byron", "Mary Somerville") == []  # a dry run
    done = upload.confirm("members", page)
    assert done.status_code == 302
    assert members_named(engine, "Ada Byron", "Mary Somerville") == ["Ada Byron", "Mary Somerville"]
    (entry,) = imports_audited(engine)
    assert json.loads(entry.after)["written"] == 2 and entry.actor_member_id is not None
    again = upload.confirm("members", page)  # a double submit
    assert again.status_code == 409 and "imported already" in again.get_data(as_text=True)
    assert len(imports_audited(engine)) == 1


def test_tools_import_and_a_file_with_wrong_columns(upload, engine):
    page = upload("tools", TOOLS).get_data(as_text=True)
    assert upload.confirm("tools", page).status_code == 302
    with reading(engine) as session:
        assert session.exec(select(Tool).where(Tool.code == "SAW-9")).one().name == "Hand saw"
    wrong = upload("tools", "colour,size\nred,3\n")
    assert wrong.status_code == 422 and "<code>header</code>" in wrong.get_data(as_text=True)


def test_a_file_not_in_utf8_is_refused_naming_the_file(steward, engine):
    token = csrf_token(steward, "/steward/imports")
    data = {"csrf_token": token, "file": (io.BytesIO("name\nJos\xe9\n".encode("latin-1")), "m.csv")}
    answer = steward.post(
        "/steward/imports/members/check", data=data, content_type="multipart/form-data"
    )
    assert answer.status_code == 422 and "<code>file</code>" in answer.get_data(as_text=True)
    assert "not UTF-8" in answer.get_data(as_text=True)
