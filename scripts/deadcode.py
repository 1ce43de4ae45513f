"""Find code of ours that nothing reaches: functions, methods, classes and imports no one uses.

Run by scripts/test. Vulture reads the packages only, never tests/, so a domain function that
only its tests call shows up: that is the point (every capability needs a door). What the
frameworks call by name (Flask views, click commands, pydantic validators...) is named in
scripts/deadcode_allow.py or matched by its decorator below.

    .venv/bin/python scripts/deadcode.py [PATH ...]   # default: the six packages
    .venv/bin/python scripts/deadcode.py --stale      # allow-list lines no longer needed

Exits 1 and lists the findings when there are any, 0 when there are none.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path
from typing import Any

import vulture

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("hub", "dashboard", "kiosk", "broker", "devices", "commonshed")
ALLOW_LIST = ROOT / "scripts" / "deadcode_allow.py"
# 60 is vulture's confidence for an unused function, method or class: any higher and the
# check would see only unused imports and unreachable lines.
MIN_CONFIDENCE = 60
# NOTE: unused variables and attributes are not reported: model fields (SQLModel, pydantic,
# dataclasses), Alembic's revision variables and JSON keys are read by name by a framework,
# and listing each would drown the findings that matter. Dead code shows up as the function
# or class that nothing calls.
REPORTED = frozenset({"function", "method", "class", "property", "import", "unreachable_code"})
EXCLUDED = ["*/migrations/versions/*"]  # Alembic loads these files by path
# Entry points that a framework calls by their decorator: routes, hooks, commands, validators.
FRAMEWORK_DECORATORS = [
    "@*.route",
    "@*.get",
    "@*.post",
    "@*.operation",  # dashboard.openapi: an API route
    "@*.before_request",
    "@*.before_app_request",
    "@*.after_request",
    "@*.errorhandler",
    "@*.app_errorhandler",
    "@*.context_processor",
    "@*.app_context_processor",
    "@*.app_template_filter",
    "@*.app_template_global",
    "@*.teardown_appcontext",
    "@*.command",  # click
    "@*.group",
    "@field_validator",  # pydantic
    "@model_validator",
    "@field_serializer",
    "@model_serializer",
    "@validator",
    "@root_validator",
    "@*.listens_for",  # SQLAlchemy events
    "@*.hookimpl",
]


class PackageVulture(vulture.Vulture):  # type: ignore[misc]
    """Vulture that does not count a package's ``__all__`` as a use of what it lists.

    ``__all__`` says what a package offers, not that anyone takes it: counting it would hide
    every re-exported function that only tests call (``hub.bookings.close_day``).
    """

    def visit_Assign(self, node: ast.Assign) -> None:
        return None


JINJA_CODE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)
IDENTIFIER = re.compile(r"[A-Za-z_]\w*")


def template_names(paths: list[str]) -> set[str]:
    """Return every name the Jinja templates under ``paths`` use (``board.no_shows``...).

    Templates are code too: a property only a page reads is used.
    """
    pages = (page for path in paths for page in Path(path).rglob("*.html"))
    return {
        name
        for page in pages
        for code in JINJA_CODE.findall(page.read_text(encoding="utf-8"))
        for name in IDENTIFIER.findall(code)
    }


ALLOWED_NAME = re.compile(r"^_\.(\w+)", re.MULTILINE)


def unused_items(paths: list[str], *, allow_list: bool = True) -> list[Any]:
    """Return vulture's unused items in ``paths`` of the kinds reported."""
    scan = PackageVulture(ignore_decorators=FRAMEWORK_DECORATORS)
    scan.scavenge([*paths, str(ALLOW_LIST)] if allow_list else paths, exclude=EXCLUDED)
    scan.used_names |= template_names(paths)
    unused = scan.get_unused_code(min_confidence=MIN_CONFIDENCE)
    return [item for item in unused if item.typ in REPORTED]


def findings(paths: list[str]) -> list[str]:
    """Return a line per unused item in ``paths``, as ``file:line: message``."""
    return [item.get_report(add_size=False) for item in unused_items(paths)]


def stale_allowances(paths: list[str]) -> list[str]:
    """Return the allow-list's names that nothing would report any more (a door reached them)."""
    unused = {item.name for item in unused_items(paths, allow_list=False)}
    allowed = ALLOWED_NAME.findall(ALLOW_LIST.read_text(encoding="utf-8"))
    return [name for name in allowed if name not in unused]


def main(argv: list[str]) -> int:
    """Print the findings in ``argv`` (default: the packages); exit 1 when there are any."""
    if argv[:1] == ["--stale"]:
        stale = stale_allowances(argv[1:] or [str(ROOT / package) for package in PACKAGES])
        print("\n".join(f"{ALLOW_LIST.name}: _.{name} is no longer needed" for name in stale))
        return 1 if stale else 0
    lines = findings(argv or [str(ROOT / package) for package in PACKAGES])
    for line in lines:
        print(line)
    if lines:
        print(
            f"\n{len(lines)} unused items. Give each a caller (a door: page, API or CLI) or "
            "delete it; only a framework entry point belongs in scripts/deadcode_allow.py."
        )
    return 1 if lines else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
