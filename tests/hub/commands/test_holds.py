"""`commonshed hub hold ...` and `commonshed hub policy ...` on a real data dir."""

import pytest
from click.testing import CliRunner

from commonshed.cli import main


@pytest.fixture
def run(tmp_path):
    """Return a function that runs `commonshed hub ...` against a fresh data dir with a shed,
    a drill and three members (1001-1003)."""
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(main, ["hub", "--data-dir", str(tmp_path / "data"), *args])

    assert invoke("init").exit_code == 0
    for name in ("Ada", "Bea", "Cy"):
        assert invoke("member", "add", "--name", name).exit_code == 0
    shed = ("kiosk", "register", "shed-1", "--site", "north", "--name", "Shed", "--lockers", "2")
    assert invoke(*shed).exit_code == 0
    drill = ("tool", "add", "drill-1", "--name", "Drill", "--category", "power", "--kiosk")
    assert invoke(*drill, "shed-1", "--slot", "1").exit_code == 0
    return invoke


def test_place_list_move_and_cancel_holds(run):
    placed = run("hold", "place", "1001", "drill-1")
    assert placed.exit_code == 0, placed.output
    assert "DRILL-1" in placed.output and "ready kept until" in placed.output
    assert run("hold", "place", "1002", "DRILL-1").exit_code == 0
    assert run("hold", "place", "1003", "DRILL-1").exit_code == 0
    moved = run("hold", "move", "3", "1")
    assert moved.exit_code == 0, moved.output
    lines = run("hold", "list", "--tool", "DRILL-1").output.splitlines()
    assert [line.split()[0] for line in lines] == ["1", "3", "2"]
    assert "waiting" in run("hold", "list", "--member", "1002").output
    assert "cancelled" in run("hold", "cancel", "1").output
    assert "ready" in run("hold", "list", "--member", "1003").output  # next in line now


def test_bad_holds_exit_non_zero_naming_the_field(run):
    refused = run("hold", "place", "1001", "NOPE-1")
    assert refused.exit_code == 1 and "Tool NOPE-1 does not exist. [tool_code]" in refused.output
    run("hold", "place", "1001", "DRILL-1")
    again = run("hold", "place", "1001", "DRILL-1")
    assert again.exit_code == 1 and "already holds a place" in again.output
    assert run("hold", "list").output.count("DRILL-1") == 1


def test_policy_show_and_set(run):
    assert run("policy", "set", "--max-loans", "2", "--hold-hours", "12").exit_code == 0
    assert run("policy", "set", "--category", "power", "--loan-days", "3").exit_code == 0
    shown = run("policy", "show").output
    assert "max_loans            2" in shown and "hold_hours           12" in shown
    assert "category power: 3 days" in shown
    assert run("policy", "set", "--max-loans", "none").exit_code == 0
    assert "max_loans            none" in run("policy", "show").output
    refused = run("policy", "set", "--max-holds", "0")
    assert refused.exit_code == 1 and "[max_holds]" in refused.output
