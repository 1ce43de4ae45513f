"""Live formulas in exports: every CSV the hub writes defuses cells a spreadsheet would run.

Each export is driven through its real door (the ``commonshed hub export`` command, the
steward's statement download) with member-written text that starts like a formula.
"""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from hub.bulk import csv_io
from hub.cli import hub as hub_command
from hub.infra.db import reading, transaction
from hub.inventory.registry import add_tool
from hub.members.roster import add_member
from hub.timebank.ledger import credit_from_pool, exchange_hours
from tests.dashboard.conftest import sign_in_by_session

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")
EVIL = '=HYPERLINK("http://x","y")'
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def evil(engine):
    """A member, a tool and a transfer whose text starts like formulas; return the member."""
    with transaction(engine) as session:
        member = add_member(session, name=EVIL, email="@SUM(1+1)@x.org", phone="+44 20 7946 0000")
        other = add_member(session, name="-2+3")
        add_tool(session, code="EVIL-1", name=EVIL, category="@cmd|' /C calc'!A0")
        credit_from_pool(session, key="open", member_id=member.id, hours="5", description="Open")
        exchange_hours(
            session,
            key="evil",
            payer_id=member.id,
            payee_id=other.id,
            hours="1.5",
            description="-cmd|' /C calc'!A0",
            category="+bikes",
        )
        return member.id, member.number


def assert_no_live_formula(text: str) -> list[list[str]]:
    """Refuse any cell a spreadsheet would run; plain numbers such as -1.50 stay numbers."""
    rows = list(csv.reader(io.StringIO(text)))
    for row in rows:
        for cell in row:
            assert not cell.startswith(FORMULA_STARTS) or PLAIN_NUMBER.fullmatch(cell), cell
    return rows


@pytest.mark.parametrize("kind", ["members", "tools"])
def test_hub_export_writes_no_live_formula(evil, database_url, kind):
    result = CliRunner().invoke(hub_command, ["--database-url", database_url, "export", kind])
    assert result.exit_code == 0, result.output
    rows = assert_no_live_formula(result.stdout)
    assert any(f"'{EVIL}" in row for row in rows)


def test_the_statement_download_writes_no_live_formula_and_keeps_hours_numbers(steward, evil):
    member_id, _ = evil
    sign_in_by_session(steward)
    answer = steward.get(f"/steward/ledger/members/{member_id}/statement.csv")
    assert answer.status_code == 200
    rows = assert_no_live_formula(answer.get_data(as_text=True))
    paid = next(row for row in rows if row[3].endswith("calc'!A0"))
    assert paid[3] == "'-cmd|' /C calc'!A0" and paid[4] == "'+bikes"
    assert Decimal(paid[6]) == Decimal("-1.50")  # a number, not text


def test_our_own_exports_read_back_as_written(evil, engine):
    with reading(engine) as session:
        members = csv_io.to_text(csv_io.export_members, session)
        tools = csv_io.to_text(csv_io.export_tools, session)
    people = [row for _, row in csv_io.read_rows(io.StringIO(members), csv_io.MEMBER_COLUMNS, ())]
    assert {"name": EVIL, "phone": "+44 20 7946 0000", "email": "@SUM(1+1)@x.org"}.items() <= next(
        row for row in people if row["name"] == EVIL
    ).items()
    assert any(row["name"] == "-2+3" for row in people)
    things = [row for _, row in csv_io.read_rows(io.StringIO(tools), csv_io.TOOL_COLUMNS, ())]
    evil_tool = next(row for row in things if row["code"] == "EVIL-1")
    assert (evil_tool["name"], evil_tool["category"]) == (EVIL, "@cmd|' /c calc'!a0")  # lowered


@given(st.text())
def test_escaping_round_trips_any_text(text):
    from hub.infra.csv_cells import escape_cell, unescape_cell  # here: the module runs on main

    escaped = escape_cell(text)
    assert unescape_cell(escaped) == text
    assert not escaped.startswith(FORMULA_STARTS) or PLAIN_NUMBER.fullmatch(escaped)


def test_every_csv_writer_is_the_one_safe_writer():
    writers = [
        path.relative_to(ROOT).as_posix()
        for folder in ("hub", "dashboard", "kiosk", "broker", "commonshed")
        for path in (ROOT / folder).rglob("*.py")
        if re.search(r"csv\.(writer|DictWriter)\(", path.read_text())
    ]
    assert writers == ["hub/infra/csv_cells.py"]
