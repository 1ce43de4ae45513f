"""The steward's header search: members by name, number or card, tools by code or name."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from hub.inventory.registry import Tool
from hub.members.roster import Member
from hub.queries.members import find_members

SEARCH_MAX = 100  # characters of a search; longer is a paste gone wrong


@dataclass(frozen=True)
class Found:
    """What a search found: members and tools, each list capped at ``limit``."""

    members: list[Member]
    tools: list[Tool]


def search(session: Session, text: str, *, limit: int = 25) -> Found:
    """Return the members and tools that ``text`` names (nothing for blank text)."""
    text = text.strip()[:SEARCH_MAX]
    if not text:
        return Found([], [])
    return Found(find_members(session, text, limit=limit), find_tools(session, text, limit=limit))


def find_tools(session: Session, text: str, *, limit: int | None = None) -> list[Tool]:
    """Return tools whose code or name contains ``text`` (any case), by code."""
    pattern = f"%{text.strip()}%"
    query = select(Tool).where(col(Tool.code).ilike(pattern) | col(Tool.name).ilike(pattern))
    return list(session.exec(query.order_by(Tool.code).limit(limit)))
