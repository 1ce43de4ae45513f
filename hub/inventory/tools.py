"""A steward's doors on tools: add, edit, move to another locker, retire, rename a category.

Each takes the acting member first, checks they are a steward (``hub.members.ranks``), and
writes its audit entry (``registry``'s actions) in the caller's transaction, so the page, the
API and the CLI change and record a tool alike.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any, Final

from sqlmodel import Session, select

from hub.errors import Conflict, InvalidInput, NotFound, ToolUnavailable
from hub.infra import audit
from hub.inventory import registry
from hub.inventory.registry import (
    CATEGORY_RENAME,
    TOOL_ADD,
    TOOL_EDIT,
    TOOL_MOVE,
    TOOL_RETIRE,
    Locker,
    Tool,
    ToolStatus,
)
from hub.members.ranks import Actor, require_role
from hub.members.roster import NAME_MAX, NOTE_MAX, Role, clean_text, training_by_code
from hub.wire import parse_loan_days

EDITABLE: Final = frozenset({"name", "category", "training", "notes", "loan_days"})


def target_of(tool: Tool) -> str:
    """Name a tool in the audit log."""
    return f"tool:{tool.code}"


def add_tool(session: Session, actor: Actor, **fields: Any) -> Tool:
    """Add a tool (``registry.new_tool``'s fields: code, name, category, kiosk_id and slot of
    its home locker, training, loan_days, notes); audited."""
    require_role(actor, Role.STEWARD, "add a tool")
    tool = registry.new_tool(session, **fields)
    with audited(session, actor, TOOL_ADD, tool):
        session.add(tool)
    return tool


def edit_tool(session: Session, actor: Actor, tool_id: int, **changes: Any) -> Tool:
    """Change a tool's name, category, required training (a code, or None for none), notes
    or loan days: only those given; audited. Nothing changed is recorded as nothing."""
    require_role(actor, Role.STEWARD, "edit a tool")
    unknown = sorted(set(changes) - EDITABLE)
    if unknown:
        raise InvalidInput(f"A tool has no editable field {unknown[0]}.", field=unknown[0])
    tool = registry.get_tool(session, tool_id)
    wanted = _checked_changes(session, changes)
    if all(getattr(tool, name) == value for name, value in wanted.items()):
        return tool
    with audited(session, actor, TOOL_EDIT, tool):
        for name, value in wanted.items():
            setattr(tool, name, value)
        session.add(tool)
    return tool


def _checked_changes(session: Session, changes: dict[str, Any]) -> dict[str, Any]:
    """Return ``changes`` as the tool's columns hold them, each checked against its rule."""
    wanted: dict[str, Any] = {}
    if "name" in changes:
        wanted["name"] = clean_text(changes["name"], "name", limit=NAME_MAX)
    if "category" in changes:
        wanted["category"] = registry.parse_category(changes["category"])
    if "training" in changes:
        code = (changes["training"] or "").strip()
        wanted["training_id"] = training_by_code(session, code).id if code else None
    if "notes" in changes:
        wanted["notes"] = clean_text(changes["notes"], "notes", limit=NOTE_MAX, required=False)
    if "loan_days" in changes:
        wanted["loan_days"] = parse_loan_days(changes["loan_days"])
    return wanted


def move_tool(session: Session, actor: Actor, tool_id: int, kiosk_id: str, slot: int) -> Tool:
    """Make locker ``slot`` of kiosk ``kiosk_id`` the tool's home; audited.

    Refused for a kiosk or locker that does not exist, a locker another tool lives in, and a
    retired tool. Moving a tool to the locker it is in changes nothing.
    """
    require_role(actor, Role.STEWARD, "move a tool")
    tool = registry.get_tool(session, tool_id)
    if tool.status == ToolStatus.RETIRED:
        raise ToolUnavailable(f"Tool {tool.code} is retired.", field="tool_id")
    locker = registry.find_locker(session, kiosk_id, slot)
    if locker is not None and locker.id == tool.locker_id:
        return tool
    before = _home_of(session, tool.locker_id)
    locker = registry.free_locker(session, kiosk_id, slot)
    with audited(session, actor, TOOL_MOVE, tool) as notes:
        tool.locker_id = locker.id
        session.add(tool)
        notes.update({"from": before, "to": f"{locker.kiosk_id}/{locker.slot}"})
    return tool


def _home_of(session: Session, locker_id: int | None) -> str | None:
    locker = session.get(Locker, locker_id) if locker_id else None
    return f"{locker.kiosk_id}/{locker.slot}" if locker else None


def retire_tool(session: Session, actor: Actor, tool_id: int, reason: str) -> Tool:
    """Retire a tool for good, with a reason; it keeps its history but leaves its locker.

    A tool on loan is refused until it is back. Retiring a retired tool changes nothing.
    """
    require_role(actor, Role.STEWARD, "retire a tool")
    tool = registry.get_tool(session, tool_id)
    if tool.status == ToolStatus.ON_LOAN:
        # NOTE: a conflict (409), not a rule: the tool's state forbids it until it is back.
        raise Conflict(f"Tool {tool.code} is on loan; retire it once it is back.", field="tool_id")
    why = clean_text(reason, "reason", limit=NOTE_MAX)
    if tool.status == ToolStatus.RETIRED:
        return tool
    with audited(session, actor, TOOL_RETIRE, tool) as notes:
        notes["home"] = _home_of(session, tool.locker_id)
        tool.status, tool.status_reason, tool.locker_id = ToolStatus.RETIRED, why, None
        session.add(tool)
    return tool


def categories(session: Session) -> list[str]:
    """Return every category a tool is in, alphabetically."""
    query = select(Tool.category).distinct().order_by(Tool.category)
    return list(session.exec(query))


def rename_category(session: Session, actor: Actor, old: str, new: str) -> int:
    """Move every tool of category ``old`` to ``new`` (merging if ``new`` is in use); audited.

    Return how many tools moved. A category no tool is in is refused.
    """
    require_role(actor, Role.STEWARD, "rename a category")
    old, new = registry.parse_category(old, "category"), registry.parse_category(new, "new_name")
    renamed = list(session.exec(select(Tool).where(Tool.category == old)))
    if not renamed:
        raise NotFound(f"No tool is in category {old!r}.", field="category")
    count = len(renamed)
    if old != new:
        # NOTE: row by row through the ORM, not one UPDATE: a tool is kiosk-visible, and the
        # sync version moves on ORM changes only.
        for tool in renamed:
            tool.category = new
            session.add(tool)
        audit.record(
            session,
            actor_member_id=actor.id,
            action=CATEGORY_RENAME.name,
            target=f"category:{new}",
            before={"category": old},
            after={"category": new, "tools": count},
        )
    return count


def audited(
    session: Session, actor: Actor, action: audit.Action, tool: Tool
) -> AbstractContextManager[dict[str, Any]]:
    """Record ``action`` on ``tool`` (``hub.infra.audit.audited``), named by its code."""
    return audit.audited(session, actor, action, tool, target_of(tool))
