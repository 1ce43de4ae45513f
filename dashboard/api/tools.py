"""Tools and loans: the open tool board and histories (public), and open loans (stewards)."""

from __future__ import annotations

from datetime import datetime

from dashboard.database import reading
from hub.infra.clock import as_utc, utcnow
from hub.inventory import registry
from hub.inventory.registry import Tool
from hub.queries import loans, tools

from .blueprint import api
from .schemas import HistoryLine, LoanFilter, LoanList, LoanOut, ToolDetail, ToolList, ToolOut

ID = "<int(min=1, max=2147483647):tool_id>"


@api.operation("GET", "/tools", response=ToolList, tag="tools", public=True)
def list_tools() -> ToolList:
    """List every tool with its status and home locker, by kiosk and slot.

    Public, like the tool board at the shed: open records need no sign-in.
    """
    with reading() as db:
        board = tools.tool_board(db)
    return ToolList(tools=[tool_out(row.tool, row.kiosk_id, row.slot) for row in board])


@api.operation("GET", f"/tools/{ID}", response=ToolDetail, tag="tools", public=True)
def show_tool(tool_id: int) -> ToolDetail:
    """Show one tool and its loan history, newest first.

    Public (open records): the history names borrowers by member number, never by name.
    """
    with reading() as db:
        tool = registry.get_tool(db, tool_id)
        kiosk_id, slot = tools.home_of(db, tool)
        history = loans.loan_history(db, tool.id)
    return ToolDetail(
        **tool_out(tool, kiosk_id, slot).model_dump(),
        history=[_history_line(row) for row in history],
    )


@api.operation("GET", "/loans", query=LoanFilter, response=LoanList, tag="loans")
def list_loans(query: LoanFilter) -> LoanList:
    """List open loans (``state=open``) or only the overdue ones, soonest due first.

    Stewards only: a loan list says who holds what now.
    """
    now = utcnow()
    with reading() as db:
        if query.state == "overdue":
            rows = loans.overdue_loans(db, now=now)
        else:
            rows = loans.open_loans(db)
    return LoanList(loans=[_loan_out(row, now) for row in rows])


def tool_out(tool: Tool, kiosk_id: str | None, slot: int | None) -> ToolOut:
    """Return a tool as the board shows it."""
    return ToolOut(
        id=tool.id,
        code=tool.code,
        name=tool.name,
        category=tool.category,
        status=tool.status,
        status_reason=tool.status_reason,
        kiosk_id=kiosk_id,
        slot=slot,
        loan_days=tool.loan_days,
    )


def _history_line(row: loans.HistoryRow) -> HistoryLine:
    loan = row.loan
    return HistoryLine(
        loan_id=loan.id,
        member_number=row.member_number,
        out_at=loan.out_at,
        due_at=loan.due_at,
        returned_at=loan.returned_at,
        return_condition=loan.return_condition,
    )


def _loan_out(row: loans.LoanRow, now: datetime) -> LoanOut:
    loan = row.loan
    return LoanOut(
        id=loan.id,
        tool_id=loan.tool_id,
        tool_code=row.tool_code,
        member_id=loan.member_id,
        member_number=row.member_number,
        out_at=loan.out_at,
        due_at=loan.due_at,
        overdue=as_utc(loan.due_at) < now,
    )
