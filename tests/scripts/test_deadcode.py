"""scripts/deadcode.py: domain code that nothing but tests reaches fails the test command."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "deadcode.py"

PLANTED_RULES = '''
"""A domain module as a helper might leave it: one rule with a door, one without."""

__all__ = ["forgotten_rule", "reached_rule"]


def reached_rule(session, tool_id):
    return tool_id


def forgotten_rule(session, tool_id):
    """Only a test calls this."""
    return tool_id
'''
PLANTED_DOOR = """
from flask import Blueprint

from planted.rules import reached_rule

bp = Blueprint("planted", __name__)


@bp.post("/tools/<int:tool_id>/reach")
def reach(tool_id):
    return str(reached_rule(None, tool_id))
"""
PLANTED_TEST = """
from planted.rules import forgotten_rule


def test_forgotten_rule():
    assert forgotten_rule(None, 1) == 1
"""


def run_check(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def plant(tmp_path: Path) -> Path:
    """Write a small package and a test of it under ``tmp_path``; return the package."""
    package = tmp_path / "planted"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "rules.py").write_text(textwrap.dedent(PLANTED_RULES))
    (package / "doors.py").write_text(textwrap.dedent(PLANTED_DOOR))
    (tmp_path / "test_rules.py").write_text(textwrap.dedent(PLANTED_TEST))
    return package


def test_the_packages_have_no_unreached_code():
    checked = run_check()
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_a_domain_function_only_a_test_calls_fails_the_check(tmp_path):
    checked = run_check(plant(tmp_path))
    assert checked.returncode == 1, checked.stderr
    assert "rules.py:11: unused function 'forgotten_rule'" in checked.stdout
    # Listed in __all__ and called only from the test beside the package: still reported.
    assert "reached_rule" not in checked.stdout  # its door reaches it
    assert "'reach'" not in checked.stdout  # a Flask view is an entry point


def test_a_property_only_a_template_reads_is_used(tmp_path):
    package = tmp_path / "shown"
    (package / "templates").mkdir(parents=True)
    (package / "board.py").write_text(
        "class Board:\n    @property\n    def no_shows(self):\n        return 0\n\n\n"
        "class Unshown:\n    @property\n    def hidden(self):\n        return 0\n"
    )
    (package / "templates" / "board.html").write_text("<p>{{ board.no_shows }}</p>\n")
    checked = run_check(package)
    assert "no_shows" not in checked.stdout
    assert "unused property 'hidden'" in checked.stdout


def test_stale_lists_the_allowances_a_new_door_made_needless(tmp_path):
    door = tmp_path / "door"
    door.mkdir()
    (door / "acks.py").write_text(
        "from broker import messages\n\n\n"
        "def read_ack(payload):\n"
        "    return messages.decode_ack(payload)\n"
    )
    packages = [ROOT / name for name in ("hub", "dashboard", "kiosk", "broker", "devices")]
    packages.append(ROOT / "commonshed")
    assert run_check("--stale").returncode == 0  # today every line is needed
    checked = run_check(Path("--stale"), *packages, door)
    assert checked.returncode == 1
    assert checked.stdout.split("\n")[0] == (
        "deadcode_allow.py: _.decode_ack is no longer needed"
    ), checked.stdout
    assert "uid_from_bytes" not in checked.stdout
