"""Tools as people read them: the board by kiosk and locker, a tool's home, what is broken."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from sqlmodel import Session, select

from hub.inventory.registry import Locker, Tool, ToolStatus
from hub.maintenance.models import LIVE_STATUSES, Ticket


class BoardRow(NamedTuple):
    """A tool and its home locker (None, None when it has none)."""

    tool: Tool
    kiosk_id: str | None
    slot: int | None


@dataclass(frozen=True)
class BrokenTool:
    """A tool out of service, where it lives, and the live tickets that explain why."""

    tool: Tool
    kiosk_id: str | None
    slot: int | None
    tickets: list[Ticket]


def tool_board(session: Session) -> list[BoardRow]:
    """Return every tool with its home kiosk and slot, by kiosk, slot and code."""
    query = (
        select(Tool, Locker.kiosk_id, Locker.slot)
        .join(Locker, Tool.locker_id == Locker.id, isouter=True)
        .order_by(Locker.kiosk_id, Locker.slot, Tool.code)
    )
    return [BoardRow(*row) for row in session.exec(query)]


def home_of(session: Session, tool: Tool) -> tuple[str | None, int | None]:
    """Return the kiosk and slot of a tool's home locker, or (None, None) if it has none."""
    locker = session.get(Locker, tool.locker_id) if tool.locker_id else None
    return (locker.kiosk_id, locker.slot) if locker else (None, None)


def out_of_service(session: Session) -> list[BrokenTool]:
    """Return tools out of service with their home locker and live tickets, by code."""
    query = (
        select(Tool, Locker.kiosk_id, Locker.slot)
        .join(Locker, Tool.locker_id == Locker.id, isouter=True)
        .where(Tool.status == ToolStatus.OUT_OF_SERVICE)
        .order_by(Tool.code)
    )
    rows = session.exec(query).all()
    ids = [tool.id for tool, _, _ in rows]
    tickets: dict[int, list[Ticket]] = {}
    if ids:
        live = select(Ticket).where(Ticket.tool_id.in_(ids), Ticket.status.in_(LIVE_STATUSES))
        for ticket in session.exec(live.order_by(Ticket.opened_at)):
            tickets.setdefault(ticket.tool_id, []).append(ticket)
    return [BrokenTool(tool, kiosk, slot, tickets.get(tool.id, [])) for tool, kiosk, slot in rows]
