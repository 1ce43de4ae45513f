import io
import json

import pytest
from click.testing import CliRunner
from sqlmodel import select

from commonshed.cli import main
from hub.bulk.csv_io import (
    export_members,
    export_tools,
    import_csv,
    import_members,
    import_tools,
    to_text,
)
from hub.errors import Conflict, InvalidInput
from hub.infra import audit
from hub.infra.db import reading, transaction
from hub.members.ranks import OPERATOR, NotSteward
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


# --- the steward's door: import_csv (page, API and CLI) ----------------------------------


def imports_audited(engine) -> list:
    with reading(engine) as session:
        return [e for e in audit.recent(session) if e.action.startswith("import.")]


def test_import_csv_is_audited_once_with_counts_and_a_file_is_imported_once(engine):
    with transaction(engine) as session:
        steward = a_member(session, "Sam Steward", roles="admin")
    with transaction(engine) as session:
        report = import_csv(session, session.get(Member, steward.id), "members", GOOD_MEMBERS)
    assert report.written == 3
    (entry,) = imports_audited(engine)
    after = json.loads(entry.after)
    assert (entry.action, entry.actor_member_id) == ("import.members", steward.id)
    assert (after["rows"], after["written"], after["kind"]) == (3, 3, "members")
    assert entry.target == f"import:{after['sha256'][:16]}"
    with reading(engine) as session:  # the grants are audited too, one per member with a role
        grants = [e for e in audit.recent(session) if e.action == "member.roles"]
    assert len(grants) == 2
    with pytest.raises(Conflict, match="imported already") as again:
        with transaction(engine) as session:
            import_csv(session, OPERATOR, "members", GOOD_MEMBERS)
    assert again.value.field == "csv"
    with reading(engine) as session:
        assert count(session, Member) == 4 and len(imports_audited(engine)) == 1


def test_import_csv_dry_run_and_refused_rows_write_and_audit_nothing(engine):
    bad = GOOD_MEMBERS + "2004,,,,member,\n"
    with transaction(engine) as session:
        report = import_csv(session, OPERATOR, "members", GOOD_MEMBERS, dry_run=True)
        refused = import_csv(session, OPERATOR, "members", bad)
    assert report.ok and report.rows == 3 and report.written == 0
    assert [(r.line, r.field) for r in refused.refusals] == [(5, "name")]
    assert refused.written == 0
    with reading(engine) as session:
        assert count(session, Member) == 0
    assert imports_audited(engine) == []


def test_a_volunteer_may_not_import(engine):
    with transaction(engine) as session:
        volunteer = a_member(session, "Val Volunteer", roles="volunteer")
    with pytest.raises(NotSteward, match="may not import tools"):
        with transaction(engine) as session:
            import_csv(session, session.get(Member, volunteer.id), "tools", "code,name,category\n")


def test_the_cli_import_goes_through_the_same_door(tmp_path, database_url, engine):
    file = tmp_path / "members.csv"
    file.write_text("\ufeff" + GOOD_MEMBERS, encoding="utf-8")
    runner = CliRunner()
    base = ["hub", "--data-dir", str(tmp_path / "data"), "--database-url", database_url]
    checked = runner.invoke(main, [*base, "import", "members", str(file), "--dry-run"])
    assert checked.exit_code == 0 and "3 members would be imported (dry run)." in checked.output
    assert imports_audited(engine) == []
    done = runner.invoke(main, [*base, "import", "members", str(file)])
    assert done.exit_code == 0 and "3 members imported." in done.output
    (entry,) = imports_audited(engine)
    assert entry.actor_member_id is None  # the operator
    again = runner.invoke(main, [*base, "import", "members", str(file)])
    assert again.exit_code == 1 and "imported already" in again.output


def test_a_file_the_csv_module_cannot_read_is_refused_naming_csv(engine):
    giant = "code,name,category\nX-1," + "a" * 200_000 + ",hand\n"
    with pytest.raises(InvalidInput, match="cannot be read as CSV") as refusal:
        with transaction(engine) as session:
            import_csv(session, OPERATOR, "tools", giant)
    assert refusal.value.field == "csv"
