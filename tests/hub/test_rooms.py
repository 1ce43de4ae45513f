"""The hub's rooms lean one way: what hub/__init__.py promises about imports holds."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

HUB = Path(__file__).resolve().parents[2] / "hub"
DOMAIN = ["members", "inventory", "loans", "maintenance", "timebank", "bookings"]


def hub_imports(room: str) -> set[str]:
    """Return the hub modules that any module of ``room`` imports (at any depth)."""
    found: set[str] = set()
    for path in (HUB / room).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                found.add(node.module)
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
    return {name for name in found if name.startswith("hub.")}


@pytest.mark.parametrize("room", DOMAIN)
def test_a_domain_room_imports_neither_the_read_model_nor_the_worker(room):
    leaning = {name for name in hub_imports(room) if name.startswith(("hub.queries", "hub.worker"))}
    assert leaning == set()


def test_infra_knows_no_domain():
    assert {name for name in hub_imports("infra") if not name.startswith("hub.infra")} == set()


def test_every_room_says_what_its_modules_are_for():
    for init in HUB.glob("*/__init__.py"):
        doc = ast.get_docstring(ast.parse(init.read_text())) or ""
        modules = {path.stem for path in init.parent.glob("*.py")} - {"__init__"}
        missing = {name for name in modules if f"``{name}``" not in doc}
        assert missing == set(), f"{init.parent.name}/__init__.py does not name {missing}"
