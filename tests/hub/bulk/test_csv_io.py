import io

import pytest
from sqlmodel import select

from hub.bulk.csv_io import export_members, export_tools, import_members, import_tools, to_text
from hub.errors import InvalidInput
from hub.infra.db import transaction
from hub.members.roster import Card, Member
from tests.hub.builders import a_kiosk, a_member

GOOD_MEMBERS = """number,name,email,phone,roles,cards
2001,Ada Lovelace,ada@example.org,,steward,DE:AD:BE:EF
,Grace Hopper,,0123,member,04A224E2B35C80 CAFEBABE
2002,Alan Turing,,,volunteer,
"""


def count(session, table) -> int:
    return len(session.exec(select(table)).all())


def test_good_members_import_with_cards_and_allotted_numbers(engine):
    ticks = []
    with transaction(engine) as session:
        report = import_members(session, io.StringIO(GOOD_MEMBERS), progress=ticks.append)
    assert report.ok and report.written == 3 and sum(ticks) == 3
    with transaction(engine) as session:
        numbers = {m.name: m.number for m in session.exec(select(Member))}
        assert numbers == {"Ada Lovelace": "2001", "Grace Hopper": "2003", "Alan Turing": "2002"}
        assert sorted(c.uid for c in session.exec(select(Card))) == [
            "04A224E2B35C80",
            "CAFEBABE",
            "DEADBEEF",
        ]


def test_one_bad_row_imports_nothing_and_each_refusal_names_row_and_field(engine):
    with transaction(engine) as session:
        a_member(session, "Existing", uid="CAFEBABE")
    bad = (
        "number,name,email,phone,roles,cards\n"
        "3001,Fine Person,,,member,\n"
        "3002,,,,member,\n"  # line 3: empty name
        "3003,Dup Card,,,member,cafebabe\n"  # line 4: card already in the database
        "3001,Dup Number,,,member,\n"  # line 5: number repeated within the file
        "3004,Bad Uid,,,member,12345\n"  # line 6: malformed UID
        "3005,Bad Role,,,wizard,\n"  # line 7: unknown role
        f"3006,{'x' * 2000},,,member,\n"  # line 8: overlong field
    )
    with transaction(engine) as session:
        report = import_members(session, io.StringIO(bad))
    assert [(r.line, r.field) for r in report.refusals] == [
        (3, "name"),
        (4, "cards"),
        (5, "number"),
        (6, "cards"),
        (7, "roles"),
        (8, "name"),
    ]
    assert "CAFEBABE already belongs" in report.refusals[1].message
    assert report.written == 0
    with transaction(engine) as session:
        assert count(session, Member) == 1  # only the one that was there before


def test_dry_run_checks_but_writes_nothing(engine):
    with transaction(engine) as session:
        report = import_members(session, io.StringIO(GOOD_MEMBERS), dry_run=True)
    assert report.ok and report.rows == 3 and report.written == 0
    with transaction(engine) as session:
        assert count(session, Member) == 0


@pytest.mark.parametrize(
    "header, message",
    [
        ("number,name,colour\n", r"unknown column\(s\) colour"),
        ("number,email\n", r"missing column\(s\) name"),
        ("", "empty"),
    ],
)
def test_wrong_columns_are_refused_before_any_row(engine, header, message):
    with pytest.raises(InvalidInput, match=message):
        with transaction(engine) as session:
            import_members(session, io.StringIO(header and header + "1,Ada,x\n"))


def test_row_with_extra_cells_is_refused(engine):
    with transaction(engine) as session:
        report = import_members(session, io.StringIO("name,email\nAda,a@x,surplus\n"))
    assert [(r.line, r.field) for r in report.refusals] == [(2, "row")]


def test_tools_import_checks_lockers_kiosks_and_trainings(engine):
    with transaction(engine) as session:
        a_kiosk(session, slots=2)
    rows = (
        "code,name,category,kiosk,slot,training,loan_days\n"
        "drill-1,Drill,Power Tools,shed-1,1,,\n"
        "SAW-1,Saw,power tools,shed-1,1,,\n"  # locker taken by the row above
        "SAW-2,Saw,power tools,shed-9,1,,\n"  # unknown kiosk
        "SAW-3,Saw,power tools,shed-1,7,,\n"  # no such locker
        "SAW-4,Saw,power tools,,,router,\n"  # unknown training
        "SAW-5,Saw,power tools,,,,400\n"  # loan days out of range
        "DRILL-1,Drill again,power tools,,,,\n"  # duplicate code (case-insensitive)
    )
    with transaction(engine) as session:
        report = import_tools(session, io.StringIO(rows))
    assert [(r.line, r.field) for r in report.refusals] == [
        (3, "slot"),
        (4, "kiosk"),
        (5, "slot"),
        (6, "training"),
        (7, "loan_days"),
        (8, "code"),
    ]
    good = (
        "code,name,category,kiosk,slot\n"
        "drill-1,Drill,Power Tools,shed-1,1\n"
        "TENT-1,Tent,outdoors,,\n"
    )
    with transaction(engine) as session:
        assert import_tools(session, io.StringIO(good)).written == 2


def test_export_reads_back_through_import(engine, sqlite_engine):
    with transaction(engine) as session:
        import_members(session, io.StringIO(GOOD_MEMBERS))
        a_kiosk(session, slots=2)
        import_tools(
            session, io.StringIO("code,name,category,kiosk,slot\nD-1,Drill,power,shed-1,2\n")
        )
        members_csv, tools_csv = to_text(export_members, session), to_text(export_tools, session)
    assert "2001,Ada Lovelace,ada@example.org,,member steward,DEADBEEF" in members_csv
    with transaction(sqlite_engine) as session:
        a_kiosk(session, slots=2)
        assert import_members(session, io.StringIO(members_csv)).written == 3
        assert import_tools(session, io.StringIO(tools_csv)).written == 1
        assert to_text(export_members, session) == members_csv
        assert to_text(export_tools, session) == tools_csv
