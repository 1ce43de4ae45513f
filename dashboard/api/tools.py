"""Tools and loans: the open tool board and histories (public); open loans, conflicts and a
steward's corrections (stewards)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from dashboard.auth import acting_member, current_member
from dashboard.database import reading, transaction
from hub.infra.clock import as_utc, utcnow
from hub.inventory import registry
from hub.inventory import tools as tool_doors
from hub.inventory.registry import Tool
from hub.loans import corrections
from hub.loans.records import Loan
from hub.members.roster import Member
from hub.queries import loans, tools

from .blueprint import api
from .inventory_schemas import (
    CategoryRename,
    CategoryRenamed,
    NewTool,
    ToolChanges,
    ToolMove,
    ToolRecord,
    ToolRetirement,
)
from .schemas import (
    ConflictResolution,
    HistoryLine,
    LoanCorrection,
    LoanFilter,
    LoanList,
    LoanOut,
    ToolDetail,
    ToolList,
    ToolOut,
)

ID = "<int(min=1, max=2147483647):tool_id>"
LOAN_ID = "<int(min=1, max=2147483647):loan_id>"


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


@api.operation(
    "POST",
    "/tools",
    body=NewTool,
    response=ToolRecord,
    status=201,
    refusals=(404, 409),
    tag="tools",
)
def add_tool(body: NewTool) -> ToolRecord:
    """Add a tool, optionally in a free home locker and needing a training.

    A code already in use, or a home locker another tool lives in, is a conflict (409); an
    unknown kiosk, locker or training is 404. Stewards only; audited.
    """
    with transaction() as db:
        tool = tool_doors.add_tool(db, acting_member(), **body.model_dump())
        return tool_record(db, tool)


@api.operation(
    "PATCH", f"/tools/{ID}", body=ToolChanges, response=ToolRecord, refusals=(404,), tag="tools"
)
def edit_tool(tool_id: int, body: ToolChanges) -> ToolRecord:
    """Change a tool's name, category, required training, loan days or notes.

    Only the fields sent change. Stewards only; audited.
    """
    with transaction() as db:
        tool = tool_doors.edit_tool(
            db, acting_member(), tool_id, **body.model_dump(exclude_unset=True)
        )
        return tool_record(db, tool)


@api.operation(
    "POST", f"/tools/{ID}/move", body=ToolMove, response=ToolRecord, refusals=(409,), tag="tools"
)
def move_tool(tool_id: int, body: ToolMove) -> ToolRecord:
    """Make another locker the tool's home.

    An unknown kiosk or locker is 404 (``field`` names which); a locker another tool lives in
    is a conflict (409); a retired tool is refused (422). Stewards only; audited.
    """
    with transaction() as db:
        tool = tool_doors.move_tool(db, acting_member(), tool_id, body.kiosk_id, body.slot)
        return tool_record(db, tool)


@api.operation(
    "POST",
    f"/tools/{ID}/retire",
    body=ToolRetirement,
    response=ToolRecord,
    refusals=(409,),
    tag="tools",
)
def retire_tool(tool_id: int, body: ToolRetirement) -> ToolRecord:
    """Retire a tool for good, with the reason; its locker is freed.

    A tool on loan is a conflict (409): retire it once it is back. Retiring a retired tool
    changes nothing. Stewards only; audited.
    """
    with transaction() as db:
        tool = tool_doors.retire_tool(db, acting_member(), tool_id, body.reason)
        return tool_record(db, tool)


@api.operation(
    "POST",
    "/categories/rename",
    body=CategoryRename,
    response=CategoryRenamed,
    refusals=(404,),
    tag="tools",
)
def rename_category(body: CategoryRename) -> CategoryRenamed:
    """Move every tool of a category to another name (merging into it if it is in use).

    A category no tool is in is 404. Stewards only; audited.
    """
    with transaction() as db:
        count = tool_doors.rename_category(db, acting_member(), body.category, body.new_name)
    return CategoryRenamed(category=body.new_name.strip().lower(), tools=count)


def tool_record(db: Session, tool: Tool) -> ToolRecord:
    """Return a tool as its write operations answer it."""
    kiosk_id, slot = tools.home_of(db, tool)
    training = registry.required_training(db, tool)
    return ToolRecord(
        id=tool.id,
        code=tool.code,
        name=tool.name,
        category=tool.category,
        status=tool.status,
        status_reason=tool.status_reason,
        kiosk_id=kiosk_id,
        slot=slot,
        training=training.code if training else None,
        loan_days=tool.loan_days,
        notes=tool.notes,
    )


@api.operation("GET", "/loans", query=LoanFilter, response=LoanList, tag="loans")
def list_loans(query: LoanFilter) -> LoanList:
    """List open loans (``state=open``), only the overdue ones, soonest due first, or the
    conflicts a steward must resolve (``state=conflict``), oldest first.

    Stewards only: a loan list says who holds what now.
    """
    now = utcnow()
    with reading() as db:
        if query.state == "conflict":
            return LoanList(loans=[_conflict_out(row, now) for row in loans.conflicts(db)])
        if query.state == "overdue":
            rows = loans.overdue_loans(db, now=now)
        else:
            rows = loans.open_loans(db)
    return LoanList(loans=[_loan_out(row, now) for row in rows])


@api.operation(
    "POST",
    f"/loans/{LOAN_ID}/resolve",
    body=ConflictResolution,
    response=LoanOut,
    refusals=(404, 409),
    tag="loans",
)
def resolve_loan_conflict(loan_id: int, body: ConflictResolution) -> LoanOut:
    """Resolve a loan conflict after checking the locker: keep the new loan (the earlier one
    ends now) or the earlier one (the conflicting loan never happened).

    A loan not in conflict is a conflict (409). Stewards only; audited with the reason.
    """
    with transaction() as db:
        loan = corrections.resolve_conflict(
            db, loan_id=loan_id, steward_id=_steward_id(), keep=body.keep, reason=body.reason
        )
        return _one_loan_out(db, loan)


@api.operation(
    "POST",
    f"/loans/{LOAN_ID}/end",
    body=LoanCorrection,
    response=LoanOut,
    refusals=(404, 409),
    tag="loans",
)
def end_loan(loan_id: int, body: LoanCorrection) -> LoanOut:
    """End an open loan that no return will close, at the hub's time, with the reason.

    A loan already closed is a conflict (409). Stewards only; audited with the reason.
    """
    with transaction() as db:
        loan = corrections.end_loan(
            db, loan_id=loan_id, steward_id=_steward_id(), reason=body.reason
        )
        return _one_loan_out(db, loan)


def _steward_id() -> int:
    member = current_member()
    assert member is not None and member.id is not None  # the API signs every steward in
    return member.id


def _one_loan_out(db: Session, loan: Loan) -> LoanOut:
    tool, member = db.get(Tool, loan.tool_id), db.get(Member, loan.member_id)
    row = loans.LoanRow(loan, tool.code if tool else "?", "", member.number if member else "?", "")
    return _loan_out(row, utcnow())


def _conflict_out(row: loans.ConflictRow, now: datetime) -> LoanOut:
    out = _loan_out(loans.LoanRow(row.loan, row.tool_code, "", row.member_number, ""), now)
    return out.model_copy(update={"conflict": row.summary})


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
        overdue=loan.returned_at is None and as_utc(loan.due_at) < now,
        returned_at=loan.returned_at,
        in_conflict=loan.in_conflict,
        conflict_of=loan.conflict_of,
        corrected_by=loan.corrected_by,
        correction_reason=loan.correction_reason,
    )
